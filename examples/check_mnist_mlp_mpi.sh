#!/bin/sh
# examples/check_mnist_mlp_mpi.sh MPIRUN EXE [DATA_DIR] — smoke test of mnist_mlp_mpi, end to end:
# short runs on 1, 2 and 4 ranks (4 oversubscribed on 2 cores) must each exit 0, print the score line
# exactly once (rank 0 alone prints), and save byte-identical weights: the deterministic reduction
# promises the same bits at any rank count, and this checks it through the whole example (data, fit,
# evaluate, .npz). A 2-rank run with --reduction allreduce must exit 0 and print once (its bits may
# differ from the others': that mode does not promise them).
# Exits 77 (meson: skipped) when the data set is not installed.
set -u
mpirun=$1
exe=$2
data=${3:-/usr/share/datasets/fashion-mnist}

if [ ! -e "$data/train-images-idx3-ubyte" ] && [ ! -e "$data/train-images-idx3-ubyte.gz" ]; then
    echo "skipped: no MNIST IDX files in $data (Debian package dataset-fashion-mnist)"
    exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Root, oversubscription and the one-host transports, as the MPI tests start their jobs.
# shellcheck source=tests/distributed/mpi/openmpi_env.sh
. "$(dirname "$0")/../tests/distributed/mpi/openmpi_env.sh"

# A small subset keeps the run to a few seconds; one thread per rank keeps 2 ranks on 2 cores.
# run NAME RANKS [FLAGS...]: writes $work/out.NAME and $work/weights.NAME.npz.
export OMP_NUM_THREADS=1
run() {
    name=$1
    ranks=$2
    shift 2
    out=$work/out.$name
    # shellcheck disable=SC2086  # mpirun_flags is a list of words
    OMP_NUM_THREADS=1 "$mpirun" $mpirun_flags -np "$ranks" "$exe" --data "$data" \
        --epochs 2 --batch-size 500 --train-size 4000 --validation-size 1000 --verbose 0 \
        --save-weights "$work/weights.$name.npz" "$@" >"$out" 2>"$work/err.$name"
    status=$?
    if [ $status -ne 0 ]; then
        echo "FAIL: $name: mpirun -np $ranks exited with $status, expected 0; stderr:"
        cat "$work/err.$name"
        exit 1
    fi
    scores=$(grep -c '^score = \[' "$out")
    if [ "$scores" -ne 1 ]; then
        echo "FAIL: $name: expected one 'score = [...]' line (rank 0 only) from $ranks rank(s), got $scores; stdout:"
        cat "$out"
        exit 1
    fi
    echo "$name: $(grep '^score = ' "$out")"
}

run 1-rank 1
run 2-ranks 2
run 4-ranks 4
run 2-ranks-allreduce 2 --reduction allreduce

# Against 1 rank: the printed History and score (6 and 4 significant digits) must agree, and the
# weights must agree to the last bit.
for name in 2-ranks 4-ranks; do
    for line in '^history = ' '^score = '; do
        if [ "$(grep "$line" "$work/out.1-rank")" != "$(grep "$line" "$work/out.$name")" ]; then
            echo "FAIL: '$line' differs between 1-rank and $name:"
            grep "$line" "$work/out.1-rank" "$work/out.$name"
            exit 1
        fi
    done
    if ! cmp "$work/weights.1-rank.npz" "$work/weights.$name.npz"; then
        echo "FAIL: --save-weights from 1 rank and from $name differ; expected byte-identical files"
        exit 1
    fi
done
echo "OK: 1, 2 and 4 ranks saved byte-identical weights ($(wc -c <"$work/weights.1-rank.npz") bytes)"
