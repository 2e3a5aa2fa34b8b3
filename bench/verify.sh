#!/bin/sh
# Escrow verification and the administrator's report, measured with the
# real parts (the simulated cloud over HTTPS; swtpm and a BitLocker volume
# for the process measurement). The last line of the output is one JSON
# object, requests per device first.
#
#   1. A fleet of DEVICES devices (10,000) verifying within their jittered
#      day (bench/verify.c): the agent in process, each device with its own
#      certificate, configuration and journal, a steady BitLocker-protected
#      volume (a bench backend: the volume's I/O is bench/agent's and
#      bench/volume's business), agent.verify_interval_s = DAY seconds
#      (a day, the agent's default), RUNS runs of every device a day on the
#      fleet's clock (moved on between rounds: the day passes as fast as the
#      machine runs the rounds). DRS requests per device per day
#      (goal 1), the agent's CPU per verification and per run with nothing
#      due (in process, no process start).
#   2. The same as a process: user + system CPU of `ssrp agent run
#      --verify` on a compliant device with a real volume and TPM, against
#      a run with nothing due (process start included).
#   3. `ssrp assoc report` over the tenant of TENANT devices (13,000: the
#      first 10,000 enabled ones with a key are the fleet): Graph requests
#      per device (goal at most 0.1) and wall time, against a per-device
#      loop in the same run (one key-list and one owners request per
#      device, on one kept-alive connection: `curl --config`).
#
# usage: bench/verify.sh [BUILD_DIR]
#   (env: DEVICES=10000 DAY=86400 RUNS=4 DAYS=1 TENANT=13000 CPU_RUNS=10)
set -eu

. "$(dirname "$0")/common.sh"
bench_init verify.sh "$@"
shift "$bench_shift"
bench_require swtpm "swtpm swtpm-tools"
bench_require jq jq
bench_require curl curl
DEVICES=${DEVICES:-10000}
DAY=${DAY:-86400}
RUNS=${RUNS:-4}
DAYS=${DAYS:-1}
TENANT=${TENANT:-13000}
CPU_RUNS=${CPU_RUNS:-10}

cmake --build "$build" --target ssrp_cli ssrp_sim_cli bench_verify >&2
ssrp=$build/ssrp
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
# the fleet's files on tmpfs when there is one: 10,000 journals are saved
# with fsync, which a disk would make the slowest part
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
work=$(mktemp -d "$shm/ssrp-bench-verify.XXXXXX")
cleanup() {
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1 || true
	"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
tpm_spec=$("$ssrp_sim" swtpm start --dir "$work/tpm")
start_cloud() {
	env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" "$@" 2>"$work/cloud.err")
	. "$env_file"
	ct=""
	for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
}
admin() {
	curl -sS $ct --cacert "$SSRP_SIM_CA" -H "Authorization: Bearer $(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" \
		-X "$1" ${3+--data-binary "$3"} "https://graph.microsoft.com$2"
}
# One tenant for all three: the demo's users and apps, TENANT devices in
# mixed states (tests/integration/make_report_tenant.sh).
start_cloud
admin GET /admin/state >"$work/demo.json"
cp "$SSRP_SIM_CONFIG" "$work/demo-config.json"
"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
"$root/tests/integration/make_report_tenant.sh" "$work/demo.json" "$TENANT" >"$work/tenant.json"
start_cloud --state "$work/tenant.json" --device-certs 3
now_ms() { date +%s%3N; }

# ---- 1. the fleet's day ---------------------------------------------------------
mkdir -m 700 "$work/fleet"
"$build/bench/bench_verify" --config "$SSRP_SIM_CONFIG" --pki "$(dirname "$SSRP_SIM_DEVICE_CERT_DIR")" \
	--tenant "$work/tenant.json" --work "$work/fleet" --devices "$DEVICES" --day "$DAY" \
	--runs "$RUNS" --days "$DAYS" >"$work/fleet.json"
cat "$work/fleet.json" >&2
rm -rf "$work/fleet"
per_day=$(jq .drs_requests_per_device_per_day "$work/fleet.json")
echo "DRS requests per device per day: $per_day over $DEVICES devices" >&2

# one real device for the process measurement: its own volume, the TPM
dcfg=$SSRP_SIM_DEVICE_CERT_DIR/00000003-d000-4000-8000-000000000000.json # enabled, 3 keys
mkdir -m 700 "$work/d0"
"$ssrp_sim" volume create --volume "sim:$work/d0/os.img" --size 4M >/dev/null 2>&1
jq '.agent = {"association":"off","key_retention_days":-1}' "$dcfg" >"$work/d0/config.json"
agent() { # agent 0 [more]: one run of the real device
	shift
	"$ssrp" agent run --json --tpm "$tpm_spec" --config "$work/d0/config.json" \
		--volume "bitlk:$work/d0/os.img?rw" --journal "$work/d0/agent.journal" "$@" \
		>"$work/run.json" 2>/dev/null || true
}
agent 0 # first escrow
# ---- 2. agent CPU per verification -------------------------------------------------
# CPU of the children this shell waited for, in ms (not in a subshell: its
# children would not count here until it ended)
children_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($16 + $17) * 1000 / hz }' /proc/$$/stat; }
cpu_ms() { # cpu_ms OPTIONS...: CPU ms a run of device 0 into $cpu
	t0=$(children_cpu_ms)
	k=0
	while [ "$k" -lt "$CPU_RUNS" ]; do agent 0 "$@"; k=$((k + 1)); done
	cpu=$(echo "$t0 $(children_cpu_ms) $CPU_RUNS" | awk '{ printf "%.1f", ($2 - $1) / $3 }')
}
cpu_ms --verify
cpu_verify=$cpu
cpu_ms
cpu_plain=$cpu
echo "agent CPU per run: $cpu_verify ms verifying, $cpu_plain ms with nothing due" >&2

# ---- 3. the administrator's report -------------------------------------------------
jq --slurpfile old "$work/demo-config.json" \
	'.app_id = $old[0].app_id | .app_secret_file = $old[0].app_secret_file' \
	"$SSRP_SIM_CONFIG" >"$work/config.json"
t0=$(now_ms)
"$ssrp" assoc report --config "$work/config.json" --json >"$work/report.json"
report_ms=$(($(now_ms) - t0))
report_reqs=$(jq .summary.graphRequests "$work/report.json")
# the per-device loop: a token, then two requests a device on one connection
app_id=$(jq -r .app_id "$work/config.json")
tenant=$(jq -r .tenant_id "$work/config.json")
t0=$(now_ms)
token=$(curl -sS $ct --cacert "$SSRP_SIM_CA" \
	--data-urlencode "client_id=$app_id" --data-urlencode "client_secret@$(jq -r .app_secret_file "$work/config.json")" \
	--data-urlencode "scope=https://graph.microsoft.com/.default" --data-urlencode "grant_type=client_credentials" \
	"https://login.microsoftonline.com/$tenant/oauth2/v2.0/token" | jq -r .access_token)
jq -r '.devices[] | "url = \"https://graph.microsoft.com/v1.0/informationProtection/bitlocker/recoveryKeys?$filter=deviceId%20eq%20%27\(.deviceId)%27\"\noutput = /dev/null\nurl = \"https://graph.microsoft.com/v1.0/devices/\(.id)/registeredOwners\"\noutput = /dev/null"' \
	"$work/report.json" >"$work/naive.curl"
(umask 077 && printf 'header = "Authorization: Bearer %s"\n' "$token" >"$work/auth.curl")
curl -sS $ct --cacert "$SSRP_SIM_CA" -K "$work/auth.curl" -K "$work/naive.curl"
naive_ms=$(($(now_ms) - t0))
naive_reqs=$((2 * TENANT + 1))
echo "assoc report: $report_reqs Graph requests for $TENANT devices in $report_ms ms (per-device loop: $naive_reqs in $naive_ms ms)" >&2

jq -nc --slurpfile f "$work/fleet.json" \
	--argjson cv "$cpu_verify" --argjson cp "$cpu_plain" --argjson n "$TENANT" \
	--argjson rr "$report_reqs" --argjson rms "$report_ms" --argjson nr "$naive_reqs" --argjson nms "$naive_ms" '
	$f[0] as $f |
	{drs_requests_per_device_per_day: $f.drs_requests_per_device_per_day,
	 report_graph_requests_per_device: ($rr / $n),
	 bench: "verify", devices: $f.devices, day_s: $f.scaled_day_s, runs_per_day: $f.rounds_per_day,
	 days: $f.days, fleet_runs: $f.runs, fleet_wall_s: $f.rounds_wall_s, drs_requests: $f.drs_requests,
	 max_requests_one_device: $f.max_requests_one_device, devices_without_request: $f.devices_without_request,
	 agent_cpu_ms_per_verification_in_process: $f.agent_cpu_ms_per_verification,
	 agent_cpu_ms_per_run_nothing_due_in_process: $f.agent_cpu_ms_per_run_nothing_due,
	 agent_cpu_ms_per_verification_process: $cv, agent_cpu_ms_per_run_nothing_due_process: $cp,
	 fleet_failures: $f.failures, fleet_not_compliant: $f.not_compliant,
	 report_devices: $n, report_graph_requests: $rr, report_ms: $rms,
	 naive_graph_requests: $nr, naive_ms: $nms, report_speedup: ($nms / $rms),
	 goal_drs_requests_per_device_per_day: 1, goal_report_graph_requests_per_device: 0.1,
	 met: ($f.drs_requests_per_device_per_day <= 1 and $f.failures == 0 and ($rr / $n) <= 0.1)}'
