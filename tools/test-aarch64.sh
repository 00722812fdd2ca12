#!/usr/bin/env bash
# AArch64 in CI: cross-builds with Debian's g++-aarch64-linux-gnu at -march=armv8-a (xsimd's NEON64
# path, -Werror, static executables), runs the kernel, layer and model unit tests under qemu-aarch64
# and builds the mnist_mlp example (built, not run: it trains on Fashion-MNIST for minutes); then
# the CRC-32C tests again at -march=armv8-a+crc.
# Installs what it needs as root (skipped when present). Exits non-zero on any build or test failure.
# Usage: tools/test-aarch64.sh [--build-dir DIR]   (default /tmp/arm-build, reused when it exists)
set -euo pipefail
cd "$(dirname "$0")/.."
build=/tmp/arm-build
while (($#)); do
  case "$1" in
    --build-dir) build="$2"; shift 2 ;;
    *) echo "tools/test-aarch64.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
start=$SECONDS
jobs=$(nproc)
export DEBIAN_FRONTEND=noninteractive
# Other jobs on the machine may hold dpkg's lock: wait for it rather than fail.
apt_get=(apt-get -o DPkg::Lock::Timeout=900)

echo "== aarch64: packages"
# zlib is the one library linked: its arm64 build. xtensor, xsimd, xtl and doctest are headers in
# /usr/include, which the cross g++ searches; the cross file shows meson their .pc files.
packages=(meson ninja-build pkg-config g++-aarch64-linux-gnu
          zlib1g-dev:arm64 libxtensor-dev libxsimd-dev xtl-dev doctest-dev)
# qemu-user-static's binary will do as well as qemu-user's.
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)
[[ -n "$qemu" ]] || packages+=(qemu-user)
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  need_update=1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  "${apt_get[@]}" update -qq
  "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"
elif [[ -n "${need_update:-}" ]]; then
  "${apt_get[@]}" update -qq
fi
qemu=$(command -v qemu-aarch64 || command -v qemu-aarch64-static)

echo "== aarch64: cross build in $build (-march=armv8-a, -O2, -Werror)"
cross_files=(--cross-file tools/cross/aarch64-linux-gnu.ini)
if [[ "$(basename "$qemu")" != qemu-aarch64 ]]; then
  # Later cross files override earlier ones: meson's sanity check runs through the qemu we have.
  printf "[binaries]\nexe_wrapper = ['%s', '-L', '/usr/aarch64-linux-gnu']\n" "$qemu" > "$build-exe-wrapper.ini"
  cross_files+=(--cross-file "$build-exe-wrapper.ini")
fi
# The cross pkg-config sees arm64 and architecture-independent .pc files only; of the host's, just
# the two header-only libraries (their .pc files name /usr/include and no library).
pcdir="$build-pkgconfig"
mkdir -p "$pcdir"
for p in xtensor xsimd; do ln -sf "$(pkg-config --variable=pcfiledir "$p")/$p.pc" "$pcdir/$p.pc"; done
if [[ -f "$build/build.ninja" && ! -f "$build/cross-file.ini" ]]; then
  echo "tools/test-aarch64.sh: $build is a meson build directory this script did not set up" >&2; exit 2
fi
# A build directory set up from another version of the cross file starts afresh.
if [[ -f "$build/build.ninja" ]] && ! cmp -s tools/cross/aarch64-linux-gnu.ini "$build/cross-file.ini"; then
  rm -rf "$build"
fi
if [[ ! -f "$build/build.ninja" ]]; then
  # -Dnative=false: -march=native would name the x86 build machine; the cross file sets -march.
  # -O2 as in tools/test.sh's release suite. -Dmpi=disabled: the MPI tests need mpirun, which
  # cannot start ranks under qemu-user (their logic is in the thread-rank unit tests, run natively).
  meson setup "$build" "${cross_files[@]}" -Dpkg_config_path="$pcdir" -Doptimization=2 -Dwerror=true \
    -Dnative=false -Dbenchmarks=false -Dmpi=disabled
  cp tools/cross/aarch64-linux-gnu.ini "$build/cross-file.ini"
fi
tests=(kernels layers model)
targets=()
for t in "${tests[@]}"; do targets+=("tests/test_$t"); done
ninja -C "$build" -j "$jobs" "${targets[@]}" examples/mnist_mlp
echo "== aarch64: built after $((SECONDS - start)) s"

# qemu-user cannot fork a process whose threads it emulates (its own assertion fails in the child), nor
# run the re-exec'd test binary without binfmt: the thread team's fork and exit cases run natively (the
# release and sanitizer suites, the ISA matrix), not here.
not_under_qemu="a forked child*,a program exits*"
failed=()
for t in "${tests[@]}"; do
  echo "== aarch64: test_$t under $(basename "$qemu")"
  t0=$SECONDS
  args=()
  if [[ $t == kernels ]]; then
    args=(--test-case-exclude="$not_under_qemu")
    echo "== test_$t: not run under qemu-user (fork / re-exec; run natively instead): $not_under_qemu"
  fi
  if ! "$qemu" -L /usr/aarch64-linux-gnu "$build/tests/test_$t" "${args[@]}"; then failed+=("test_$t"); fi
  echo "== test_$t: $((SECONDS - t0)) s"
done
# The CRC-32C tests once more with the ARMv8 crc32c instructions (optional in ARMv8.0, so not in the
# build above): a few seconds, linked with the build's doctest runner.
echo "== aarch64: tests/io/test_crc32c.cpp at -march=armv8-a+crc under $(basename "$qemu")"
aarch64-linux-gnu-g++ -std=c++20 -O2 -march=armv8-a+crc -static -Wall -Wextra -Wpedantic -Werror \
  -DCTNN_ENABLE_ASSERT=1 -Iinclude -Itests tests/io/test_crc32c.cpp "$build/tests/libdoctest_main.a" \
  -o "$build/test_crc32c_armv8_crc"
if ! "$qemu" "$build/test_crc32c_armv8_crc"; then failed+=("test_crc32c (armv8-a+crc)"); fi
# The test names only the SSE4.2 path: make sure this build really ran the instructions, not the table.
# (grep reads it all: with -q, objdump's SIGPIPE would fail the pipeline.)
if ! aarch64-linux-gnu-objdump -d "$build/test_crc32c_armv8_crc" | grep -E '\scrc32cx\s' > /dev/null; then
  echo "test_crc32c (armv8-a+crc): no crc32cx instruction in the executable"
  failed+=("test_crc32c (armv8-a+crc): ARMv8 path not compiled")
fi

if ((${#failed[@]})); then
  echo "== aarch64: FAILED: ${failed[*]} (after $((SECONDS - start)) s)"
  exit 1
fi
echo "== aarch64: all passed in $((SECONDS - start)) s"
