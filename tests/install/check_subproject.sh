#!/usr/bin/env bash
# A user's meson project with ctnn as subprojects/ctnn (a symlink to this source tree) and
# dependency('ctnn'): ctnn must build nothing of its own there (no tests, examples or benchmarks), so
# `ninja` builds exactly the user's program, which must compile with -Wall -Wextra -Werror and run.
# usage: check_subproject.sh SOURCE_ROOT
set -euo pipefail
source_root="$1"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/user/subprojects"
ln -s "$(realpath "$source_root")" "$root/user/subprojects/ctnn"
cat > "$root/user/meson.build" <<'MESON'
project('ctnn_user', 'cpp', default_options: ['cpp_std=c++20'])
executable('app', 'app.cpp', dependencies: dependency('ctnn'), cpp_args: ['-Wall', '-Wextra', '-Werror'])
MESON
cp "$(dirname "$0")/tiny_user.cpp" "$root/user/app.cpp"
# --force-fallback-for: the subproject, even if this machine has a ctnn installed for pkg-config.
(cd "$root/user" && meson setup build --force-fallback-for=ctnn)
grep -q "Executing subproject ctnn" "$root/user/build/meson-logs/meson-log.txt" \
  || { echo "FAIL: dependency('ctnn') did not use subprojects/ctnn"; exit 1; }
# Every build statement that is not meson's own bookkeeping: only the user's program and its object.
ours=$(ninja -C "$root/user/build" -t targets all \
  | grep -vE ': (phony|REGENERATE_BUILD)$|^meson-internal__[A-Za-z-]+: CUSTOM_COMMAND$' || true)
echo "build targets:"; echo "$ours"
[[ "$(echo "$ours" | sort)" == "$(printf '%s\n' 'app: cpp_LINKER' 'app.p/app.cpp.o: cpp_COMPILER' | sort)" ]] \
  || { echo "FAIL: ninja would build more than the user's program (ctnn targets above)"; exit 1; }
tests=$(meson introspect "$root/user/build" --tests)
[[ "$tests" == "[]" ]] || { echo "FAIL: ctnn registered tests in the user's project:"; echo "$tests"; exit 1; }
ninja -C "$root/user/build"
built=$(cd "$root/user/build" && find . -type f -executable -not -path './meson-*' | sort)
[[ "$built" == "./app" ]] || { echo "FAIL: ninja built more than the user's program:"; echo "$built"; exit 1; }
"$root/user/build/app" "$root"
