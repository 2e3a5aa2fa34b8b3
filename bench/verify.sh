#!/bin/sh
# Escrow verification and the administrator's report, measured with the
# real parts (swtpm, the simulated cloud over HTTPS). The last line of the
# output is one JSON object.
#
#   1. DRS requests per device per day: DEVICES devices (own volume,
#      journal, certificate), each run every "hour" of a scaled day
#      (agent.verify_interval_s = DAY seconds, 24 runs a day) for DAYS
#      days after their first run; each run's report counts its requests
#      (all to the Device Registration Service: association off). Goal 1. Reference in the
#      same run: the same devices verifying at every run (--verify).
#   2. Agent CPU per verification: user + system CPU of `ssrp agent run
#      --verify` on a compliant device, against a run with nothing due.
#   3. `ssrp assoc report` over a tenant of TENANT devices: Graph requests
#      per device (goal at most 0.1) and wall time, against a per-device
#      loop (one key-list and one owners request per device, on one kept-
#      alive connection: `curl --config`).
#
# usage: bench/verify.sh [BUILD_DIR]  (env: DEVICES=6 DAY=24 DAYS=2 TENANT=1000 CPU_RUNS=20)
set -eu

. "$(dirname "$0")/common.sh"
bench_init verify.sh "$@"
shift "$bench_shift"
bench_require swtpm "swtpm swtpm-tools"
bench_require jq jq
bench_require curl curl
DEVICES=${DEVICES:-6}
DAY=${DAY:-24}
DAYS=${DAYS:-2}
TENANT=${TENANT:-1000}
CPU_RUNS=${CPU_RUNS:-20}

cmake --build "$build" --target ssrp_cli >&2
ssrp=$build/ssrp
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-bench-verify.XXXXXX")
cleanup() {
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1 || true
	"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
tpm=$("$ssrp_sim" swtpm start --dir "$work/tpm")
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
# mixed states (tests/integration/make_report_tenant.sh); the agents are the
# first enabled devices, with certificates.
start_cloud
admin GET /admin/state >"$work/demo.json"
cp "$SSRP_SIM_CONFIG" "$work/demo-config.json"
"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
"$root/tests/integration/make_report_tenant.sh" "$work/demo.json" "$TENANT" >"$work/tenant.json"
start_cloud --state "$work/tenant.json" --device-certs $((DEVICES * 2 + 2))
now_ms() { date +%s%3N; }

# ---- 1. DRS requests per device per day ------------------------------------------
jq -r '.devices[] | select(.accountEnabled) | .deviceId' "$work/tenant.json" | while read -r id; do
	[ -f "$SSRP_SIM_DEVICE_CERT_DIR/$id.json" ] && echo "$SSRP_SIM_DEVICE_CERT_DIR/$id.json"
done | head -n "$DEVICES" >"$work/devices"
[ "$(grep -c . "$work/devices")" = "$DEVICES" ] || { echo "verify.sh: not $DEVICES device certificates" >&2; exit 1; }
i=0
while read -r dcfg; do
	mkdir -m 700 "$work/d$i"
	"$ssrp_sim" volume create --volume "sim:$work/d$i/os.img" --size 4M >/dev/null 2>&1
	jq --argjson day "$DAY" '.agent = {"association":"off","verify_interval_s":$day}' "$dcfg" \
		>"$work/d$i/config.json"
	i=$((i + 1))
done <"$work/devices"
agent() { # agent I [more]: one run; its HTTPS requests (all to DRS) added to $work/requests
	d=$work/d$1
	shift
	"$ssrp" agent run --tpm "$tpm" --json --config "$d/config.json" --volume "bitlk:$d/os.img?rw" \
		--journal "$d/agent.journal" "$@" >"$work/run.json" 2>/dev/null || true
	jq .run.httpRequests "$work/run.json" >>"$work/requests"
}
drs_requests() { awk '{ n += $1 } END { print n + 0 }' "$work/requests"; }
# a scaled day: runs every DAY/24 seconds for DAYS days; $1 extra options
fleet_day() {
	hour_ms=$((DAY * 1000 / 24))
	start=$(now_ms)
	for h in $(seq 1 $((24 * DAYS))); do
		i=0
		while [ "$i" -lt "$DEVICES" ]; do agent "$i" "$@"; i=$((i + 1)); done
		wait_ms=$((start + h * hour_ms - $(now_ms)))
		if [ "$wait_ms" -gt 0 ]; then
			sleep "$(echo "$wait_ms" | awk '{ printf "%.3f", $1 / 1000 }')"
		fi
	done
}
i=0
while [ "$i" -lt "$DEVICES" ]; do agent "$i"; i=$((i + 1)); done # first escrow
r0=$(drs_requests)
fleet_day
r1=$(drs_requests)
fleet_day --verify
r2=$(drs_requests)
per_day=$(echo "$r0 $r1 $DEVICES $DAYS" | awk '{ printf "%.2f", ($2 - $1) / $3 / $4 }')
per_day_ref=$(echo "$r1 $r2 $DEVICES $DAYS" | awk '{ printf "%.2f", ($2 - $1) / $3 / $4 }')
echo "DRS requests per device per day: $per_day (verifying at every run: $per_day_ref)" >&2

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

jq -nc --argjson d "$DEVICES" --argjson days "$DAYS" --argjson pd "$per_day" --argjson pdr "$per_day_ref" \
	--argjson cv "$cpu_verify" --argjson cp "$cpu_plain" --argjson n "$TENANT" \
	--argjson rr "$report_reqs" --argjson rms "$report_ms" --argjson nr "$naive_reqs" --argjson nms "$naive_ms" '
	{bench: "verify", devices: $d, scaled_days: $days,
	 drs_requests_per_device_per_day: $pd, drs_requests_per_device_per_day_verify_every_run: $pdr,
	 agent_cpu_ms_per_verification_run: $cv, agent_cpu_ms_per_run_nothing_due: $cp,
	 report_devices: $n, report_graph_requests: $rr, report_graph_requests_per_device: ($rr / $n),
	 report_ms: $rms, naive_graph_requests: $nr, naive_ms: $nms, report_speedup: ($nms / $rms)}'
