#!/bin/sh
# `ssrp assoc report` against a simulated tenant of 1,000 devices in mixed
# states (SSRP_REPORT_DEVICES changes the number), with the devices'
# reports ssrp-assocd keeps (some with a protector Entra lacks, some of
# devices not in the directory, some not reports) and an audit log with key
# reads inside and outside the last 30 days and lines that are not entries:
# Entra joined, hybrid
# joined and registered; no key, a few keys, 150+ keys; no owner, one, two;
# a display name that needs escaping in CSV
# (a formula) and HTML. The simulator's tenant file is the oracle: jq
# counts from it what the report must say, device by device. The app
# reading it holds only Device.Read.All, User.Read.All (owners' names) and
# BitLockerKey.ReadBasic.All.
# Also: --csv parses back (python3's csv module, when present), the HTML
# escapes the display name, Graph requests per device stay at most 0.1,
# and a throttled Graph (429 with Retry-After) changes no count.
# usage: test_assoc_report.sh SSRP_BINARY
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init assoc-report "$1"
N=${SSRP_REPORT_DEVICES:-1000}
demo_tenant --device-certs 0

# The tenant: the demo's users and apps, N generated devices and their keys.
now=$(date +%s)
"$(dirname "$0")/make_report_tenant.sh" "$work/demo.json" "$N" "$work/reports.json" "$work/audit.jsonl" "$now" \
	>"$work/tenant.json" || { echo "cannot build the tenant"; exit 1; }
start_cloud --state "$work/tenant.json" --device-certs 0 # the report needs none
demo_app_config "$work/config.json"

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
# ... and from the devices' reports: a report is of a device in the
# directory with GUID protectors; a protector Entra lacks has no key of
# that id for that device
jq -n --slurpfile t "$work/tenant.json" --slurpfile r "$work/reports.json" '
	def guid: test("^\\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\\}$");
	($t[0].devices | map(.deviceId)) as $ids |
	($t[0].recoveryKeys | map("\(.deviceId) \(.id | ascii_upcase)") | map({(.): true}) | add) as $have |
	[$r[0].devices[] | select((.deviceId | test("^[0-9a-f-]{36}$")) and all(.protectors[]; guid))] as $ok |
	[$ok[] | select(.deviceId as $x | $ids | index($x))] as $known |
	{devicesReported: ($known | length),
	 reportsOfUnknownDevices: (($ok | length) - ($known | length)),
	 reportsSkipped: (($r[0].devices | length) - ($ok | length)),
	 devicesLackingProtector: ([$known[] | . as $d | select(any(.protectors[];
		$have["\($d.deviceId) \(. | ltrimstr("{") | rtrimstr("}"))"] | not))] | length),
	 lacking: ([$known[] | . as $d | {(.deviceId): [.protectors[] |
		select($have["\($d.deviceId) \(. | ltrimstr("{") | rtrimstr("}"))"] | not)]}] | add)}' \
	>"$work/expected-reports.json"
# ... and from the audit log: key reads in the last 30 days, by both shapes
jq -R -n --argjson now "$now" '
	[inputs | select(test("^\\s*$") | not) | (try fromjson catch null)] as $lines |
	# skipped: not an object, no activity, or a key read without a time
	([$lines[] | select(type != "object" or (.activityDisplayName // .action) == null or
		((.activityDisplayName // .action) == "Read BitLocker key" and
		 ((.activityDateTime // .time) | try fromdateiso8601 catch null) == null))] | length) as $bad |
	[$lines[] | select(type == "object") |
	 {a: (.activityDisplayName // .action), t: (.activityDateTime // .time)} |
	 select(.a == "Read BitLocker key") | (.t | try fromdateiso8601 catch null) | select(. != null)] as $reads |
	{reads: ([$reads[] | select(. >= $now - 30 * 86400 and . <= $now)] | length),
	 linesSkipped: $bad,
	 readsOutsideWindow: ([$reads[] | select(. < $now - 30 * 86400 or . > $now)] | length)}' \
	"$work/audit.jsonl" >"$work/expected-reads.json"
jq '[.recoveryKeys | group_by(.deviceId)[] | {(.[0].deviceId): {keys: length,
	newest: (map(.createdDateTime) | max), oldest: (map(.createdDateTime) | min)}}] | add' \
	"$work/tenant.json" >"$work/expected-keys.json"

extras="--reports $work/reports.json --audit $work/audit.jsonl --days 30"
"$ssrp" assoc report --config "$work/config.json" --json $extras >"$work/report.json" 2>"$work/report.err"
expect "report --json: exit 0" 0 $?
for f in devices keys orphanKeys devicesWithoutKey devicesWithoutOwner devicesNearKeyLimit; do
	expect "summary $f" "$(jq ".$f" "$work/expected.json")" "$(jq ".summary.$f" "$work/report.json")"
done
for f in devicesReported reportsOfUnknownDevices reportsSkipped devicesLackingProtector; do
	expect "summary $f" "$(jq ".$f" "$work/expected-reports.json")" "$(jq ".summary.$f" "$work/report.json")"
done
[ "$(jq .devicesLackingProtector "$work/expected-reports.json")" -gt 0 ] &&
	[ "$(jq .devicesReported "$work/expected-reports.json")" -gt "$(jq .devicesLackingProtector "$work/expected-reports.json")" ] &&
	pass "the tenant has reported devices with and without a protector Entra lacks" ||
	fail "the tenant's reports do not mix both kinds"
expect "device by device: the protectors Entra lacks" "$(jq -c '.lacking' "$work/expected-reports.json")" \
	"$(jq -c '[.devices[] | select(.reported) | {(.deviceId): [.reported.protectors[] | select(.inEntra | not) | .id]}] | add' "$work/report.json")"
for f in reads readsOutsideWindow; do
	expect "key reads: $f" "$(jq ".$f" "$work/expected-reads.json")" "$(jq ".summary.keyReads.$f" "$work/report.json")"
done
[ "$(jq .reads "$work/expected-reads.json")" -gt 0 ] && [ "$(jq .readsOutsideWindow "$work/expected-reads.json")" -gt 0 ] &&
	pass "the audit log has key reads inside and outside the window" || fail "the audit log's reads are not mixed"
expect "key reads: bad lines skipped and counted" "$(jq .linesSkipped "$work/expected-reads.json")" \
	"$(jq .summary.keyReads.linesSkipped "$work/report.json")"
grep -q "lines skipped (the first, line" "$work/report.err" && pass "key reads: the skipped lines said on stderr" ||
	fail "key reads: no word of the skipped lines"
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
"$ssrp" assoc report --config "$work/config.json" $extras >"$work/report.txt" 2>&1
expect "text: exit 0" 0 $?
grep -q "^devices whose disk holds a protector Entra lacks: $(jq .devicesLackingProtector "$work/expected-reports.json")$" "$work/report.txt" &&
	pass "text: devices whose disk holds a protector Entra lacks" || fail "text: devices whose disk holds a protector Entra lacks"
grep -q "^keys read in the last 30 days: $(jq .reads "$work/expected-reads.json") " "$work/report.txt" &&
	pass "text: keys read in the last 30 days" || fail "text: keys read in the last 30 days"
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
"$ssrp" assoc report --config "$work/config.json" --json $extras >"$work/report2.json" 2>"$work/report2.err"
expect "throttled: exit 0" 0 $?
admin POST /admin/faults "" >/dev/null
expect "throttled: the same devices and counts" "$(jq -c '.devices' "$work/report.json")" \
	"$(jq -c '.devices' "$work/report2.json")"
expect "request log: no early retry" 0 "$(grep -c '"early_retry":true' "$SSRP_SIM_LOG")"

# without the permission: a clear refusal
jq '(.apps[] | select(.secretSha256 != null) | .roles) = ["Device.Read.All"]' "$work/tenant.json" >"$work/noperm.json"
stop_cloud
start_cloud --state "$work/noperm.json" --device-certs 0
demo_app_config "$work/config.json"
"$ssrp" assoc report --config "$work/config.json" >/dev/null 2>"$work/noperm.err"
expect "no BitLockerKey permission: exit 1" 1 $?
grep -q "recovery keys' metadata could not be read" "$work/noperm.err" &&
	pass "no BitLockerKey permission: says what could not be read" ||
	{ fail "no BitLockerKey permission: message"; cat "$work/noperm.err"; }

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
