#!/bin/sh
# Run the TPM seal + unseal benchmark (bench/tpm.c). bench_tpm starts its own
# swtpm in a temporary state dir and stops it again, so nothing needs to run
# beforehand. The last line of the output is one JSON object.
#
# usage: bench/tpm.sh [BUILD_DIR] [bench_tpm options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --iterations N (200), --tools-iterations N (20), --warmup N (3),
#               --dir DIR, --skip ssrp|raw|tools
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${SSRP_BUILD_DIR:-$root/build}
if [ $# -gt 0 ] && [ -d "$1" ]; then
	build=$1
	shift
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
	echo "tpm.sh: $build is not a configured build dir; run: cmake -S $root -B $build" >&2
	exit 1
fi
if ! command -v swtpm >/dev/null 2>&1; then
	echo "tpm.sh: swtpm is not installed (apt-get install swtpm swtpm-tools)" >&2
	exit 1
fi
if ! command -v tpm2_createprimary >/dev/null 2>&1; then
	echo "tpm.sh: tpm2-tools is not installed (apt-get install tpm2-tools)" >&2
	exit 1
fi

cmake --build "$build" --target bench_tpm >&2
# tpm2-tss (in bench_tpm and in tpm2-tools) would print its own errors.
TSS2_LOG=${TSS2_LOG:-all+NONE}
export TSS2_LOG
exec "$build/bench/bench_tpm" "$@"
