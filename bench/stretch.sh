#!/bin/sh
# Run the key-stretching benchmark (bench/stretch.c): ssrp against the
# SHA-256 compression floor measured in the same run, and against Debian's
# libdislocker when it is installed (apt-get install libdislocker0-dev). The
# last line of the output is one JSON object.
#
# usage: bench/stretch.sh [BUILD_DIR] [bench_stretch options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --runs N (7)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SSRP_BUILD_DIR:-$root/build}
if [ $# -gt 0 ] && [ -d "$1" ]; then
	build=$1
	shift
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
	echo "stretch.sh: $build is not a configured build dir; run: cmake -S $root -B $build" >&2
	exit 1
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug$' "$build/CMakeCache.txt" ||
	grep -q '^SSRP_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt"; then
	echo "stretch.sh: warning: $build is a debug or sanitizer build; timings will not mean much" >&2
fi

cmake --build "$build" --target bench_stretch >&2
exec "$build/bench/bench_stretch" "$@"
