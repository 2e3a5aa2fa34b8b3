#!/bin/sh
# `ssrp assoc report` against a simulated tenant of 1,000 devices in mixed
# states (SSRP_REPORT_DEVICES changes the number): Entra joined, hybrid
# joined and registered; no key, a few keys, 150+ keys; no owner, one, two;
# a display name that needs escaping in CSV
# (a formula) and HTML. The simulator's tenant file is the oracle: jq
# counts from it what the report must say, device by device. The app
# reading it holds only Device.Read.All and BitLockerKey.ReadBasic.All.
# Also: --csv parses back (python3's csv module, when present), the HTML
# escapes the display name, Graph requests per device stay at most 0.1,
# and a throttled Graph (429 with Retry-After) changes no count.
# usage: test_assoc_report.sh SSRP_BINARY
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
command -v jq >/dev/null 2>&1 || { echo "jq is needed"; exit 77; }
N=${SSRP_REPORT_DEVICES:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-assoc-report.XXXXXX")
cleanup() {
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
expect() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1: got '$3', expected '$2'"; fi; }

start_cloud() {
	env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" "$@" 2>"$work/cloud.err") ||
		{ echo "cannot start the simulated cloud:"; cat "$work/cloud.err"; exit 1; }
	. "$env_file"
	ct=""
	for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
}
admin() { # admin METHOD PATH [BODY]
	curl -sS $ct --cacert "$SSRP_SIM_CA" -H "Authorization: Bearer $(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" \
		-X "$1" ${3+--data-binary "$3"} "https://graph.microsoft.com$2"
}
start_cloud
admin GET /admin/state >"$work/demo.json"
cp "$SSRP_SIM_CONFIG" "$work/demo-config.json"
"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1

# The tenant: the demo's users and apps, N generated devices and their keys.
"$(dirname "$0")/make_report_tenant.sh" "$work/demo.json" "$N" >"$work/tenant.json" ||
	{ echo "cannot build the tenant"; exit 1; }
start_cloud --state "$work/tenant.json" --device-certs 0 # the report needs none
jq --slurpfile old "$work/demo-config.json" \
	'.app_id = $old[0].app_id | .app_secret_file = $old[0].app_secret_file' \
	"$SSRP_SIM_CONFIG" >"$work/config.json"

# The oracle, from the tenant file.
jq '
	[.recoveryKeys[] | .deviceId] as $kd |
	(.devices | map(.deviceId)) as $ids |
	{devices: (.devices | length),
	 keys: (.recoveryKeys | length),
	 orphanKeys: ([$kd[] | select(. as $x | $ids | index($x) | not)] | length),
	 devicesWithoutKey: ([.devices[] | select(.deviceId as $x | $kd | index($x) | not)] | length),
	 devicesWithoutOwner: ([.devices[] | select(.registeredOwners | length == 0)] | length),
	 devicesNearKeyLimit: ([$kd | group_by(.)[] | select(length >= 150) | .[0] | select(. as $x | $ids | index($x))] | length)}' \
	"$work/tenant.json" >"$work/expected.json"
jq '[.recoveryKeys | group_by(.deviceId)[] | {(.[0].deviceId): {keys: length,
	newest: (map(.createdDateTime) | max), oldest: (map(.createdDateTime) | min)}}] | add' \
	"$work/tenant.json" >"$work/expected-keys.json"

"$ssrp" assoc report --config "$work/config.json" --json >"$work/report.json" 2>"$work/report.err"
expect "report --json: exit 0" 0 $?
for f in devices keys orphanKeys devicesWithoutKey devicesWithoutOwner devicesNearKeyLimit; do
	expect "summary $f" "$(jq ".$f" "$work/expected.json")" "$(jq ".summary.$f" "$work/report.json")"
done
# device by device: keys, newest, oldest, owners, join type
bad=$(jq -n --slurpfile r "$work/report.json" --slurpfile t "$work/tenant.json" \
	--slurpfile k "$work/expected-keys.json" '
	($t[0].devices | map({(.deviceId): .}) | add) as $dev |
	[$r[0].devices[] | . as $d | $dev[$d.deviceId] as $x | ($k[0][$d.deviceId] // {keys: 0}) as $e |
	 def t: sub("\\.0+Z$"; "Z");
	 select($x == null or $d.keys != $e.keys or ($e.keys > 0 and (($d.newestKey | t) != $e.newest or
	   ($d.oldestKey | t) != $e.oldest)) or $d.owners != ($x.registeredOwners | length) or
	   $d.trustType != $x.trustType or $d.displayName != $x.displayName or
	   $d.accountEnabled != $x.accountEnabled)] | length')
expect "every device exact (keys, newest, oldest, owners, join type, name)" 0 "$bad"
reqs=$(jq .summary.graphRequests "$work/report.json")
devs=$(jq .summary.devices "$work/report.json")
if [ "$reqs" -gt 0 ] && [ $((reqs * 10)) -le "$devs" ]; then
	pass "Graph requests per device at most 0.1 ($reqs for $devs)"
else fail "Graph requests: $reqs for $devs devices"; fi

# text: the summary lines
"$ssrp" assoc report --config "$work/config.json" >"$work/report.txt" 2>&1
expect "text: exit 0" 0 $?
grep -q "^devices with no key:    $(jq .devicesWithoutKey "$work/expected.json")$" "$work/report.txt" &&
	pass "text: devices with no key" || fail "text: devices with no key"
grep -q "^devices near the limit: $(jq .devicesNearKeyLimit "$work/expected.json") " "$work/report.txt" &&
	pass "text: devices near the limit" || fail "text: devices near the limit"

# CSV: one row per device, parsed back
"$ssrp" assoc report --config "$work/config.json" --csv >"$work/report.csv"
expect "csv: a header and a row per device" $((N + 1)) "$(grep -c . "$work/report.csv")"
if command -v python3 >/dev/null 2>&1; then
	got=$(python3 -c 'import csv,sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
print(len(rows), sum(int(r["keys"]) for r in rows), [r["displayName"] for r in rows if "quoted" in r["displayName"]][0])' "$work/report.csv")
	expect "csv: parsed back (rows, keys, the formula defused)" \
		"$N $(jq .keys "$work/expected.json") '"'=1+1 "<b>quoted</b>", x' \
		"$got"
fi

# HTML: the name escaped
"$ssrp" assoc report --config "$work/config.json" --html "$work/report.html"
expect "html: exit 0" 0 $?
grep -qF '=1+1 &quot;&lt;b&gt;quoted&lt;/b&gt;&quot;, x' "$work/report.html" &&
	pass "html: the display name escaped" || fail "html: the display name is not escaped"
grep -q '<b>quoted' "$work/report.html" && fail "html: markup from the directory" || pass "html: no markup from the directory"

# a throttled Graph changes no count
admin POST /admin/faults "graph/v1.0/\$batch:429:0.3@2; graph/v1.0/devices*:503@1" >/dev/null
"$ssrp" assoc report --config "$work/config.json" --json >"$work/report2.json" 2>"$work/report2.err"
expect "throttled: exit 0" 0 $?
admin POST /admin/faults "" >/dev/null
expect "throttled: the same devices and counts" "$(jq -c '.devices' "$work/report.json")" \
	"$(jq -c '.devices' "$work/report2.json")"
expect "request log: no early retry" 0 "$(grep -c '"early_retry":true' "$SSRP_SIM_LOG")"

# without the permission: a clear refusal
jq '(.apps[] | select(.secretSha256 != null) | .roles) = ["Device.Read.All"]' "$work/tenant.json" >"$work/noperm.json"
"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
start_cloud --state "$work/noperm.json" --device-certs 0
jq --slurpfile old "$work/demo-config.json" \
	'.app_id = $old[0].app_id | .app_secret_file = $old[0].app_secret_file' \
	"$SSRP_SIM_CONFIG" >"$work/config.json"
"$ssrp" assoc report --config "$work/config.json" >/dev/null 2>"$work/noperm.err"
expect "no BitLockerKey permission: exit 1" 1 $?
grep -q "recovery keys' metadata could not be read" "$work/noperm.err" &&
	pass "no BitLockerKey permission: says what could not be read" ||
	{ fail "no BitLockerKey permission: message"; cat "$work/noperm.err"; }

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
