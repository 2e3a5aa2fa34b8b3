#!/bin/sh
# The whole story end to end, with the real parts: a software TPM, the
# simulated cloud, `ssrp assoc serve` (service mode), a simulated OS volume
# with data, and `ssrp agent run` as a device would run it.
#   first run: TPM protector + recovery password + escrow (the key is in
#   Entra ID for the device) + protection on + association (alice becomes an
#   owner); second run: compliant, 0 requests, 0 unseals, 0 writes; a
#   firmware update (PCR 7) makes the TPM refuse; alice recovers with `ssrp
#   recover --unlock` (which reseals); the data is intact; the next run
#   rotates (new password escrowed, the used one deleted) and is compliant;
#   bob is refused the key.
# Then every output of the story (stdout/stderr of each command, the
# journal, the request log, the association audit) is searched for the
# recovery passwords, tokens and the webhook token: none may appear.
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init agent-story "$1"
n=0
run() { # run NAME CMD...: exit status; output in $work/log/NN-NAME.{out,err}
	n=$((n + 1))
	name=$(printf '%02d-%s' "$n" "$1")
	shift
	"$@" >"$work/log/$name.out" 2>"$work/log/$name.err" </dev/null
	rc=$?
	echo "$work/log/$name" >"$work/last"
	echo $rc
}
start_swtpm
start_cloud
cfg=$SSRP_SIM_CONFIG
audit=$(jq -r .assoc.audit "$cfg")
start_serve --config "$cfg"

img=$work/os.img
vol="bitlk:$img?rw"
journal=$work/agent.journal
agent() { "$ssrp" agent run --tpm "$tpm_spec" --config "$cfg" --volume "$vol" --journal "$journal" "$@"; }

# --- a simulated OS volume with data
expect "volume created" 0 "$(run create "$ssrp_sim" volume create --volume "sim:$img" --size 8M)"
head -c 65536 /dev/urandom >"$work/data"
expect "data written" 0 "$(run write "$ssrp" volume write --tpm "$tpm_spec" --volume "$vol" --offset 1048576 --in "$work/data")"

# --- first run
expect "first run: compliant" 0 "$(run agent1 agent)"
contains "TPM protector added" "$(cat "$work/last").err" "the volume had no TPM protector: added {"
contains "recovery password added" "$(cat "$work/last").err" "the volume has no recovery password: added {"
contains "escrowed" "$(cat "$work/last").err" "is escrowed to Entra ID"
contains "protection on" "$(cat "$work/last").err" "protection is on"
contains "association sent" "$(cat "$work/last").err" "went to the association service: CONTOSO\\alice: added"
expect "status --json after the first run" 0 "$(run status1 "$ssrp" agent status --config "$cfg" --volume "$vol" --journal "$journal" --json)"
rp1=$(jq -r '.protectors[] | select(.type=="recovery-password") | .id' "$(cat "$work/last").out")
rp1_escrowed=$(jq -r '.protectors[] | select(.type=="recovery-password") | .escrowed' "$(cat "$work/last").out")
expect "one recovery password, escrowed" true "$rp1_escrowed"
expect "protection on (status)" true "$(jq -r .protectionOn "$(cat "$work/last").out")"
state
kid1=$(echo "$rp1" | tr -d '{}' | tr 'A-Z' 'a-z')
expect "Entra ID has the key for the device" "$SSRP_SIM_DEVICE_ID" \
	"$(jq -r --arg k "$kid1" '.recoveryKeys[] | select(.id==$k) | .deviceId' "$work/state.json")"
alice_id=$(jq -r --arg u "$SSRP_SIM_USER_UPN" '.users[] | select(.userPrincipalName==$u) | .id' "$work/state.json")
expect "alice is a registered owner" yes \
	"$(jq -r --arg d "$SSRP_SIM_DEVICE_ID" --arg a "$alice_id" \
		'.devices[] | select(.deviceId==$d) | if (.registeredOwners | index($a)) then "yes" else "no" end' "$work/state.json")"

# --- second run: nothing to do, nothing spent
expect "second run: compliant" 0 "$(run agent2 agent --json)"
expect "second run: 0 HTTPS requests" 0 "$(jq -r .run.httpRequests "$(cat "$work/last").out")"
expect "second run: 0 unseals" 0 "$(jq -r .run.tpmUnseals "$(cat "$work/last").out")"
expect "second run: 0 durable writes" 0 "$(jq -r .run.durableWrites "$(cat "$work/last").out")"

# --- a firmware update: the TPM refuses to unlock
expect "firmware update measured" 0 "$(run firmware "$ssrp" tpm pcr-extend --tpm "$tpm_spec" 7 --data "firmware 2.0")"
expect "TPM unlock refused (PCR mismatch)" 4 "$(run unlock-tpm "$ssrp" volume unlock --tpm "$tpm_spec" --volume "$vol")"

# --- alice recovers her own device
key8=$(echo "$rp1" | tr -d '{' | cut -c1-8)
expect "alice recovers and unlocks" 0 "$(run recover-alice "$ssrp" recover --tpm "$tpm_spec" --config "$cfg" \
	--username "$SSRP_SIM_USER_UPN" --password-file "$SSRP_SIM_USER_PASSWORD_FILE" \
	--key-id "$key8" --unlock "$vol")"
contains "resealed" "$(cat "$work/last").out" "sealed its TPM protector"
expect "TPM unlocks again" 0 "$(run unlock-tpm2 "$ssrp" volume unlock --tpm "$tpm_spec" --volume "$vol")"
expect "data read back" 0 "$(run read "$ssrp" volume read --tpm "$tpm_spec" --volume "$vol" --offset 1048576 --length 65536 --out "$work/data.back")"
if cmp -s "$work/data" "$work/data.back"; then pass "data intact"; else fail "data differs"; fi
expect "status: rotation pending" 11 "$(run status2 "$ssrp" agent status --config "$cfg" --volume "$vol" --journal "$journal" --json)"
expect "status says rotation" true "$(jq -r .rotationPending "$(cat "$work/last").out")"

# --- the next run rotates
expect "rotation run: compliant" 0 "$(run agent3 agent --json)"
contains "the used one replaced" "$(cat "$work/last").err" "unlocked the volume: replacing it"
contains "the used one deleted" "$(cat "$work/last").err" "deleted the used recovery password $rp1"
rp2=$(jq -r '.protectors[] | select(.type=="recovery-password") | .id' "$(cat "$work/last").out")
expect "exactly one recovery password" 1 "$(echo "$rp2" | grep -c .)"
if [ "$rp2" != "$rp1" ]; then pass "a new recovery password"; else fail "the used one is still there"; fi
expect "the new one escrowed" true "$(jq -r '.protectors[] | select(.type=="recovery-password") | .escrowed' "$(cat "$work/last").out")"
state
kid2=$(echo "$rp2" | tr -d '{}' | tr 'A-Z' 'a-z')
expect "Entra ID has the new key" "$SSRP_SIM_DEVICE_ID" \
	"$(jq -r --arg k "$kid2" '.recoveryKeys[] | select(.id==$k) | .deviceId' "$work/state.json")"
expect "then compliant at no cost" 0 "$(run agent4 agent --json)"
expect "no cost: requests" 0 "$(jq -r .run.httpRequests "$(cat "$work/last").out")"
expect "no cost: unseals" 0 "$(jq -r .run.tpmUnseals "$(cat "$work/last").out")"

# --- bob is refused the key
key8b=$(echo "$rp2" | tr -d '{' | cut -c1-8)
expect "bob is refused" 10 "$(run recover-bob "$ssrp" recover --tpm "$tpm_spec" --config "$cfg" \
	--username "$SSRP_SIM_USER2_UPN" --password-file "$SSRP_SIM_USER2_PASSWORD_FILE" --key-id "$key8b")"

# --- no secret in any output
stop_serve
cp "$journal" "$work/log/journal"
cp "$SSRP_SIM_LOG" "$work/log/requests.jsonl"
[ -f "$audit" ] && cp "$audit" "$work/log/assoc-audit.jsonl"
hook_token=$(sed -n 's/.*token=\([^&]*\).*/\1/p' "$SSRP_SIM_WEBHOOK_URL_FILE")
secrets=$(jq -r '.recoveryKeys[].key' "$work/state.json")
leaks=0
for s in $secrets "$hook_token" eyJ; do
	[ -n "$s" ] || continue
	if grep -rlF -- "$s" "$work/log" >"$work/leak" 2>/dev/null; then
		leaks=$((leaks + 1))
		echo "  secret found in: $(tr '\n' ' ' <"$work/leak")"
	fi
done
expect "no recovery password, token or webhook token in any output ($(ls "$work/log" | wc -l) files)" 0 "$leaks"
[ "$(echo "$secrets" | grep -c .)" -ge 2 ] && pass "the search knew both passwords" || fail "passwords not found in the state"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
