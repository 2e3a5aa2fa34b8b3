#!/bin/sh
# Run the device agent's benchmark (bench/agent.c): a first run and the
# steady state of a fresh simulated device, in process through
# ssrp_agent_run(), with the `ssrp agent run` process and references
# (`ssrp volume status`, opening the volume, opening the TPM) in the same
# run. It starts its own swtpm, simulated cloud and `ssrp assoc serve` and
# stops them. The last line of the output is one JSON object.
#
# usage: bench/agent.sh [BUILD_DIR] [bench_agent options]
#   BUILD_DIR   a configured CMake build dir (default: $SSRP_BUILD_DIR, else ./build)
#   options     --steady N (20 in-process steady-state runs), --keep DIR
set -eu

. "$(dirname "$0")/common.sh"
bench_init agent.sh "$@"
shift "$bench_shift"
bench_require swtpm "swtpm swtpm-tools"

cmake --build "$build" --target bench_agent ssrp_sim_cli ssrp_assocd >&2
TSS2_LOG=${TSS2_LOG:-all+NONE}
export TSS2_LOG
exec "$build/bench/bench_agent" --ssrp "$build/ssrp-sim" --assocd "$build/ssrp-assocd" "$@"
