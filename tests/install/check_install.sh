#!/usr/bin/env bash
# Installs ctnn from the build directory into a scratch root (meson install --destdir), then builds
# and runs a tiny program against that copy found through pkg-config only — so a header missing
# from the install, a broken ctnn.pc or a dependency it forgets to name fails this test.
# usage: check_install.sh BUILD_DIR
set -euo pipefail
build="$1"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --no-rebuild --quiet
pc=$(find "$root" -name ctnn.pc | head -n 1)
[[ -n "$pc" ]] || { echo "FAIL: meson install wrote no ctnn.pc"; exit 1; }
[[ -f $(find "$root" -path '*/include/ctnn/ctnn.hpp' | head -n 1) ]] || { echo "FAIL: ctnn/ctnn.hpp not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$root"
cp "$(dirname "$0")/tiny_user.cpp" "$root/tiny.cpp"
# shellcheck disable=SC2046
c++ -std=c++20 -Wall -Wextra -Werror $(pkg-config --cflags ctnn) "$root/tiny.cpp" -o "$root/tiny" $(pkg-config --libs ctnn)
"$root/tiny" "$root"
