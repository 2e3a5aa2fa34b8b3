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

. "$(dirname "$0")/common.sh"
bench_init cloud.sh "$@"
shift "$bench_shift"
bench_require wrk "wrk"

cmake --build "$build" --target bench_cloud ssrp_sim_cli >&2
exec "$build/bench/bench_cloud" --ssrp "$build/ssrp-sim" "$@"
