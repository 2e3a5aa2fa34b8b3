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

. "$(dirname "$0")/common.sh"
bench_init volume.sh "$@"
shift "$bench_shift"

cmake --build "$build" --target bench_volume >&2
exec "$build/bench/bench_volume" "$@"
