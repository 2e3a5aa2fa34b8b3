#!/bin/sh
# Run the volume data-path benchmark (bench/volume.c): 48 MiB written and
# read through ssrp_volume_write/read in 1 MiB calls on a fresh 64 MiB sim
# volume (on tmpfs /dev/shm when there is one), against raw OpenSSL
# XTS-AES-128 over the same buffers and sectors in the same run. The last
# line of the output is one JSON object.
#
# usage: bench/volume.sh [BUILD_DIR] [bench_volume options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --mib N (48), --runs N (7), --dir DIR
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SSRP_BUILD_DIR:-$root/build}
if [ $# -gt 0 ] && [ -d "$1" ]; then
	build=$1
	shift
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
	echo "volume.sh: $build is not a configured build dir; run: cmake -S $root -B $build" >&2
	exit 1
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug$' "$build/CMakeCache.txt" ||
	grep -q '^SSRP_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt"; then
	echo "volume.sh: warning: $build is a debug or sanitizer build; timings will not mean much" >&2
fi

cmake --build "$build" --target bench_volume >&2
exec "$build/bench/bench_volume" "$@"
