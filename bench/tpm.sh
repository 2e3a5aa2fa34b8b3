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

. "$(dirname "$0")/common.sh"
bench_init tpm.sh "$@"
shift "$bench_shift"
bench_require swtpm "swtpm swtpm-tools"
bench_require tpm2_createprimary "tpm2-tools"

cmake --build "$build" --target bench_tpm >&2
# tpm2-tss (in bench_tpm and in tpm2-tools) would print its own errors.
TSS2_LOG=${TSS2_LOG:-all+NONE}
export TSS2_LOG
exec "$build/bench/bench_tpm" "$@"
