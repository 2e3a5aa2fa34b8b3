#!/bin/sh
# Run the whole-volume decryption benchmark (bench/decrypt.c): a 1 GiB
# sparse volume per method (XTS-AES-128, AES-256-CBC + Elephant) decrypted
# by ssrp, by dislocker-file and by raw OpenSSL over the same buffers, one
# run each. The last line of the output is one JSON object.
#
# usage: bench/decrypt.sh [BUILD_DIR]
set -eu

. "$(dirname "$0")/common.sh"
bench_init decrypt.sh "$@"
shift "$bench_shift"
bench_require dislocker-file dislocker

cmake --build "$build" --target bench_decrypt >&2
exec "$build/bench/bench_decrypt" "$@"
