#!/bin/sh
# `ssrp agent` beside the story: a device that is not registered (exit 12,
# nothing touched); no TPM (exit 3, nothing changed); a volume protected by
# hand with two recovery passwords (both escrowed, none added); the
# association through an Automation webhook whose job runs `ssrp assoc
# handle` (alice becomes an owner); and no secret in any output.
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init agent-cases "$1"

cat >"$work/job.sh" <<EOS
#!/bin/sh
exec "$ssrp" assoc handle --config "$work/cloud/config.json" --json
EOS
chmod 700 "$work/job.sh"
start_swtpm
start_cloud --job-command "$work/job.sh"
cfg=$SSRP_SIM_CONFIG
jq 'del(.device)' "$cfg" >"$work/nodevice.json"
jq '.agent = {"association":"off"}' "$cfg" >"$work/noassoc.json"
jq '.agent = {"association":"webhook"}' "$cfg" >"$work/webhook.json"

# --- not registered: exit 12, the volume untouched, no journal
"$ssrp_sim" volume create --volume "sim:$work/a.img" --size 4M >/dev/null 2>&1
sum=$(sha256sum <"$work/a.img")
expect "not registered: exit 12" 12 "$(run noreg "$ssrp" agent run --tpm "$tpm_spec" --config "$work/nodevice.json" \
	--volume "bitlk:$work/a.img?rw" --journal "$work/a.journal")"
contains "not registered: says so" "$(L).err" "not registered"
expect "not registered: volume untouched" "$sum" "$(sha256sum <"$work/a.img")"
[ -e "$work/a.journal" ] && fail "not registered: a journal was written" || pass "not registered: no journal"
expect "not registered: status exit 12" 12 "$(run noreg-status "$ssrp" agent status --config "$work/nodevice.json" \
	--volume "bitlk:$work/a.img?rw" --journal "$work/a.journal" --json)"
expect "not registered: status --json" not-registered "$(jq -r .state "$(L).out")"

# --- no TPM: exit 3, nothing changed
expect "no TPM: exit 3" 3 "$(run notpm "$ssrp" agent run --config "$work/noassoc.json" \
	--volume "bitlk:$work/a.img?rw" --journal "$work/a.journal" --tpm "swtpm:host=127.0.0.1,port=1")"
contains "no TPM: says so" "$(L).err" "no TPM is ready"
expect "no TPM: volume untouched" "$sum" "$(sha256sum <"$work/a.img")"
[ -e "$work/a.journal" ] && fail "no TPM: a journal was written" || pass "no TPM: no journal"

# --- protected by hand with two recovery passwords: both escrowed, none added
v="bitlk:$work/b.img?rw"
"$ssrp_sim" volume create --volume "sim:$work/b.img" --size 4M >/dev/null 2>&1
"$ssrp" volume add-tpm --tpm "$tpm_spec" --volume "$v" >/dev/null 2>&1
"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "$v" >/dev/null 2>&1
"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "$v" >/dev/null 2>&1
expect "by hand: protection on" 0 "$(run byhand-on "$ssrp" volume protection --tpm "$tpm_spec" on --volume "$v")"
expect "by hand: agent compliant" 0 "$(run byhand "$ssrp" agent run --tpm "$tpm_spec" --config "$work/noassoc.json" \
	--volume "$v" --journal "$work/b.journal" --json)"
expect "by hand: still two recovery passwords" 2 \
	"$(jq '[.protectors[] | select(.type=="recovery-password")] | length' "$(L).out")"
expect "by hand: both escrowed" 2 \
	"$(jq '[.protectors[] | select(.type=="recovery-password" and .escrowed)] | length' "$(L).out")"
expect "by hand: two uploads and one key list read" 3 "$(jq .run.httpRequests "$(L).out")"
expect "by hand: both verified by the key list" 2 \
	"$(jq '[.protectors[] | select(.verifiedBy=="drs")] | length' "$(L).out")"
expect "by hand: no protector added" 0 "$(jq .run.volumeChanges "$(L).out")"
ids=$(jq -r '.protectors[] | select(.type=="recovery-password") | .id' "$(L).out" | tr -d '{}' | tr 'A-Z' 'a-z')
state
for id in $ids; do
	expect "by hand: Entra ID has $id" "$SSRP_SIM_DEVICE_ID" \
		"$(jq -r --arg k "$id" '.recoveryKeys[] | select(.id==$k) | .deviceId' "$work/state.json")"
done

# --- webhook mode: the Automation job makes alice an owner
expect "webhook: agent compliant" 0 "$(run webhook "$ssrp" agent run --tpm "$tpm_spec" --config "$work/webhook.json" \
	--volume "$v" --journal "$work/b.journal" --json)"
contains "webhook: accepted" "$(L).err" "went to the association webhook"
expect "webhook: one request" 1 "$(jq .run.httpRequests "$(L).out")"
expect "webhook: mode" webhook "$(jq -r .association.mode "$(L).out")"
alice=no
for _ in $(seq 1 50); do
	state
	alice_id=$(jq -r --arg u "$SSRP_SIM_USER_UPN" '.users[] | select(.userPrincipalName==$u) | .id' "$work/state.json")
	alice=$(jq -r --arg d "$SSRP_SIM_DEVICE_ID" --arg a "$alice_id" \
		'.devices[] | select(.deviceId==$d) | if (.registeredOwners | index($a)) then "yes" else "no" end' "$work/state.json")
	[ "$alice" = yes ] && break
	sleep 0.2
done
expect "webhook: the job made alice an owner" yes "$alice"
expect "webhook: next run sends nothing" 0 "$(run webhook2 "$ssrp" agent run --tpm "$tpm_spec" --config "$work/webhook.json" \
	--volume "$v" --journal "$work/b.journal" --json)"
expect "webhook: 0 requests" 0 "$(jq .run.httpRequests "$(L).out")"
expect "webhook: forced sends again" 0 "$(run webhook3 "$ssrp" agent run --tpm "$tpm_spec" --config "$work/webhook.json" \
	--volume "$v" --journal "$work/b.journal" --json --force-association)"
expect "webhook: forced, one request" 1 "$(jq .run.httpRequests "$(L).out")"

# --- no secret anywhere
cp "$work/b.journal" "$work/log/journal"
cp "$SSRP_SIM_LOG" "$work/log/requests.jsonl"
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
[ -n "$hook_token" ] && pass "the webhook token is known" || fail "no webhook token found"
expect "no secret in any output" 0 "$leaks"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
