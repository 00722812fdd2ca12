#!/usr/bin/env bash
# Runs an MPI test program under mpirun on this machine, as CI does (as root, more ranks than
# cores), once per rank count, each run guarded by `timeout`: a hang is a failure, never a stuck CI.
#
# usage: mpirun_test.sh [--np "1 2 3 4"] [--expect pass|fail] [--stderr-has TEXT]... [--same-line PREFIX]
#                       [--timeout SECONDS] MPIRUN PROGRAM [ARGS...]
#   --expect fail      the job must end with a nonzero exit (not by the timeout)
#   --stderr-has TEXT  each run's stderr must contain TEXT (fixed string)
#   --same-line P      the stdout line starting with P must be present and identical at every rank count
set -uo pipefail
nps="2"
expect=pass
stderr_has=()
same_line=""
seconds=60
while (($#)); do
  case "$1" in
    --np) nps="$2"; shift 2 ;;
    --expect) expect="$2"; shift 2 ;;
    --stderr-has) stderr_has+=("$2"); shift 2 ;;
    --same-line) same_line="$2"; shift 2 ;;
    --timeout) seconds="$2"; shift 2 ;;
    *) break ;;
  esac
done
(($# >= 2)) || { echo "usage: mpirun_test.sh [options] MPIRUN PROGRAM [ARGS...]" >&2; exit 2; }
mpirun="$1" program="$2"
shift 2

if ! command -v "$mpirun" > /dev/null; then
  echo "FAIL: mpirun not found ('$mpirun'): install Open MPI's openmpi-bin (tools/install-deps.sh does)"
  exit 1
fi

# One thread per rank: ranks share the cores, and OpenMP / ctnn's team would oversubscribe them further.
export OMP_NUM_THREADS=1
# shellcheck source=tests/distributed/mpi/openmpi_env.sh
. "$(dirname "$0")/openmpi_env.sh"
read -r -a flags <<< "$mpirun_flags"

failed=0
first_line="" first_np=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
for np in $nps; do
  start=$SECONDS
  # -k: a mpirun that ignores SIGTERM is killed 10 s later.
  timeout -k 10 "$seconds" "$mpirun" "${flags[@]}" -np "$np" "$program" "$@" > "$log/out" 2> "$log/err"
  status=$?
  echo "== $(basename "$program") at $np ranks: exit $status after $((SECONDS - start)) s"
  problems=()
  # 124: timeout's TERM ended it; 137 with the time used up: its KILL did (137 alone may be mpirun
  # reporting a rank killed by SIGKILL, which the fault tests expect).
  if ((status == 124 || (status == 137 && SECONDS - start >= seconds))); then
    problems+=("hung: still running after ${seconds} s (killed by timeout)")
  elif [[ $expect == pass && $status -ne 0 ]]; then
    problems+=("expected exit 0, got $status")
  elif [[ $expect == fail && $status -eq 0 ]]; then
    problems+=("expected a nonzero exit (the job should fail), got 0")
  fi
  for text in "${stderr_has[@]}"; do
    grep -qF -- "$text" "$log/err" || problems+=("stderr does not contain \"$text\"")
  done
  if [[ -n $same_line ]]; then
    line=$(grep -m1 "^$same_line" "$log/out" || true)
    if [[ -z $line ]]; then
      problems+=("no stdout line starting with \"$same_line\"")
    elif [[ -z $first_line ]]; then
      first_line=$line first_np=$np
    elif [[ $line != "$first_line" ]]; then
      problems+=("\"$line\" differs from \"$first_line\" at $first_np ranks")
    else
      echo "   $line (as at $first_np ranks)"
    fi
  fi
  if [[ $expect == fail ]]; then  # what a user would see: the lines naming the rank and the cause
    grep -E 'ctnn: rank|rank [0-9]+ .*(signal|exited)' "$log/err" | head -n 3 | sed 's/^/   stderr: /'
  fi
  if ((${#problems[@]})); then
    failed=1
    for p in "${problems[@]}"; do echo "FAIL at $np ranks: $p"; done
    echo "-- stdout:"; tail -n 40 "$log/out"
    echo "-- stderr:"; tail -n 40 "$log/err"
  fi
done
exit $failed
