#!/bin/bash
# benchmarks/scaling_mpi.sh — data-parallel training of the reference MLP on this machine, side by
# side in one run: time per training step at batch 1000 and 128 for
#   plain 1x1        1 rank, 1 thread, plain fit (no data_parallel): the one-core baseline
#   plain 1x2        1 rank, 2 threads, plain fit (mnist_mlp)
#   det 1x2          1 rank, 2 threads, data_parallel deterministic, 8 shards
#   det 2x1          2 ranks, 1 thread each, deterministic, 8 shards
#   det 2x1 s2       the same with 2 shards (bit-identical at 1 and 2 ranks only)
#   allreduce 2x1    2 ranks, 1 thread each, GradientReduction::allreduce
# then the cost of the reduction alone (bench_allreduce) at 2 ranks and at 4 ranks oversubscribed.
#
#   benchmarks/scaling_mpi.sh [--build DIR] [--rounds 3] [--epochs 4] [--train-size 20000] [--data DIR]
#
# Each run is `mnist_mlp_mpi --timing 1`: the wall time of each epoch's batches (validation
# excluded); the first epoch is dropped (warm-up: allocation, first touches), the rest give a
# median per run, and the table shows the median over rounds of those. The settings alternate
# within each round so a change in the machine's load spreads over all of them.
# mpirun --bind-to none everywhere: Open MPI binds each rank to one core by default (np <= 2), which
# would leave a 1-rank, 2-thread run on one core.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
rounds=3
epochs=4
train_size=20000
data=/usr/share/datasets/fashion-mnist
while [ $# -gt 0 ]; do
    case "$1" in
        --build) build=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --train-size) train_size=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        *) echo "scaling_mpi.sh: unknown option '$1'; expected --build, --rounds, --epochs, --train-size or --data" >&2
           exit 2 ;;
    esac
done
if [ "$epochs" -lt 2 ]; then
    echo "scaling_mpi.sh: --epochs must be at least 2 (the first epoch is warm-up), got $epochs" >&2
    exit 2
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbenchmarks=true
fi
ninja -C "$build" -j2 examples/mnist_mlp_mpi benchmarks/bench_allreduce >&2
exe="$build/examples/mnist_mlp_mpi"

mpirun_flags=(--bind-to none)
[ "$(id -u)" = 0 ] && mpirun_flags+=(--allow-run-as-root)

# name ranks threads reduction shards
settings=(
    "plain 1x1|1|1|none|8"
    "plain 1x2|1|2|none|8"
    "det 1x2|1|2|deterministic|8"
    "det 2x1|2|1|deterministic|8"
    "det 2x1 s2|2|1|deterministic|2"
    "allreduce 2x1|2|1|allreduce|8"
)
batches=(1000 128)

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A results  # "setting|batch" -> one median epoch time per round, newline-separated
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# ctnn $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- include || echo ' + working tree'), train size $train_size, $epochs epochs (first dropped), $rounds rounds"
for ((round = 1; round <= rounds; ++round)); do
    for batch in "${batches[@]}"; do
        for setting in "${settings[@]}"; do
            IFS='|' read -r name ranks threads reduction shards <<<"$setting"
            line=$(OMP_NUM_THREADS=$threads mpirun "${mpirun_flags[@]}" --oversubscribe -np "$ranks" "$exe" \
                       --data "$data" --epochs "$epochs" --batch-size "$batch" --train-size "$train_size" \
                       --validation-size 1000 --verbose 0 --timing 1 --reduction "$reduction" --shards "$shards" |
                   grep '^epoch_seconds = ')
            epoch=$(echo "$line" | sed 's/.*\[//; s/\]//' | tr ',' '\n' | tail -n +2 | median)
            results["$name|$batch"]+="$epoch"$'\n'
            echo "round $round, batch $batch, $name: $line -> $epoch s" >&2
        done
    done
done

echo
echo "| setting | ranks x threads | batch 1000: ms/step | samples/s | batch 128: ms/step | samples/s |"
echo "|---|---|---:|---:|---:|---:|"
for setting in "${settings[@]}"; do
    IFS='|' read -r name ranks threads reduction shards <<<"$setting"
    [ "$reduction" = deterministic ] && reduction="deterministic, $shards shards"
    row="| $name ($reduction) | $ranks x $threads |"
    for batch in "${batches[@]}"; do
        epoch=$(printf '%s' "${results["$name|$batch"]}" | median)
        steps=$(( (train_size + batch - 1) / batch ))
        row+=$(awk -v e="$epoch" -v s="$steps" -v n="$train_size" '{} END { printf " %.2f | %.0f |", 1000 * e / s, n / e }' </dev/null)
    done
    echo "$row"
done

echo
echo "# bench_allreduce: 2 ranks, then 4 ranks oversubscribed on $(nproc) cores (each rank gets a share of a core)"
mpirun "${mpirun_flags[@]}" --oversubscribe -np 2 "$build/benchmarks/bench_allreduce"
mpirun "${mpirun_flags[@]}" --oversubscribe -np 4 "$build/benchmarks/bench_allreduce"
