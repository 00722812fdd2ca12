#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh — build and run the libFuzzer targets tests/fuzz/fuzz_<target>.cpp.
#
# Usage: tests/fuzz/run_fuzz.sh [--seconds N] [--build-dir DIR] [target...]
#   target      e.g. idx, npz, tfrecord (default: every tests/fuzz/fuzz_*.cpp)
#   --seconds   fuzzing time per target (default 60)
#   --build-dir where binaries and corpus copies go (default: a fresh temp dir, removed at exit)
#   FUZZ_ARGS   extra libFuzzer flags, e.g. FUZZ_ARGS="-max_len=65536"
# Per target: compile with clang++-19 + ASan/UBSan/libFuzzer, replay tests/fuzz/regressions/<target>/*,
# then fuzz a COPY of tests/fuzz/corpus/<target>/ (the repository is never written, except that
# crash inputs land in tests/fuzz/findings/<target>/, which is gitignored). Exit status 1 on any crash.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=60
build_dir=""
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        --build-dir) build_dir="$2"; shift 2 ;;
        --build-dir=*) build_dir="${1#*=}"; shift ;;
        -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run_fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
    echo "run_fuzz.sh: --seconds expects a whole number, got '$seconds'" >&2; exit 2
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    for src in "$root"/tests/fuzz/fuzz_*.cpp; do
        [[ -e "$src" ]] || continue
        name=$(basename "$src" .cpp); targets+=("${name#fuzz_}")
    done
fi
if [[ ${#targets[@]} -eq 0 ]]; then echo "run_fuzz.sh: no tests/fuzz/fuzz_*.cpp found" >&2; exit 2; fi

# clang 19, the ISA matrix's compiler: clang 14 cannot compile the model (fuzz_state's Model::load).
cxx=${CXX_FUZZ:-clang++-19}
command -v "$cxx" >/dev/null || { echo "run_fuzz.sh: $cxx not found (apt-get install clang-19 libclang-rt-19-dev)" >&2; exit 2; }
if [[ -z "$build_dir" ]]; then
    build_dir=$(mktemp -d "${TMPDIR:-/tmp}/ctnn-fuzz.XXXXXX")
    trap 'rm -rf "$build_dir"' EXIT
fi
mkdir -p "$build_dir"
# shellcheck disable=SC2207
deps_cflags=($(pkg-config --cflags xtensor xsimd))

status=0
summary=()
for target in "${targets[@]}"; do
    src="$root/tests/fuzz/fuzz_$target.cpp"
    if [[ ! -f "$src" ]]; then echo "run_fuzz.sh: no $src" >&2; status=2; continue; fi
    bin="$build_dir/fuzz_$target"
    findings="$root/tests/fuzz/findings/$target"
    log="$build_dir/fuzz_$target.log"
    echo "== $target: compiling $src"
    if ! "$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -I "$root/include" "${deps_cflags[@]}" "$src" -o "$bin" -lz; then
        summary+=("fuzz $target: build failed")
        echo "fuzz $target: build failed"
        status=1
        continue
    fi

    crashes=0
    # 1. Every input that ever crashed must now pass (libFuzzer runs file arguments once each).
    regressions=()
    if [[ -d "$root/tests/fuzz/regressions/$target" ]]; then
        while IFS= read -r -d '' file; do regressions+=("$file"); done \
            < <(find "$root/tests/fuzz/regressions/$target" -type f ! -name '.*' ! -name '*.md' -print0 | sort -z)
    fi
    for file in "${regressions[@]}"; do
        if ! "$bin" "$file" >"$log.replay" 2>&1; then
            echo "REGRESSION $target: $file fails again:"
            grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$log.replay" | head -n 20 || tail -n 20 "$log.replay"
            crashes=$((crashes + 1))
        fi
    done
    echo "== $target: replayed ${#regressions[@]} regression inputs, $crashes failing"

    # 2. Fuzz a private copy of the seed corpus (new inputs go there, not into the repository).
    corpus="$build_dir/corpus_$target"
    rm -rf "$corpus"; mkdir -p "$corpus" "$findings"
    if [[ -d "$root/tests/fuzz/corpus/$target" ]]; then cp -R "$root/tests/fuzz/corpus/$target/." "$corpus/"; fi
    before=$(find "$findings" -type f | wc -l)
    start=$EPOCHREALTIME
    fuzz_status=0
    # shellcheck disable=SC2086
    "$bin" "$corpus" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" \
        -rss_limit_mb=2048 -timeout=30 ${FUZZ_ARGS:-} >"$log" 2>&1 || fuzz_status=$?
    elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    after=$(find "$findings" -type f | wc -l)
    new_findings=$((after - before))
    if [[ $fuzz_status -ne 0 ]]; then
        [[ $new_findings -gt 0 ]] || new_findings=1  # e.g. a crash libFuzzer could not save
        echo "CRASH $target (libFuzzer exit $fuzz_status), input in $findings/:"
        grep -E "ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==" "$log" | head -n 20 || true
        echo "   full log: $log (kept only with --build-dir); reproduce: $bin <file>"
    fi
    crashes=$((crashes + new_findings))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    line=$(printf 'fuzz %s: %s executions in %.0f s, %d crashes' "$target" "${execs:-?}" "$elapsed" "$crashes")
    echo "$line"
    summary+=("$line")
    [[ $crashes -eq 0 ]] || status=1
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
