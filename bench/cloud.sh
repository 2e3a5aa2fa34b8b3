#!/bin/sh
# Run the simulated cloud's benchmark (bench/cloud.c): GET users/{upn} and
# $batch with keep-alive TLS from wrk against 100k users and 100k devices,
# against a trivial libmicrohttpd TLS responder in the same run, and the
# memory per directory object. The last line of the output is one JSON
# object.
#
# usage: bench/cloud.sh [BUILD_DIR] [bench_cloud options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --users N (100000), --devices N (100000), --duration S (10),
#               --connections C (32), --threads T (1), --keep DIR
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SSRP_BUILD_DIR:-$root/build}
if [ $# -gt 0 ] && [ -d "$1" ]; then
	build=$1
	shift
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
	echo "cloud.sh: $build is not a configured build dir; run: cmake -S $root -B $build" >&2
	exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
	echo "cloud.sh: wrk is not installed (apt-get install wrk)" >&2
	exit 1
fi
if grep -q '^CMAKE_BUILD_TYPE:STRING=Debug$' "$build/CMakeCache.txt" ||
	grep -q '^SSRP_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt"; then
	echo "cloud.sh: warning: $build is a debug or sanitizer build; figures will not mean much" >&2
fi

cmake --build "$build" --target bench_cloud ssrp_cli >&2
exec "$build/bench/bench_cloud" --ssrp "$build/ssrp" "$@"
