#!/bin/sh
# `ssrp agent` and its journal, with the real parts (swtpm, the simulated
# cloud over HTTPS, simulated volumes):
#   - trust: a journal owned by another user, or writable by group or
#     others, or in a directory others may write, is refused (exit 1, the
#     message says what is wrong) and nothing changes; status refuses too;
#   - the journal is not proof: a journal claiming the escrow of a recovery
#     password never uploaded does not turn protection on, and a forged
#     rotation does not delete the only escrowed password, until the Device
#     Registration Service confirms the replacement (uploads refused: not
#     yet, exit 11; uploads allowed: escrowed, then done);
#   - a file that is not a journal of this device is moved aside
#     (JOURNAL.corrupt-<time>, its bytes kept) and a fresh journal started;
#     status reads it as empty and leaves it where it is;
#   - one run at a time: with the lock held elsewhere a run waits, then
#     exits 13 having changed nothing (status still answers); two runs
#     started together add exactly one recovery password.
# usage: test_agent_journal.sh SSRP_BINARY (runs as root for the chown cases;
# as another user those are skipped).
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init agent-journal "$1"
command -v flock >/dev/null 2>&1 || { echo "flock is needed"; exit 77; }
test_cleanup() { [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null; }

start_swtpm
start_cloud
cfg=$work/config.json
jq '.agent = {"association":"off"}' "$SSRP_SIM_CONFIG" >"$cfg"
in_cloud() { # in_cloud ID: the device id Entra ID has the key under, or ""
	admin GET /admin/state | jq -r --arg k "$(kid "$1")" '.recoveryKeys[] | select(.id==$k) | .deviceId'
}
agent() { # agent NAME IMG JOURNAL [more]: `agent run --json`
	n=$1 img=$2 j=$3
	shift 3
	run "$n" "$ssrp" agent run --tpm "$tpm_spec" --config "$cfg" --volume "bitlk:$img?rw" --journal "$j" --json "$@"
}
dev=$SSRP_SIM_DEVICE_ID

# ---- trust: who may have written the journal --------------------------------
fresh t
J=$work/t/agent.journal
printf '{"version":1}\n' >"$J"
chmod 600 "$J"
sum=$(sha256sum <"$work/t.img")
jsum=$(sha256sum <"$J")
if [ "$(id -u)" = 0 ]; then
	chown 65534 "$J"
	expect "journal of another user: refused" 1 "$(agent trust-owner "$work/t.img" "$J")"
	contains "journal of another user: says whose" "$(L).err" "belongs to uid 65534"
	contains "journal of another user: nothing changed (says so)" "$(L).err" "changed nothing"
	expect "journal of another user: volume untouched" "$sum" "$(sha256sum <"$work/t.img")"
	expect "journal of another user: status refused" 1 "$(run trust-owner-status "$ssrp" agent status \
		--config "$cfg" --volume "bitlk:$work/t.img?rw" --journal "$J")"
	contains "journal of another user: status says whose" "$(L).err" "belongs to uid 65534"
	chown 0 "$J"
	chown 65534 "$work/t"
	expect "directory of another user: refused" 1 "$(agent trust-dirowner "$work/t.img" "$J")"
	contains "directory of another user: says whose" "$(L).err" "belongs to uid 65534"
	chown 0 "$work/t"
else
	echo "skip the chown cases: not root"
fi
chmod 602 "$J"
expect "journal writable by others: refused" 1 "$(agent trust-mode "$work/t.img" "$J")"
contains "journal writable by others: says so" "$(L).err" "writable by group or others"
chmod 600 "$J"
chmod 770 "$work/t"
expect "directory writable by its group: refused" 1 "$(agent trust-dir "$work/t.img" "$J")"
contains "directory writable by its group: says so" "$(L).err" "chmod go-w $work/t"
chmod 1777 "$work/t"
expect "sticky directory others may write: refused" 1 "$(agent trust-sticky "$work/t.img" "$J")"
chmod 700 "$work/t"
expect "refusals: volume untouched" "$sum" "$(sha256sum <"$work/t.img")"
expect "refusals: journal untouched" "$jsum" "$(sha256sum <"$J")"
[ -e "$J.lock" ] && fail "refusals: a lock file was made" || pass "refusals: no lock file made"
expect "trusted again: compliant" 0 "$(agent trust-ok "$work/t.img" "$J")"

# ---- a journal is not proof of escrow ---------------------------------------
fresh f
J=$work/f/agent.journal
"$ssrp" volume add-tpm --tpm "$tpm_spec" --volume "bitlk:$work/f.img?rw" >/dev/null 2>&1 || fail "add-tpm f"
"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "bitlk:$work/f.img?rw" >/dev/null 2>&1 || fail "add-recovery f"
rp=$(rp_ids "$work/f.img")
(umask 077 && printf '{"version":1,"device_id":"%s","escrowed":[{"id":"%s","at":1764000000}]}\n' \
	"$dev" "$rp" >"$J")
faults "POST drs/*:429:0"
expect "forged escrow, uploads refused: not yet" 11 "$(agent forged "$work/f.img" "$J")"
contains "forged escrow: the service does not list it" "$(L).err" "does not list it"
expect "forged escrow: protection stays off" off "$(vstatus "$work/f.img" .protection)"
expect "forged escrow: Entra ID has no key" "" "$(in_cloud "$rp")"
faults ""
expect "forged escrow, uploads allowed: compliant" 0 "$(agent forged2 "$work/f.img" "$J")"
expect "forged escrow: protection on now" on "$(vstatus "$work/f.img" .protection)"
expect "forged escrow: Entra ID has the key now" "$dev" "$(in_cloud "$rp")"
expect "then compliant at no cost" 0 "$(agent forged3 "$work/f.img" "$J")"
expect "no cost: requests" 0 "$(jq .run.httpRequests "$(L).out")"

# a forged rotation: the escrowed password would go for one never uploaded
"$ssrp" volume add-recovery --tpm "$tpm_spec" --volume "bitlk:$work/f.img?rw" >/dev/null 2>&1 || fail "add-recovery f 2"
rp2=$(rp_ids "$work/f.img" | grep -v "^$rp\$")
(umask 077 && printf '{"version":1,"device_id":"%s","escrowed":[{"id":"%s","at":1764000000},{"id":"%s","at":1764000001}],"rotation":{"used":"%s","new":"%s"}}\n' \
	"$dev" "$rp" "$rp2" "$rp" "$rp2" >"$J")
faults "POST drs/*:429:0"
expect "forged rotation, uploads refused: not yet" 11 "$(agent rot "$work/f.img" "$J")"
contains "forged rotation: the used one stays" "$(L).err" "the used one stays"
expect "forged rotation: the escrowed password is still there" 1 \
	"$(rp_ids "$work/f.img" | grep -c "^$rp\$")"
expect "forged rotation: the new one is not in Entra ID" "" "$(in_cloud "$rp2")"
faults ""
expect "forged rotation, uploads allowed: compliant" 0 "$(agent rot2 "$work/f.img" "$J")"
expect "forged rotation: the new one is in Entra ID" "$dev" "$(in_cloud "$rp2")"
expect "forged rotation: only the new one is left" "$rp2" "$(rp_ids "$work/f.img")"

# ---- a file that is not a journal: moved aside, never overwritten -----------
J=$work/f/agent.journal
(umask 077 && printf 'this is not a journal\n' >"$J")
cp "$J" "$work/garbage"
expect "garbage journal: status not yet" 11 "$(run g-status "$ssrp" agent status --config "$cfg" \
	--volume "bitlk:$work/f.img?rw" --journal "$J")"
if cmp -s "$J" "$work/garbage" && ! ls "$J".corrupt-* >/dev/null 2>&1; then
	pass "garbage journal: status leaves it where it is"
else fail "garbage journal: status moved or changed it"; fi
expect "garbage journal: run compliant" 0 "$(agent g-run "$work/f.img" "$J")"
contains "garbage journal: reported" "$(L).err" "moved it aside to $J.corrupt-"
moved=$(jq -r .journalMovedTo "$(L).out")
case $moved in "$J".corrupt-*) pass "garbage journal: --json names $moved" ;;
*) fail "garbage journal: journalMovedTo is '$moved'" ;; esac
if cmp -s "$moved" "$work/garbage"; then pass "garbage journal: its bytes kept"; else
	fail "garbage journal: $moved does not hold the old bytes"; fi
expect "garbage journal: a fresh journal" 1 "$(jq .version "$J" 2>/dev/null)"
expect "garbage journal: escrowed again, then verified" 2 "$(jq .run.httpRequests "$(L).out")"
expect "garbage journal: rerun compliant" 0 "$(agent g-run2 "$work/f.img" "$J")"
expect "garbage journal: rerun costs nothing" 0 "$(jq .run.httpRequests "$(L).out")"
expect "garbage journal: rerun moves nothing" null "$(jq .journalMovedTo "$(L).out")"
(umask 077 && printf '{"version":1,"device_id":"0b0b0b0b-0000-4000-8000-000000000001"}\n' >"$J")
expect "another device's journal: run compliant" 0 "$(agent g-other "$work/f.img" "$J")"
contains "another device's journal: moved aside" "$(L).err" "belongs to device 0b0b0b0b-"
expect "another device's journal: two kept aside" 2 "$(ls "$J".corrupt-* | wc -l | tr -d ' ')"

# ---- one run at a time ------------------------------------------------------
fresh k
J=$work/k/agent.journal
sum=$(sha256sum <"$work/k.img")
flock "$J.lock" sleep 15 &
holder=$!
i=0
while flock -n "$J.lock" true 2>/dev/null && [ $i -lt 50 ]; do # until the holder has it
	sleep 0.1
	i=$((i + 1))
done
t0=$(date +%s)
expect "lock held: run exits 13" 13 "$(agent busy "$work/k.img" "$J")"
waited=$(($(date +%s) - t0))
contains "lock held: says another run is in progress" "$(L).err" "another run of the agent is in progress"
[ "$waited" -ge 4 ] && pass "lock held: waited ${waited} s first" || fail "lock held: gave up after ${waited} s"
expect "lock held: volume untouched" "$sum" "$(sha256sum <"$work/k.img")"
[ -e "$J" ] && fail "lock held: a journal was written" || pass "lock held: no journal written"
expect "lock held: status still answers" 11 "$(run busy-status "$ssrp" agent status --config "$cfg" \
	--volume "bitlk:$work/k.img?rw" --journal "$J")"
expect "ssrp help lists exit 13" 1 "$("$ssrp" help | grep -c '13 agent: another run is in progress')"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
holder=""

# two runs at once: the first upload is slow, so the other waits for the lock
fresh c
J=$work/c/agent.journal
faults "POST drs/*:latency:2000@1"
agent conc1 "$work/c.img" "$J" >"$work/conc1.rc" &
p1=$!
agent conc2 "$work/c.img" "$J" >"$work/conc2.rc" &
p2=$!
wait "$p1" "$p2"
faults ""
expect "two runs: the first compliant" 0 "$(cat "$work/conc1.rc")"
expect "two runs: the second compliant" 0 "$(cat "$work/conc2.rc")"
expect "two runs: one upload and one key list read in all" 2 \
	"$(( $(jq .run.httpRequests "$work/log/conc1.out") + $(jq .run.httpRequests "$work/log/conc2.out") ))"
expect "two runs: exactly one recovery password" 1 "$(rp_ids "$work/c.img" | grep -c .)"
expect "two runs: it is in Entra ID" "$dev" "$(in_cloud "$(rp_ids "$work/c.img")")"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
