#!/bin/sh
# examples/check_mnist_mlp_mpi.sh MPIRUN EXE [DATA_DIR] — smoke test of mnist_mlp_mpi, end to end:
# short runs on 1, 2 and 4 ranks (4 oversubscribed on 2 cores) must each exit 0, print the score line
# exactly once (rank 0 alone prints), and save byte-identical weights: the deterministic reduction
# promises the same bits at any rank count, and this checks it through the whole example (data, fit,
# evaluate, .npz). A 2-rank run with --reduction allreduce must exit 0 and print once (its bits may
# differ from the others': that mode does not promise them).
# The same for --batch-norm 1 (BatchNormalization's batch statistics are per shard, its moving
# statistics summed over shards like gradients) on 1, 2 and 4 ranks, on fewer images; python3 with
# numpy then checks that its .npz holds both layers' moving_mean and moving_variance and that
# training moved them off their initial zeros and ones.
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
# Later flags win: the BatchNormalization network on half the images, one epoch (4 steps of 500).
run bn-1-rank 1 --batch-norm 1 --train-size 2000 --epochs 1
run bn-2-ranks 2 --batch-norm 1 --train-size 2000 --epochs 1
run bn-4-ranks 4 --batch-norm 1 --train-size 2000 --epochs 1

# same_as REFERENCE NAME: the printed History and score (6 and 4 significant digits) must agree, and
# the weights must agree to the last bit.
same_as() {
    for line in '^history = ' '^score = '; do
        if [ "$(grep "$line" "$work/out.$1")" != "$(grep "$line" "$work/out.$2")" ]; then
            echo "FAIL: '$line' differs between $1 and $2:"
            grep "$line" "$work/out.$1" "$work/out.$2"
            exit 1
        fi
    done
    if ! cmp "$work/weights.$1.npz" "$work/weights.$2.npz"; then
        echo "FAIL: --save-weights from $1 and from $2 differ; expected byte-identical files"
        exit 1
    fi
}
same_as 1-rank 2-ranks
same_as 1-rank 4-ranks
echo "OK: 1, 2 and 4 ranks saved byte-identical weights ($(wc -c <"$work/weights.1-rank.npz") bytes)"
same_as bn-1-rank bn-2-ranks
same_as bn-1-rank bn-4-ranks
echo "OK: --batch-norm 1: 1, 2 and 4 ranks saved byte-identical weights ($(wc -c <"$work/weights.bn-1-rank.npz") bytes)"

# The moving statistics are in the file, and trained: a network whose moving statistics were not
# saved, or never updated (still Keras's initial zeros and ones), passes the cmp above but not this.
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if ! "$python" -c 'import numpy' 2>/dev/null; then
    echo "FAIL: the .npz contents check needs python3 with numpy (Debian package python3-numpy)"
    exit 1
fi
"$python" - "$work/weights.bn-1-rank.npz" <<'PYTHON' || exit 1
import sys
import numpy as np

weights = np.load(sys.argv[1])
failures = []
for layer, channels in [("batch_normalization", 1000), ("batch_normalization_1", 500)]:
    for name, initial in [("moving_mean", 0.0), ("moving_variance", 1.0)]:
        key = f"{layer}/{name}"
        if key not in weights.files:
            failures.append(f"no '{key}' in the file (it holds {', '.join(weights.files)})")
            continue
        a = weights[key]
        if a.shape != (channels,) or not np.all(np.isfinite(a)):
            failures.append(f"'{key}': expected {channels} finite values, got shape {a.shape}")
        elif np.all(a == initial):
            failures.append(f"'{key}': every value is still the initial {initial}: not trained")
        else:
            print(f"{key}: {np.count_nonzero(a != initial)} of {channels} moved off {initial}, "
                  f"range [{a.min():.4g}, {a.max():.4g}]")
if failures:
    print("FAIL: " + "\nFAIL: ".join(failures))
    sys.exit(1)
PYTHON
echo "OK: --batch-norm 1 saved trained moving statistics"
