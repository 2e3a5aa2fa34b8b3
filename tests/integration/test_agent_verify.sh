#!/bin/sh
# Escrow the device can prove, with the real parts (swtpm, the simulated
# cloud over HTTPS reached by libcurl, simulated volumes):
#   - verification: after a compliant run an administrator deletes the key
#     in Entra ID; between verifications a run still costs no request, and
#     the next verification (--verify, the interval passing, a journal whose
#     verification lies in the future) escrows it again, whatever the
#     journal says; status shows when and by what each was verified;
#   - re-registration: the device deleted in Entra ID and registered again
#     under a new device id: the next run escrows under the new id;
#   - hygiene: 3 rotations with agent.key_retention_days 0 leave Entra ID
#     holding exactly the key on the volume; a damaged journal never gets a
#     key still on the volume deleted; -1 keeps every key; the warning at
#     150 keys; the 200-key limit refused by the simulator and reported;
#   - agent.rotate_after_days: not before, and rotated (add, escrow,
#     verify, delete) once the escrow is that old;
#   - faults (429 with Retry-After, 503, connection resets) on the key list;
#     --timeout ends a run whose key list answers 429 with a long Retry-After
#     and the deletion: no key lost, and no retry earlier than Retry-After
#     (the simulator's request log).
# usage: test_agent_verify.sh SSRP_BINARY
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init agent-verify "$1"
start_swtpm
start_cloud
cloud_keys() { # cloud_keys DEVICE: the key ids Entra ID holds for it, sorted
	admin GET /admin/state | jq -r --arg d "$1" '.recoveryKeys[] | select(.deviceId==$d) | .id' | sort
}
delete_in_entra() { admin POST /admin/keys/delete "{\"kids\":[\"$(kid "$1")\"]}" >/dev/null; }
config() { # config FILE AGENT-JSON [BASE]: the simulator's configuration with that agent member
	jq --argjson a "$2" '.agent = ({"association":"off"} + $a)' "${3:-$SSRP_SIM_CONFIG}" >"$1"
}
agent() { # agent NAME CONFIG IMG [more]: `agent run --json` with the journal $work/<img name>/
	n=$1 c=$2 img=$3
	shift 3
	run "$n" "$ssrp" agent run --tpm "$tpm_spec" --config "$c" --volume "bitlk:$img?rw" \
		--journal "${img%.img}/agent.journal" --json "$@"
}
dev=$SSRP_SIM_DEVICE_ID
config "$work/day.json" '{}'
config "$work/short.json" '{"verify_interval_s":2}'

# ---- a key deleted in Entra ID is escrowed again ------------------------------
fresh v
V=$work/v.img
expect "first run: compliant" 0 "$(agent v1 "$work/day.json" "$V")"
expect "first run: verified in the same run" true "$(jq .verification.thisRun "$(L).out")"
expect "first run: one upload and one key list read" 2 "$(jq .run.httpRequests "$(L).out")"
expect "first run: the key list vouches for it" drs \
	"$(jq -r '.protectors[] | select(.type=="recovery-password") | .verifiedBy' "$(L).out")"
rp=$(rp_ids "$V")
expect "first run: Entra ID holds the key" "$(kid "$rp")" "$(cloud_keys "$dev")"
expect "second run: compliant" 0 "$(agent v2 "$work/day.json" "$V")"
expect "second run: no request" 0 "$(jq .run.httpRequests "$(L).out")"

delete_in_entra "$rp"
expect "deleted in Entra ID: gone" "" "$(cloud_keys "$dev")"
expect "deleted, before the verification is due: compliant" 0 "$(agent v3 "$work/day.json" "$V")"
expect "deleted, before the verification is due: no request" 0 "$(jq .run.httpRequests "$(L).out")"
expect "--verify: compliant" 0 "$(agent v4 "$work/day.json" "$V" --verify)"
contains "--verify: says the key was missing" "$(L).err" "is not in Entra ID although the journal records its escrow"
expect "--verify: escrowed again" 1 "$(jq .verification.escrowedAgain "$(L).out")"
expect "--verify: Entra ID holds the key again" "$(kid "$rp")" "$(cloud_keys "$dev")"
expect "--verify: same recovery password" "$rp" "$(rp_ids "$V")"
expect "status: answers" 0 "$(run vstat "$ssrp" agent status --config "$work/day.json" \
	--volume "bitlk:$V?rw" --journal "$work/v/agent.journal" --json)"
expect "status: verified by the key list" drs \
	"$(jq -r '.protectors[] | select(.type=="recovery-password") | .verifiedBy' "$(L).out")"
last=$(jq .verification.last "$(L).out")
next=$(jq .verification.next "$(L).out")
if [ "$next" -gt "$((last + 86400 * 9 / 10 - 1))" ] && [ "$next" -le "$((last + 86400))" ]; then
	pass "status: next verification within a day, less at most a tenth"
else fail "status: next verification $next after last $last"; fi

# the interval passing
expect "short interval: compliant" 0 "$(agent s1 "$work/short.json" "$V")"
delete_in_entra "$rp"
sleep 3
expect "interval passed: compliant" 0 "$(agent s2 "$work/short.json" "$V")"
expect "interval passed: escrowed again" 1 "$(jq .verification.escrowedAgain "$(L).out")"
expect "interval passed: Entra ID holds the key" "$(kid "$rp")" "$(cloud_keys "$dev")"

# the journal alone never stops it: a verification time in the future
J=$work/v/agent.journal
jq '.verified_at = 4000000000 | .escrowed[].verified = 4000000000' "$J" >"$J.new" &&
	chmod 600 "$J.new" && mv "$J.new" "$J"
delete_in_entra "$rp"
expect "journal verified in the future: compliant" 0 "$(agent f1 "$work/day.json" "$V")"
expect "journal verified in the future: escrowed again" 1 "$(jq .verification.escrowedAgain "$(L).out")"
expect "journal verified in the future: Entra ID holds the key" "$(kid "$rp")" "$(cloud_keys "$dev")"

# ---- faults on the key list: nothing lost, Retry-After honoured -------------
delete_in_entra "$rp"
faults "GET drs/manage/*:429:0.4@1; GET drs/manage/*:reset@2; GET drs/manage/*:503:0.2@3"
expect "faults on the key list: compliant" 0 "$(agent fl "$work/day.json" "$V" --verify)"
faults ""
expect "faults on the key list: escrowed again" "$(kid "$rp")" "$(cloud_keys "$dev")"
faults "GET drs/manage/*:503@1+"
delete_in_entra "$rp"
expect "key list unreadable: not yet (exit 11)" 11 "$(agent fx "$work/day.json" "$V" --verify)"
contains "key list unreadable: says so" "$(L).err" "the escrow could not be verified against Entra ID"
faults ""
expect "key list readable again: the next run escrows it" 0 "$(agent fy "$work/day.json" "$V")"
expect "key list readable again: Entra ID holds the key" "$(kid "$rp")" "$(cloud_keys "$dev")"

# ---- --timeout: the run's network calls end by its time limit -----------------
# Every key-list read answers 429 with a Retry-After of 8 s: without the time
# limit reaching the retry engine the run would wait it out.
faults "GET drs/manage/*:429:8@1+"
t0=$(date +%s)
ft_rc=$(agent ft "$work/day.json" "$V" --verify --timeout 2)
took=$(($(date +%s) - t0))
faults ""
case $ft_rc in 0) fail "timeout: the run claimed the key list was read" ;;
*) pass "timeout: the run did not claim a verification (exit $ft_rc)" ;; esac
if [ "$took" -le 5 ]; then pass "timeout: it ended after $took s, within its 2 s limit"
else fail "timeout: it ended after $took s, not by its 2 s limit"; fi
expect "timeout: --timeout 0 is refused" 2 "$(agent f0 "$work/day.json" "$V" --timeout 0)"
sleep $((9 - took)) # the Retry-After was for this device: the next request waits it out
expect "after the timeout: the next run is compliant" 0 "$(agent fw "$work/day.json" "$V" --verify)"

# ---- hygiene ------------------------------------------------------------------
config "$work/ret0.json" '{"key_retention_days":0}'
fresh h
H=$work/h.img
HJ=$work/h/agent.journal
expect "hygiene: first run" 0 "$(agent h0 "$work/ret0.json" "$H")"
rotate() { # rotate NAME: the journal asks for the current recovery password's rotation
	cur=$(rp_ids "$H")
	jq --arg u "$cur" '.rotation = {"used":$u,"new":""}' "$HJ" >"$HJ.new" &&
		chmod 600 "$HJ.new" && mv "$HJ.new" "$HJ"
	sleep 1 # distinct creation times in Entra ID
	agent "$1" "$work/ret0.json" "$H"
}
for i in 1 2 3; do
	before=$(rp_ids "$H")
	expect "rotation $i: compliant" 0 "$(rotate h$i)"
	after=$(rp_ids "$H")
	[ "$before" != "$after" ] && pass "rotation $i: a new recovery password" || fail "rotation $i: same one"
done
# (the device's keys of volume V, on no volume of this device now, go too)
expect "3 rotations, retention 0: Entra ID holds exactly the key on the disk" \
	"$(kid "$(rp_ids "$H")")" "$(cloud_keys "$dev")"
# keys on the volume are never deleted, even with a damaged journal
"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "bitlk:$H?rw" >/dev/null 2>&1 || fail "add a second recovery password"
expect "second password: escrowed" 0 "$(agent h4 "$work/ret0.json" "$H")"
printf 'not a journal' >"$HJ"
expect "damaged journal, retention 0: compliant" 0 "$(agent h5 "$work/ret0.json" "$H" --verify)"
on_disk=$(for id in $(rp_ids "$H"); do kid "$id"; done | sort)
expect "damaged journal: both keys on the volume still in Entra ID" "$on_disk" "$(cloud_keys "$dev")"
expect "damaged journal: nothing deleted" 0 "$(jq .verification.keysDeleted "$(L).out")"

# retention -1 keeps every key: seed old keys (uploads with the device certificate)
cert=$(jq -r .device.cert_file "$SSRP_SIM_CONFIG")
key=$(jq -r .device.key_file "$SSRP_SIM_CONFIG")
upload() { # upload N: N more keys for the device (never on a volume); last status in $work/up.st
	i=0
	while [ "$i" -lt "$1" ]; do
		g=$(cat /proc/sys/kernel/random/uuid)
		pw=$(awk -v seed="$i$$" 'BEGIN { srand(seed + systime()); for (k = 0; k < 8; k++) printf "%s%06d", k ? "-" : "", 11 * int(rand() * 65535) }')
		curl -sS $ct --cacert "$SSRP_SIM_CA" --cert "$cert" --key "$key" -o "$work/up.out" \
			-w '%{http_code}' -H 'Content-Type: application/json' -X POST \
			--data-binary "{\"key\":\"$pw\",\"kid\":\"$g\",\"vol\":\"OSV\"}" \
			"https://enterpriseregistration.windows.net/manage/$SSRP_SIM_TENANT_ID/device/$dev?api-version=1.0" \
			>"$work/up.st"
		i=$((i + 1))
	done
}
sleep 1 # the seeded keys are newer than the volume's
upload 3
config "$work/keep.json" '{"key_retention_days":-1}'
n_before=$(cloud_keys "$dev" | grep -c .)
expect "retention -1: compliant" 0 "$(agent k1 "$work/keep.json" "$H" --verify)"
expect "retention -1: every key kept" "$n_before" "$(cloud_keys "$dev" | grep -c .)"
config "$work/ret90.json" '{"key_retention_days":90}'
expect "retention 90: compliant" 0 "$(agent k2 "$work/ret90.json" "$H" --verify)"
expect "retention 90: new keys kept" "$n_before" "$(cloud_keys "$dev" | grep -c .)"

# faults on the deletion: nothing lost, and done at the next verification
faults "DELETE drs/manage/*:429:0.3@1; DELETE drs/manage/*:reset@2"
expect "faults on the deletion: compliant" 0 "$(agent d1 "$work/ret0.json" "$H" --verify)"
faults ""
# the newest key (the last seeded one) is never deleted
expect "faults on the deletion: the keys on the volume and the newest left" 3 \
	"$(cloud_keys "$dev" | grep -c .)"
expect "faults on the deletion: the keys on the volume kept" "$on_disk" \
	"$(cloud_keys "$dev" | grep -xF "$on_disk")"

# the warning at 150 keys, and the limit of 200
upload 147
expect "150 keys: compliant" 0 "$(agent w1 "$work/keep.json" "$H" --verify)"
contains "150 keys: warned" "$(L).err" "warning: Entra ID holds 150 recovery keys for this device"
expect "150 keys: counted" 150 "$(jq .verification.keysInEntra "$(L).out")"
upload 50
expect "200 keys: the simulator holds 200" 200 "$(cloud_keys "$dev" | grep -c .)"
upload 1
expect "201st key: refused" 409 "$(cat "$work/up.st")"
contains "201st key: Entra ID's limit named" "$work/up.out" "error_key_limit"
"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "bitlk:$H?rw" >/dev/null 2>&1 || fail "add a third recovery password"
expect "at the limit, retention -1: not yet (exit 11)" 11 "$(agent l1 "$work/keep.json" "$H")"
contains "at the limit: reported" "$(L).err" "the most a device can hold"
expect "at the limit, retention 0: room made, escrowed" 0 "$(agent l2 "$work/ret0.json" "$H")"
on_disk=$(for id in $(rp_ids "$H"); do kid "$id"; done | sort)
expect "at the limit, retention 0: Entra ID holds exactly the keys on the volume" "$on_disk" \
	"$(cloud_keys "$dev")"

early=$(grep -c '"early_retry":true' "$SSRP_SIM_LOG")
expect "request log: no early retry" 0 "$early"
retries=$(grep -c '"status":429' "$SSRP_SIM_LOG")
[ "$retries" -ge 2 ] && pass "request log: the 429s were sent ($retries)" || fail "request log: $retries 429s"

# ---- scheduled rotation ---------------------------------------------------------
config "$work/sched.json" '{"rotate_after_days":30}'
fresh s
S=$work/s.img
SJ=$work/s/agent.journal
expect "schedule: first run" 0 "$(agent sc1 "$work/sched.json" "$S")"
old=$(rp_ids "$S")
expect "schedule: not due yet: compliant" 0 "$(agent sc2 "$work/sched.json" "$S")"
expect "schedule: not due yet: no request" 0 "$(jq .run.httpRequests "$(L).out")"
expect "schedule: not due yet: same recovery password" "$old" "$(rp_ids "$S")"
jq '.escrowed[].at -= 40 * 86400' "$SJ" >"$SJ.new" && chmod 600 "$SJ.new" && mv "$SJ.new" "$SJ"
expect "schedule: 40 days later: compliant" 0 "$(agent sc3 "$work/sched.json" "$S")"
contains "schedule: says why" "$(L).err" "replacing it on schedule"
new_rp=$(rp_ids "$S")
expect "schedule: one recovery password" 1 "$(echo "$new_rp" | grep -c .)"
[ "$new_rp" != "$old" ] && pass "schedule: a new recovery password" || fail "schedule: not rotated"
cloud_keys "$dev" | grep -qx "$(kid "$new_rp")" && pass "schedule: the new one in Entra ID" ||
	fail "schedule: the new one is not in Entra ID"
expect "schedule: verified after the rotation" true "$(jq .verification.thisRun "$(L).out")"

# ---- re-registration: a new device id -----------------------------------------
admin GET /admin/state >"$work/state.json"
"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
new=$(cat /proc/sys/kernel/random/uuid)
jq --arg old "$dev" --arg new "$new" '
	.recoveryKeys |= map(select(.deviceId != $old)) |
	.devices |= map(if .deviceId == $old then .deviceId = $new | .id = $new else . end)' \
	"$work/state.json" >"$work/state2.json"
start_cloud --state "$work/state2.json"
config "$work/new.json" '{}' "$SSRP_SIM_DEVICE_CERT_DIR/$new.json"
expect "re-registered: compliant" 0 "$(agent r1 "$work/new.json" "$V")"
contains "re-registered: the old journal moved aside" "$(L).err" "belongs to device $dev"
expect "re-registered: the key under the new device id" "$(kid "$rp")" "$(cloud_keys "$new")"
expect "re-registered: reported under the new id" "$new" "$(jq -r .deviceId "$(L).out")"
expect "re-registered: next run costs nothing" 0 "$(agent r2 "$work/new.json" "$V")"
expect "re-registered: no request" 0 "$(jq .run.httpRequests "$(L).out")"

if grep -rqE '[0-9]{6}-[0-9]{6}-[0-9]{6}-[0-9]{6}' "$work/log"; then
	fail "a recovery password appears in the agent's output"
else pass "no recovery password in any output"; fi

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
