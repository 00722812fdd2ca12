#!/usr/bin/env bash
# Runs the test suites whose course depends on timing (the killed-run test, the thread team's tests,
# the MPI jobs) again and again while busy loops hold every core, as on a loaded CI machine: a
# test that fails one time in twenty shows up here, not in someone else's CI run.
# Usage: tools/stress-tests.sh [--runs N] [--load N] [--suites "hardening team mpi"] BUILD_DIR...
#   --runs N     consecutive runs of each suite per build directory (default 50)
#   --load N     busy loops beside the tests (default: one per core)
# BUILD_DIR is a configured and built meson directory (build-test, build-sanitize from tools/test.sh).
# Prints one line per run and suite, then "stress: N passed, N failed"; exits 1 if any run failed,
# keeping its log under /tmp/ctnn-stress-*.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=50
load=$(nproc)
suites="hardening team mpi"
dirs=()
while (($#)); do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --load) load="$2"; shift 2 ;;
    --suites) suites="$2"; shift 2 ;;
    -*) echo "tools/stress-tests.sh: unknown option '$1'" >&2; exit 2 ;;
    *) dirs+=("$1"); shift ;;
  esac
done
((${#dirs[@]})) || { echo "usage: tools/stress-tests.sh [--runs N] [--load N] BUILD_DIR..." >&2; exit 2; }

busy=()
stop_load() { ((${#busy[@]})) && kill "${busy[@]}" 2>/dev/null; wait 2>/dev/null; }
trap stop_load EXIT
for ((i = 0; i < load; ++i)); do
  ( while :; do :; done ) &
  busy+=($!)
done
echo "stress: ${#busy[@]} busy loops on $(nproc) cores, $runs runs of [$suites] in ${dirs[*]}"

# One suite, once: meson's own runner, so each test gets the environment meson.build gives it.
run_suite() {
  local dir=$1 suite=$2
  case "$suite" in
    hardening) meson test -C "$dir" --no-rebuild --print-errorlogs hardening ;;
    # The thread team's test cases only (the rest of the kernels area does not depend on timing).
    team) meson test -C "$dir" --no-rebuild --print-errorlogs kernels '--test-args=--source-file=*test_parallel.cpp' ;;
    # The MPI unit programs; the mnist_mlp_mpi example check (also in suite mpi) kills nothing and
    # takes half a minute: it runs in tools/test.sh, not 50 times here.
    mpi) meson test -C "$dir" --no-rebuild --print-errorlogs --suite mpi --no-suite examples ;;
    *) echo "unknown suite '$suite'"; return 2 ;;
  esac
}

passed=0 failed=0 start=$SECONDS
for dir in "${dirs[@]}"; do
  for ((run = 1; run <= runs; ++run)); do
    for suite in $suites; do
      log=$(mktemp "/tmp/ctnn-stress-$(basename "$dir")-$suite-$run-XXXX.log")
      t0=$SECONDS
      if run_suite "$dir" "$suite" > "$log" 2>&1; then
        ((++passed)); rm -f "$log"
        echo "$(basename "$dir") $suite run $run: ok ($((SECONDS - t0)) s)"
      else
        ((++failed))
        echo "$(basename "$dir") $suite run $run: FAILED ($((SECONDS - t0)) s), log kept in $log"
      fi
    done
  done
done
echo "stress: $passed passed, $failed failed in $((SECONDS - start)) s"
((failed == 0))
