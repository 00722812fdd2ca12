#!/bin/sh
# benchmarks/compare.sh — ctnn vs PyTorch on the reference MNIST MLP, in one command: builds the two
# ctnn programs it needs, then runs benchmarks/compare_pytorch.py, which prints
# `metric | ctnn | PyTorch | ratio | target`. Needs Debian's python3-torch (and, for a fair PyTorch,
# an optimized BLAS such as libopenblas0-pthread: with the reference libblas3 PyTorch is many times slower).
#
#   benchmarks/compare.sh [--build DIR] [--accuracy] [--epochs 10] [--rounds 2] [--threads 1,2]
#                         [--markdown PATH] [--json PATH] [--data DIR]
# Default build dir: ./build (configured with -Dbenchmarks=true if it does not exist yet).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
if [ "${1:-}" = "--build" ]; then
    build=$2
    shift 2
fi
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbenchmarks=true
fi
ninja -C "$build" -j2 benchmarks/versus_ctnn examples/mnist_mlp >&2
exec /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" --build "$build" "$@"
