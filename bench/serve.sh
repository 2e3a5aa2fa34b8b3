#!/bin/sh
# Run the check-in storm (bench/serve.c): 10,000 devices ask `ssrp assoc
# serve` about themselves within one minute while an attacker holds 1,000
# idle connections, Graph answers 20 ms late with 1% 429s; against the same
# service deciding each device alone, in the same run. The last line of the
# output is one JSON object.
#
# usage: bench/serve.sh [BUILD_DIR] [bench_serve options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --devices N (10000), --duration S (60), --attackers N (1000),
#               --reference-devices N (1000), --workers N (the service's default),
#               --latency-ms MS (20), --throttle-rate R (0.01), --keep DIR
set -eu

. "$(dirname "$0")/common.sh"
bench_init serve.sh "$@"
shift "$bench_shift"

cmake --build "$build" --target bench_serve ssrp_sim_cli ssrp_assocd >&2
exec "$build/bench/bench_serve" --ssrp "$build/ssrp-sim" --assocd "$build/ssrp-assocd" "$@"
