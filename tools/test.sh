#!/usr/bin/env bash
# The whole test suite, as CI runs it: install dependencies, build with -Werror, run every test
# (unit, compile-fail, examples, independent-tool checks), then again under ASan + UBSan, then each
# libFuzzer target for a bounded time. Usage: tools/test.sh [--fuzz-seconds N] [--no-sanitizers]
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=60
sanitizers=1
while (($#)); do
  case "$1" in
    --fuzz-seconds) fuzz_seconds="$2"; shift 2 ;;
    --no-sanitizers) sanitizers=0; shift ;;
    *) echo "tools/test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

tools/install-deps.sh

echo "== build and test (release, -Werror)"
[[ -d build ]] || meson setup build
meson test -C build --print-errorlogs --num-processes 2

if ((sanitizers)); then
  echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer"
  [[ -d build-sanitize ]] || meson setup build-sanitize -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
    -Db_lundef=false -Dexamples=true
  ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-sanitize --print-errorlogs --num-processes 2 --no-suite compile_fail
fi

if ((fuzz_seconds > 0)); then
  echo "== fuzzing, ${fuzz_seconds} s per target"
  tests/fuzz/run_fuzz.sh --seconds "$fuzz_seconds"
fi
