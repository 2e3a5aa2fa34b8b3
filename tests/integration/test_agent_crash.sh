#!/bin/sh
# Crash consistency of the device agent (`ssrp agent run`): a kill at every
# durable write of a first run and of a rotation, then a rerun.
#
# Real parts: a software TPM (`ssrp sim swtpm`), the simulated cloud (demo
# tenant, DRS with the device certificate), ssrp's association service
# (`ssrp assoc serve --config $SSRP_SIM_CONFIG`), simulated volumes.
#
# Kill points:
#   journal/volume writes  SSRP_TEST_KILL_AT=k: the agent SIGKILLs itself
#                          just before its k-th durable write (journal saves
#                          and volume-changing calls), k = 1, 2, ... until a
#                          run is not killed;
#   mid-write              --volume "sim:IMG?kill_at_write=N": the volume
#                          SIGKILLs the process in the middle of its N-th
#                          metadata copy write, N = 1, 2, ... likewise.
# Every trial starts from a copy of the same volume and journal. After each
# kill:
#   - the volume opens: protection still off (a clear key opens it), or at
#     least one recovery password the cloud has escrowed for the device
#     (GET /admin/state) unlocks it, and the data read back is intact
#     (checked on a copy, so the rerun sees the volume as the kill left it);
# then the agent runs again without a hook and must:
#   - exit 0 (compliant), protection on;
#   - leave at most one TPM protector and exactly one recovery password;
#   - have every recovery password on the volume escrowed (its id among the
#     cloud's keys for the device, and the escrowed password unlocks it);
#   - for a rotation: the used recovery password gone, the volume no longer
#     saying it was last unlocked by a recovery password.
# A table of every kill point and its outcome is printed.
#
# usage: test_agent_crash.sh SSRP_BINARY. SSRP_TEST_KEEP=1 keeps the files.
# Needs swtpm and jq (skipped with 77 otherwise).
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
command -v jq >/dev/null 2>&1 || { echo "jq is needed"; exit 77; }
command -v swtpm >/dev/null 2>&1 || { echo "swtpm is needed"; exit 77; }
"$ssrp" agent --help >/dev/null 2>&1 || "$ssrp" help 2>&1 | grep -q agent ||
	{ echo "this ssrp has no agent command"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-agent-crash.XXXXXX")
serve_pid=""
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
failures=0
pass() { :; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
show() { for f in "$@"; do [ -s "$f" ] && sed 's/^/  | /' "$f" | head -12; done; }

# ---- the parts ---------------------------------------------------------------
tpm=$("$ssrp_sim" swtpm start --dir "$work/tpm" 2>"$work/err") ||
	{ echo "cannot start swtpm:"; cat "$work/err"; exit 1; }
env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" 2>"$work/err") ||
	{ echo "cannot start the simulated cloud:"; cat "$work/err"; exit 1; }
. "$env_file"
cfg=$SSRP_SIM_CONFIG
"$ssrp_assocd" --config "$cfg" --port-file "$work/assoc.port" >"$work/assoc.out" 2>"$work/assoc.err" &
serve_pid=$!
i=0
while [ ! -s "$work/assoc.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$work/assoc.port" ] || { echo "ssrp assoc serve did not start:"; cat "$work/assoc.err"; exit 1; }

ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
# The device's escrowed keys, "ID KEY" per line (ID upper case, no braces), in $work/escrowed.
escrowed() {
	curl -sS -f $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/state.json" \
		https://graph.microsoft.com/admin/state 2>"$work/curlerr" ||
		{ fail "GET /admin/state"; show "$work/curlerr"; : >"$work/escrowed"; return; }
	(umask 077 && jq -r --arg d "$SSRP_SIM_DEVICE_ID" \
		'.recoveryKeys[] | select((.deviceId|ascii_downcase) == ($d|ascii_downcase)) |
		 "\(.id|ascii_upcase|ltrimstr("{")|rtrimstr("}")) \(.key)"' \
		"$work/state.json" >"$work/escrowed")
	rm -f "$work/state.json"
}
# protectors IMG: "ID TYPE" per line in $work/prot (ID upper case, no braces);
# $protection, $tpm_n, $rp_n, $last_rec (true/false) and $last_rec_id.
protectors() {
	cp "$1" "$work/peek.img" # opening repairs copies a kill left behind: not on the real one
	"$ssrp" volume status --volume "bitlk:$work/peek.img?rw" --json >"$work/status.json" 2>"$work/status.err" ||
		{ fail "volume status $1"; show "$work/status.err"; }
	jq -r '.protectors[] | "\(.id|ascii_upcase|ltrimstr("{")|rtrimstr("}")) \(.type|gsub(" ";"-"))"' \
		"$work/status.json" >"$work/prot" 2>/dev/null
	protection=$(jq -r .protection "$work/status.json" 2>/dev/null)
	last_rec=$(jq -r .last_unlock_recovery "$work/status.json" 2>/dev/null)
	last_rec_id=$(jq -r '.last_unlock_recovery_id // "" | ascii_upcase|ltrimstr("{")|rtrimstr("}")' \
		"$work/status.json" 2>/dev/null)
	tpm_n=$(grep -c ' TPM$' "$work/prot")
	rp_n=$(grep -c ' recovery-password$' "$work/prot")
}
# unlocks IMG: how many of the escrowed passwords of the volume's recovery
# protectors unlock a copy of it with the data intact (0 when none).
unlocks() {
	n=0
	for id in $(sed -n 's/ recovery-password$//p' "$work/prot"); do
		grep "^$id " "$work/escrowed" | cut -d' ' -f2 | while read -r pw; do
			(umask 077 && printf '%s\n' "$pw" >"$work/pw")
			cp "$1" "$work/check.img"
			if "$ssrp" volume read --volume "bitlk:$work/check.img?rw" --recovery-password-file "$work/pw" \
				--offset 1M --length 64K --out "$work/read" >/dev/null 2>"$work/read.err" &&
				cmp -s "$work/read" "$work/data"; then
				echo "$id"
			fi
			rm -f "$work/read" "$work/pw"
		done
	done >"$work/unlocked"
	wc -l <"$work/unlocked" | tr -d ' '
}
# readable IMG: protection off and the data intact without any secret.
readable() {
	cp "$1" "$work/check.img"
	"$ssrp" volume read --volume "bitlk:$work/check.img?rw" --offset 1M --length 64K --out "$work/read" \
		>/dev/null 2>"$work/read.err" && cmp -s "$work/read" "$work/data"
}
# agent IMG_SPEC JOURNAL [VAR=VALUE]: run it; its exit status, report in $work/report.json.
# A run that is to be killed (SSRP_TEST_KILL_AT, or a sim: volume's
# kill_at_write) is the simulator's command; every other run is production's.
agent() {
	cmd=$ssrp
	case "$1${3:-}" in sim:* | *SSRP_TEST_KILL_AT*) cmd=$ssrp_sim ;; esac
	env ${3:+"$3"} "$cmd" agent run --config "$cfg" --volume "$1" --tpm "$tpm" --journal "$2" \
		--json >"$work/report.json" 2>"$work/agent.err" </dev/null
	rc=$?
	cat "$work/report.json" "$work/agent.err" >>"$work/all-agent.out"
	echo $rc
}

# ---- the volume as a newly encrypted one is before the agent ---------------
"$ssrp_sim" volume create --volume "sim:$work/init.img" --size 8M 2>"$work/err" ||
	{ echo "volume create failed:"; cat "$work/err"; exit 1; }
head -c 65536 /dev/urandom >"$work/data"
"$ssrp" volume write --volume "bitlk:$work/init.img?rw" --offset 1M --in "$work/data" 2>"$work/err" ||
	{ echo "volume write failed:"; cat "$work/err"; exit 1; }
: >"$work/init.journal"
rm -f "$work/init.journal" # an empty journal: none at all

table=$work/table
printf '%-9s %-10s %-6s %-5s %-7s %-9s %-6s %-12s %s\n' phase kill killed prot "tpm/rp" unlock rerun "tpm/rp/esc" verdict >"$table"

# trial PHASE MODE K BASE_IMG BASE_JOURNAL: one kill and the rerun; sets $killed.
trial() {
	phase=$1 mode=$2 k=$3 base_img=$4 base_j=$5
	img=$work/trial.img j=$work/trial.journal
	cp "$base_img" "$img"
	rm -f "$j"
	[ -n "$base_j" ] && cp "$base_j" "$j"
	if [ "$mode" = write ]; then
		st=$(agent "bitlk:$img?rw" "$j" "SSRP_TEST_KILL_AT=$k")
		label="write#$k"
	else
		st=$(agent "sim:$img?kill_at_write=$k" "$j")
		label="mid-io#$k"
	fi
	verdict=ok
	killed=no
	case $st in
	137) killed=yes ;;
	0) ;;
	*)
		fail "$phase $label: the hooked run exited $st"
		show "$work/agent.err"
		verdict=FAIL
		;;
	esac
	escrowed
	protectors "$img"
	before="$tpm_n/$rp_n"
	prot_before=$protection
	unlock=-
	if [ "$killed" = yes ]; then
		if [ "$protection" = off ]; then
			if readable "$img"; then unlock=clear; else
				fail "$phase $label: protection off but the data cannot be read"
				show "$work/read.err"
				verdict=FAIL
			fi
		else
			unlock=$(unlocks "$img")
			if [ "$unlock" -lt 1 ]; then
				fail "$phase $label: protection on and no escrowed recovery password unlocks the volume"
				show "$work/prot" "$work/read.err"
				verdict=FAIL
			fi
		fi
		rerun=$(agent "bitlk:$img?rw" "$j")
	else
		rerun=$st
	fi
	if [ "$rerun" != 0 ]; then
		fail "$phase $label: the rerun exited $rerun, not 0 (compliant)"
		show "$work/report.json" "$work/agent.err"
		verdict=FAIL
	fi
	escrowed
	protectors "$img"
	esc=0
	for id in $(sed -n 's/ recovery-password$//p' "$work/prot"); do
		if grep -q "^$id " "$work/escrowed"; then esc=$((esc + 1)); else
			fail "$phase $label: recovery password {$id} on the volume is not escrowed"
			verdict=FAIL
		fi
	done
	if [ "$protection" != on ]; then
		fail "$phase $label: protection is '$protection' after the rerun"
		verdict=FAIL
	fi
	if [ "$tpm_n" -gt 1 ] || [ "$rp_n" -ne 1 ]; then
		fail "$phase $label: $tpm_n TPM and $rp_n recovery-password protectors after the rerun"
		show "$work/prot"
		verdict=FAIL
	fi
	if [ "$(unlocks "$img")" -lt 1 ]; then
		fail "$phase $label: the escrowed password does not unlock the volume after the rerun"
		verdict=FAIL
	fi
	if [ "$phase" = rotation ]; then
		if grep -q "^$used_id " "$work/prot"; then
			fail "$phase $label: the used recovery password {$used_id} is still on the volume"
			verdict=FAIL
		fi
		if [ "$last_rec" = true ]; then
			fail "$phase $label: the volume still says it was last unlocked by a recovery password"
			verdict=FAIL
		fi
	fi
	printf '%-9s %-10s %-6s %-5s %-7s %-9s %-6s %-12s %s\n' "$phase" "$label" "$killed" \
		"$prot_before" "$before" "$unlock" "$rerun" "$tpm_n/$rp_n/$esc" "$verdict" >>"$table"
}

# sweep PHASE MODE BASE_IMG BASE_JOURNAL: k = 1, 2, ... until a run is not killed.
sweep() {
	k=1
	while :; do
		trial "$1" "$2" "$k" "$3" "$4"
		[ "$killed" = yes ] || break
		k=$((k + 1))
		if [ $k -gt 40 ]; then
			fail "$1 $2: still killed at point 40; the hook never stops"
			break
		fi
	done
	[ $k -gt 1 ] || fail "$1 $2: not one kill point was hit (the hook is not working)"
	echo "$1 $2: $((k - 1)) kill point(s)"
}

# ---- a first run --------------------------------------------------------------
sweep first write "$work/init.img" ""
sweep first mid-io "$work/init.img" ""

# ---- a rotation -----------------------------------------------------------------
# A compliant device ...
cp "$work/init.img" "$work/rot.img"
rm -f "$work/rot.journal"
st=$(agent "bitlk:$work/rot.img?rw" "$work/rot.journal")
[ "$st" = 0 ] || { fail "preparing the rotation: the agent exited $st"; show "$work/agent.err"; }
escrowed
protectors "$work/rot.img"
used_id=$(sed -n 's/ recovery-password$//p' "$work/prot" | head -n 1)
# ... a firmware update changes PCR 7, the TPM no longer unseals, and the
# user types the escrowed recovery password (BitLocker then seals the TPM
# protector to the new PCR values: `volume unlock` does with --tpm).
"$ssrp" tpm pcr-extend 7 --data "firmware update" --tpm "$tpm" >/dev/null 2>"$work/err" ||
	{ fail "pcr-extend"; show "$work/err"; }
grep "^$used_id " "$work/escrowed" | head -n 1 | cut -d' ' -f2 | (umask 077 && cat >"$work/pw")
"$ssrp" volume unlock --tpm "$tpm" --volume "bitlk:$work/rot.img?rw" --recovery-password-file "$work/pw" \
	>/dev/null 2>"$work/err" || { fail "recovery unlock"; show "$work/err"; }
rm -f "$work/pw"
protectors "$work/rot.img"
[ "$last_rec" = true ] || fail "the volume does not say it was unlocked by a recovery password"
[ "$last_rec_id" = "$used_id" ] || fail "last_unlock_recovery_id is '$last_rec_id', not '$used_id'"
sweep rotation write "$work/rot.img" "$work/rot.journal"
sweep rotation mid-io "$work/rot.img" "$work/rot.journal"

echo
cat "$table"
echo
# No recovery password in anything the agent or the service printed.
for id_pw in $(tr ' ' '=' <"$work/escrowed"); do
	pw=${id_pw#*=}
	for f in "$work/all-agent.out" "$work/assoc.out" "$work/assoc.err" "$SSRP_SIM_LOG"; do
		if grep -qF -- "$pw" "$f" 2>/dev/null; then fail "a recovery password is in $(basename "$f")"; fi
	done
done
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
