#!/usr/bin/env bash
# Installs everything ctnn's build, tests, examples and benchmarks need on Debian 12 (run as root).
# Pass --with-torch to add Debian's PyTorch for the side-by-side comparison (large: ~1 GB).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  meson ninja-build g++ pkg-config cmake            # build
  libxtensor-dev libxsimd-dev zlib1g-dev            # the library's own dependencies
  doctest-dev libbenchmark-dev                      # tests, benchmarks
  python3 python3-numpy python3-protobuf protobuf-compiler  # independent decoders used by tests
  python3-onnx                                      # onnx 1.12's checker judges ctnn's ONNX export (tests/onnx)
  clang-19 libomp-19-dev                            # the ISA matrix's second compiler (tools/isa-matrix.sh)
  libclang-rt-19-dev                                # libFuzzer targets (tests/fuzz/run_fuzz.sh)
  qemu-user                                         # runs an AVX-512 build on an emulated CPU without it (tests/cpu)
  dataset-fashion-mnist                             # the examples' default data (/usr/share/datasets/fashion-mnist)
  # MPI for ctnn/distributed/ (its tests, mnist_mlp_mpi). The Recommends skipped here are Fortran
  # coarrays, hwloc plugins (a Depends anyway) and InfiniBand providers: none is needed on one host.
  # mpirun needs ssh even for local ranks: openssh-client comes as a Depends of openmpi-bin.
  openmpi-bin libopenmpi-dev
)
# Node runs ONNX Runtime for tests/onnx. A Node.js that is already installed (NodeSource's bundles npm)
# is kept: Debian's npm package would conflict with it.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# PyTorch links the reference BLAS unless OpenBLAS is installed: the comparison needs both.
if [[ "${1:-}" == "--with-torch" ]]; then packages+=(python3-torch libopenblas0-pthread); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all ${#packages[@]} packages present"

# ONNX Runtime 1.30 (CPU library bundled) for tests/onnx, from the npm registry into a fixed prefix
# outside the repository. --ignore-scripts: its install script would otherwise fetch GPU parts.
ort_prefix=${CTNN_ORT_DIR:-/opt/ctnn-ort}
ort_version=1.30.0
if [[ "$(node -p "require('$ort_prefix/node_modules/onnxruntime-node/package.json').version" 2>/dev/null)" != "$ort_version" ]]; then
  mkdir -p "$ort_prefix"
  npm install --prefix "$ort_prefix" --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ort_version"
fi
echo "install-deps: onnxruntime-node $ort_version in $ort_prefix"
