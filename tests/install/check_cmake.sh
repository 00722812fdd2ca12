#!/usr/bin/env bash
# Installs ctnn from the build directory into a scratch root (meson install --destdir), then
# configures, builds and runs a tiny CMake project that finds that copy with find_package(ctnn) and
# links ctnn::ctnn — so a missing or broken ctnnConfig.cmake, a wrong include directory or a
# dependency the target forgets (zlib: the program saves and loads weights; OpenMP) fails this test.
# usage: check_cmake.sh BUILD_DIR PREFIX openmp|no-openmp
set -euo pipefail
build="$1" prefix="$2" openmp="$3"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --no-rebuild --quiet
config=$(find "$root" -name ctnnConfig.cmake | head -n 1)
[[ -n "$config" ]] || { echo "FAIL: meson install wrote no ctnnConfig.cmake"; exit 1; }
[[ -f "$(dirname "$config")/ctnnConfigVersion.cmake" ]] || { echo "FAIL: no ctnnConfigVersion.cmake next to $config"; exit 1; }
echo "installed: ${config#"$root"}"

mkdir "$root/app"
cat > "$root/app/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(ctnn_user LANGUAGES CXX)
find_package(ctnn 0.1 REQUIRED)
message(STATUS "ctnn ${ctnn_VERSION} from ${ctnn_DIR}")
add_executable(app app.cpp)
target_compile_options(app PRIVATE -Wall -Wextra -Werror)
target_link_libraries(app PRIVATE ctnn::ctnn)
if(CTNN_EXPECT_OPENMP)
  target_compile_definitions(app PRIVATE CTNN_EXPECT_OPENMP=1)
endif()
CMAKE
cp "$(dirname "$0")/tiny_user.cpp" "$root/app/app.cpp"
expect_openmp=OFF
[[ "$openmp" == openmp ]] && expect_openmp=ON
cmake -S "$root/app" -B "$root/app/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$root$prefix" -DCTNN_EXPECT_OPENMP="$expect_openmp" -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
# The package found must be the scratch copy, not one installed on this machine.
found=$(sed -n 's/^ctnn_DIR:PATH=//p' "$root/app/build/CMakeCache.txt")
[[ "$found" == "$root"/* ]] || { echo "FAIL: find_package(ctnn) used '$found', not the copy under $root"; exit 1; }
grep -qE -- "(-isystem |-I)$root$prefix/" "$root/app/build/build.ninja" \
  || { echo "FAIL: the compile line has no include directory from the installed copy"; exit 1; }
cmake --build "$root/app/build"
"$root/app/build/app" "$root"
