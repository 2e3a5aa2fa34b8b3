#!/bin/sh
# The device's report on the association call, with the real parts (swtpm,
# the simulated cloud over HTTPS, ssrp-assocd, simulated volumes):
#   - the agent's association carries its recovery protector ids and its
#     verdict; ssrp-assocd keeps them in STATE_DIR/device-reports.json;
#   - a compliant run that changed nothing makes no request; a recovery
#     password added by hand is reported on the next run, on the same call;
#   - `ssrp assoc report --reports FILE` shows each protector on the disk
#     and whether Entra ID holds its key; a key deleted in Entra ID makes
#     the device one "whose disk holds a protector Entra lacks";
#   - a cache file that is garbage is moved aside with a log line and
#     rebuilt; a bad entry is skipped and counted; reports that are not
#     valid (a protector id that is not a GUID, too many) are refused 400
#     naming the member.
# usage: test_agent_report.sh SSRP_BINARY
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init agent-report "$1"
start_swtpm
start_cloud
dev=$SSRP_SIM_DEVICE_ID
cfg=$work/config.json
jq '.agent = {}' "$SSRP_SIM_CONFIG" >"$cfg"   # association: the service (assoc.url)
# the report reads the tenant app-only: the demo app holds Device.Read.All,
# User.Read.All and BitLockerKey.Read.All
admin GET /admin/state | jq -e '.apps[] | select(.secretSha256 != null) | .roles |
	index("Device.Read.All") and index("User.Read.All") and index("BitLockerKey.Read.All")' >/dev/null ||
	fail "the demo app lacks the report's permissions"
state=$work/state
mkdir -m 700 "$state"
cache=$state/device-reports.json
serve() { start_serve --config "$cfg" --state-dir "$state"; }
# the cache, once it names the device with N protectors (the service writes
# it every few seconds)
cached() { # cached N: the device's entry
	for _ in $(seq 1 60); do
		e=$(jq -c --arg d "$dev" '.devices[]? | select(.deviceId == $d)' "$cache" 2>/dev/null)
		[ -n "$e" ] && [ "$(echo "$e" | jq '.protectors | length')" = "$1" ] && { echo "$e"; return; }
		sleep 0.1
	done
	echo "{}"
}
agent() { # agent NAME [more]
	n=$1
	shift
	run "$n" "$ssrp" agent run --tpm "$tpm_spec" --config "$cfg" --volume "bitlk:$work/os.img?rw" \
		--journal "$work/j/agent.journal" --json "$@"
}
report() { # report NAME [more]: `assoc report --json` with the cache
	run "$1" "$ssrp" assoc report --config "$cfg" --reports "$cache" --json
}
reported_rps() { jq -r '.protectors[] | select(.type=="recovery-password") | .id' "$1" | sort; }
serve
"$ssrp_sim" volume create --volume "sim:$work/os.img" --size 4M >/dev/null 2>&1 || fail "volume create"
mkdir -m 700 "$work/j"

# ---- the report rides on the association ----------------------------------------
expect "first run: compliant" 0 "$(agent a1)"
expect "first run: escrow, key list, association" 3 "$(jq .run.httpRequests "$(L).out")"
rp=$(reported_rps "$(L).out")
e=$(cached 1)
expect "cache: the device's recovery protector" "$rp" "$(echo "$e" | jq -r '.protectors[0]')"
expect "cache: compliant" compliant "$(echo "$e" | jq -r .state)"
[ "$(echo "$e" | jq '.verifiedAt > 0 and .receivedAt > 0')" = true ] &&
	pass "cache: when verified and received" || fail "cache: times: $e"
expect "second run: compliant" 0 "$(agent a2)"
expect "second run: no request at all" 0 "$(jq .run.httpRequests "$(L).out")"

"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "bitlk:$work/os.img?rw" >/dev/null 2>&1 ||
	fail "add-recovery by hand"
expect "a recovery password added by hand: compliant" 0 "$(agent a3)"
expect "added by hand: escrow, key list, association (no extra request)" 3 "$(jq .run.httpRequests "$(L).out")"
rps=$(reported_rps "$(L).out")
e=$(cached 2)
expect "cache: both protectors" "$rps" "$(echo "$e" | jq -r '.protectors[]' | sort)"
agent a4 >/dev/null
expect "after the report: no request" 0 "$(jq .run.httpRequests "$(L).out")"

# ---- the administrator's view -------------------------------------------------------
expect "report: exit 0" 0 "$(report r1)"
expect "report: one device reported" 1 "$(jq .summary.devicesReported "$(L).out")"
expect "report: its protectors, each in Entra ID" "$(echo "$rps" | sed 's/$/ true/')" \
	"$(jq -r --arg d "$dev" '.devices[] | select(.deviceId == $d) | .reported.protectors[] | "\(.id) \(.inEntra)"' "$(L).out" | sort)"
expect "report: no disk holds a protector Entra lacks" 0 "$(jq .summary.devicesLackingProtector "$(L).out")"
gone=$(echo "$rps" | head -n 1)
admin POST /admin/keys/delete "{\"kids\":[\"$(kid "$gone")\"]}" >/dev/null
expect "key deleted in Entra ID: report exit 0" 0 "$(report r2)"
expect "key deleted: one device whose disk holds a protector Entra lacks" 1 \
	"$(jq .summary.devicesLackingProtector "$(L).out")"
expect "key deleted: that protector not in Entra ID" "$gone false" \
	"$(jq -r --arg d "$dev" '.devices[] | select(.deviceId == $d) | .reported.protectors[] | select(.inEntra | not) | "\(.id) \(.inEntra)"' "$(L).out")"
run r3 "$ssrp" assoc report --config "$cfg" --reports "$cache" >/dev/null
contains "text: the summary line" "$(L).out" "devices whose disk holds a protector Entra lacks: 1"
contains "text: the device and its protector" "$(L).out" "$gone (NOT in Entra ID)"
run r4 "$ssrp" assoc report --config "$cfg" --reports "$cache" --csv >/dev/null
contains "csv: the verdict column" "$(L).out" ",compliant,\"{"
contains "csv: the protectors column" "$(L).out" "$gone (NOT in Entra ID)"
expect "no reports file: exit 0, none reported" "0 0" \
	"$(run r5 "$ssrp" assoc report --config "$cfg" --reports "$work/none.json" --json) $(jq .summary.devicesReported "$(L).out")"

# ---- a cache that is not one ------------------------------------------------------
stop_serve
printf 'not a cache {' >"$cache"
serve
contains "garbage cache: said on start" "$work/log/serve.err" "ignoring the device reports"
[ -n "$(ls "$state" | grep 'device-reports.json.corrupt-')" ] && pass "garbage cache: moved aside" ||
	fail "garbage cache: not moved aside: $(ls "$state")"
expect "garbage cache: the service answers" 0 "$(agent a5 --force-association)"
expect "garbage cache: rebuilt from the next report" "$rps" "$(cached 2 | jq -r '.protectors[]' | sort)"
stop_serve
jq -c '.devices += [{"deviceId":"not-a-guid","state":"compliant","protectors":[]}]' "$cache" >"$work/c.json" &&
	cp "$work/c.json" "$cache"
serve
contains "bad entry: skipped and counted" "$work/log/serve.err" "1 device report ignored"
contains "bad entry: the good one kept" "$work/log/serve.err" "1 device report from"
expect "bad entry: report exit 0" 0 "$(report r6)"
expect "bad entry: the report counts it skipped" 1 "$(jq .summary.reportsSkipped "$(L).out")"

# ---- what a device sends is checked --------------------------------------------------
post() { # post BODY: the HTTP status; the answer in $work/post.out
	curl -sS $(jq -r '.connect_to[] | "--connect-to " + .' "$cfg") --cacert "$(jq -r .ca_file "$cfg")" --cert "$(jq -r .device.cert_file "$cfg")" \
		--key "$(jq -r .device.key_file "$cfg")" -H 'Content-Type: application/json' \
		-o "$work/post.out" -w '%{http_code}' --data-binary "$1" "$(jq -r .assoc.url "$cfg")v1/associate"
}
user=$(jq -r '.device.primary_users[0]' "$cfg")
body() { jq -nc --arg d "$dev" --arg u "$user" --argjson r "$1" '{deviceId: $d, users: [$u], report: $r}'; }
expect "a protector id that is not a GUID: 400" 400 "$(post "$(body '{"state":"compliant","protectors":["{1234}"]}')")"
contains "not a GUID: names the member" "$work/post.out" "report: protectors[0]"
many=$(seq 1 33 | awk '{ printf "%s\"%08d-0000-4000-8000-000000000000\"", (NR > 1 ? "," : ""), $1 }')
expect "33 protectors: 400" 400 "$(post "$(body "{\"state\":\"compliant\",\"protectors\":[$many]}")")"
contains "33 protectors: says the bound" "$work/post.out" "at most 32"
expect "an unknown state: 400" 400 "$(post "$(body '{"state":"fine","protectors":[]}')")"
expect "the cache still holds the agent's report" "$rps" "$(cached 2 | jq -r '.protectors[]' | sort)"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
