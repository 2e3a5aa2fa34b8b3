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

. "$(dirname "$0")/common.sh"
bench_init stretch.sh "$@"
shift "$bench_shift"

cmake --build "$build" --target bench_stretch >&2
exec "$build/bench/bench_stretch" "$@"
