#!/usr/bin/env bash
# The whole test suite, as CI runs it: install dependencies, build with -Werror, run every test
# (unit, compile-fail, examples, install, independent-tool checks, and the MPI programs under mpirun
# when meson finds MPI: suite 'mpi', a few seconds), then the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, then the instruction-set matrix (every x86-64 level
# with g++ and clang++, tools/isa-matrix.sh), the AArch64 cross build with its unit tests under
# qemu (tools/test-aarch64.sh), and every libFuzzer target for a bounded time (the targets run side
# by side: three 30 s targets take about 45 s on two cores).
# Usage: tools/test.sh [--fuzz-seconds N] [--no-sanitizers] [--no-matrix] [--no-aarch64]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=30
sanitizers=1
matrix=1
aarch64=1
while (($#)); do
  case "$1" in
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --no-sanitizers) sanitizers=0; shift ;;
    --no-matrix) matrix=0; shift ;;
    --no-aarch64) aarch64=0; shift ;;
    *) echo "tools/test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
start=$SECONDS
jobs=$(nproc)

tools/install-deps.sh
# install-deps.sh installed ONNX Runtime: its check (tests/onnx, suite 'onnx') must run, not skip.
export CTNN_REQUIRE_ORT=1

echo "== build and test (release at -O2, -Werror)"
# -O2, not the release default -O3: the same tests in two thirds of the compile time (the build is
# most of this script's time). Its own directory, so that `build` (examples, benchmarks) keeps -O3.
# -Dwerror=true here only: warnings are errors in CI's builds, never in a user's.
[[ -d build-test ]] || meson setup build-test -Doptimization=2 -Dwerror=true
ninja -C build-test -j "$jobs"
meson test -C build-test --print-errorlogs --num-processes "$jobs"
echo "== release suite done after $((SECONDS - start)) s"

if ((sanitizers)); then
  # -O0 without debug info: a third of -O1's compile time under ASan+UBSan (the whole suite builds in
  # about three minutes on two cores), and every check still runs.
  echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (halt_on_error)"
  [[ -d build-sanitize ]] || meson setup build-sanitize -Dbuildtype=custom -Doptimization=0 -Ddebug=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dexamples=false -Dwerror=true
  ninja -C build-sanitize -j "$jobs"
  # The mpi suite runs here too, with LeakSanitizer off for its programs only (Open MPI leaks at
  # exit; tests/distributed/mpi/meson.build): memory errors and undefined behaviour still fail them.
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --num-processes "$jobs" --no-suite compile_fail --no-suite install
  echo "== sanitizer suite done after $((SECONDS - start)) s"
fi

if ((matrix)); then
  echo "== instruction-set matrix (x86-64 .. x86-64-v4, g++ and clang++-19)"
  tools/isa-matrix.sh
  echo "== matrix done after $((SECONDS - start)) s"
fi

if ((aarch64)); then
  echo "== AArch64: cross build, unit tests under qemu"
  tools/test-aarch64.sh --build-dir build-aarch64
  echo "== aarch64 done after $((SECONDS - start)) s"
fi

if ((fuzz_seconds > 0)); then
  echo "== fuzzing, ${fuzz_seconds} s per target, targets side by side"
  pids=()
  for src in tests/fuzz/fuzz_*.cpp; do
    target=$(basename "$src" .cpp); target=${target#fuzz_}
    tests/fuzz/run_fuzz.sh --seconds "$fuzz_seconds" "$target" > "/tmp/ctnn-fuzz-$target.log" 2>&1 &
    pids+=("$!:$target")
  done
  failed=0
  for entry in "${pids[@]}"; do
    if ! wait "${entry%%:*}"; then failed=1; cat "/tmp/ctnn-fuzz-${entry#*:}.log"; fi
    sed -n '/^== summary/,$p' "/tmp/ctnn-fuzz-${entry#*:}.log" | grep -E '^fuzz ' || true
  done
  ((failed == 0)) || { echo "fuzzing found a crash (inputs in tests/fuzz/findings/)"; exit 1; }
fi
# One plain summary line over both meson runs (meson's own summary is per run).
/usr/bin/python3 - build-test/meson-logs/testlog.json build-sanitize/meson-logs/testlog.json <<'PY'
import json, sys, os
passed = failed = 0
for path in sys.argv[1:]:
    if not os.path.exists(path):
        continue
    for line in open(path):
        result = json.loads(line).get("result")
        passed += result in ("OK", "EXPECTEDFAIL")
        failed += result not in ("OK", "EXPECTEDFAIL", "SKIP")
print(f"meson tests: {passed} passed, {failed} failed")
PY
echo "== all tests passed in $((SECONDS - start)) s"
