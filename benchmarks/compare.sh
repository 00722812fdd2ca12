#!/bin/sh
# benchmarks/compare.sh — ctnn vs PyTorch on the reference MNIST MLP, in one command: builds the two
# ctnn programs it needs, then runs benchmarks/compare_pytorch.py, which prints
# `metric | ctnn | PyTorch | ratio | target`. Needs Debian's python3-torch (and, for a fair PyTorch,
# an optimized BLAS such as libopenblas0-pthread: with the reference libblas3 PyTorch is many times slower).
# --model convnet (or --convnet): the same for Keras's simple MNIST convnet; --model resnet: for
# examples/fashion_resnet's ResNet-20; --model addition: for examples/addition_rnn's LSTM encoder-decoder
# (Keras's addition seq2seq; --rnn gru|simple for its other recurrent layers); --model both: the MLP and convnet
# tables; --model all: the four.
#
#   benchmarks/compare.sh [--build DIR] [--model mlp|convnet|resnet|addition|both|all] [--accuracy]
#                         [--epochs 10|15|12|20] [--rounds 2] [--threads 1,2] [--markdown PATH] [--json PATH]
#                         [--data DIR] [--rnn lstm|gru|simple]
# Default build dir: ./build (configured with -Dbenchmarks=true if it does not exist yet).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
if [ "${1:-}" = "--build" ]; then
    build=$2
    shift 2
fi
model=mlp
previous=
for arg in "$@"; do
    case "$arg" in
        --convnet) model=convnet ;;
        --model=*) model=${arg#--model=} ;;
    esac
    if [ "$previous" = "--model" ]; then model=$arg; fi
    previous=$arg
done
case "$model" in
    mlp) targets="benchmarks/versus_ctnn examples/mnist_mlp" ;;
    convnet) targets="benchmarks/versus_ctnn_convnet examples/mnist_convnet" ;;
    resnet) targets="benchmarks/versus_ctnn_resnet examples/fashion_resnet" ;;
    addition) targets="benchmarks/versus_ctnn_addition examples/addition_rnn" ;;
    both) targets="benchmarks/versus_ctnn examples/mnist_mlp benchmarks/versus_ctnn_convnet examples/mnist_convnet" ;;
    all) targets="benchmarks/versus_ctnn examples/mnist_mlp benchmarks/versus_ctnn_convnet examples/mnist_convnet
                  benchmarks/versus_ctnn_resnet examples/fashion_resnet
                  benchmarks/versus_ctnn_addition examples/addition_rnn" ;;
    *) echo "compare.sh: --model takes mlp, convnet, resnet, addition, both or all, found '$model'" >&2; exit 2 ;;
esac
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$root" -Dbenchmarks=true
fi
# shellcheck disable=SC2086  # $targets is a list of ninja targets
ninja -C "$build" -j2 $targets >&2
exec /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" --build "$build" "$@"
