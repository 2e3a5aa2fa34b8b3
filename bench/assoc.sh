#!/bin/sh
# Run the association benchmark (bench/assoc.c): the original runbook's naive
# client (4 Graph requests per device and user, one at a time) on a sample of
# a 10,000-device tenant, against `ssrp assoc batch` on the rest, with 20 ms
# Graph latency and 1% throttling in the simulated cloud. The last line of the
# output is one JSON object.
#
# usage: bench/assoc.sh [BUILD_DIR] [bench_assoc options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --devices N (10000), --naive-devices N (200), --ssrp-devices N
#               (0: all the others), --concurrency N (the CLI's default),
#               --latency-ms MS (20), --throttle-rate R (0.01), --keep DIR
set -eu

. "$(dirname "$0")/common.sh"
bench_init assoc.sh "$@"
shift "$bench_shift"

cmake --build "$build" --target bench_assoc ssrp_sim_cli >&2
exec "$build/bench/bench_assoc" --ssrp "$build/ssrp-sim" "$@"
