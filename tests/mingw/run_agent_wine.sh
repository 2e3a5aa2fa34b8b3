#!/bin/sh
# run_agent_wine.sh SOURCE_DIR WINDOWS_BUILD OUT_DIR SSRP_SIM
# The device agent under Wine with real parts, in the Windows build tree
# mingw_windows_build made (WINDOWS_BUILD: libssrp.dll, its import library,
# ssrp.exe; not configured again here):
#   - TPM: a swtpm on the Linux side (ssrp-sim swtpm) reached through TPM
#     Base Services: tests/mingw/tbs_socket_dll.c is built as tbs.dll next
#     to the programs and chosen over Wine's TPM-less one
#     (WINEDLLOVERRIDES=tbs=n), so the production tbs transport and command
#     core talk to it. ssrp.exe tpm info names swtpm; ssrp.exe tpm pcr-read
#     gives the value a Linux tss2 client extended into PCR 11; ssrp.exe
#     tpm seal makes a blob the Linux tss2 backend unseals, ssrp.exe tpm
#     unseal opens one Linux sealed, and refuses (exit 4) once PCR 11 moved.
#   - the agent: tests/mingw/agent_wine.c, built against libssrp.dll's
#     import library and the public headers only, runs ssrp_agent_run
#     against the simulated cloud (Schannel, the simulator's CA from the
#     configuration, the device's PFX for mutual TLS to DRS):
#     - on its own volume backend, wine-volume, standing where BitLocker's
#       WMI class would be (Wine has none). The first run adds a TPM protector and a recovery password,
#       escrows it and turns protection on; the tenant (the simulator's
#       /admin/state) then holds exactly that password for the device; the
#       second run changes nothing and sends no request. The same first
#       run sends the device's primary user (device.primary_users: SCCM's
#       WMI class is not in Wine) to ssrp's association service
#       (ssrp-assocd on the Linux side, assoc.url, mutual TLS with the
#       device's PFX through Schannel): the tenant then has alice as a
#       registered owner of the device, and the report says associated.
#     - rotation after a recovery unlock: the test writes into wine-volume's
#       state that the escrowed recovery password unlocked the volume (as a
#       recovery unlock leaves it; the status reports last_unlock_recovery);
#       the next run adds a new recovery password, escrows it, deletes the
#       used one from the volume and (agent.key_retention_days 0) from
#       Entra ID: the tenant holds exactly the new one; the run after that
#       changes nothing and sends no request.
#     - on a BitLocker volume image through the on-disk codec in
#       libssrp.dll (bitlk:IMG?rw), made on Linux by ssrp-sim volume create
#       (XTS-AES-128, unlocked by a clear key), with data written and a TPM
#       protector sealed by swtpm there: the first run adds a recovery
#       password, escrows it and turns protection on (the clear key goes);
#       the second changes nothing. Back on Linux, the escrowed password
#       from the tenant opens the volume the Windows agent changed: ssrp
#       reads the data written before, cryptsetup accepts the password,
#       dislocker-file decrypts the same data, and the TPM protector still
#       unlocks it. Then under Wine: ssrp.exe volume unlock with that
#       password (the codec marks the recovery unlock) seals the TPM
#       protector again through TBS, and the agent's next run unlocks by the
#       TPM (unseal through TBS) and rotates: a new password, escrowed, the
#       used one gone from the volume and the tenant; back on Linux
#       cryptsetup takes the new password, not the used one, and the TPM
#       protector sealed under Wine unlocks the volume.
#   - ssrp.exe agent run with no device configured: Wine's netapi32 has no
#     NetGetAadJoinInformation, which it says, exit 1, nothing made;
#   - the journal: written by the Windows file code in the private
#     directory ssrp_fs_mkdirs(0700) makes; when Everyone may write it, the
#     next run refuses it by name and changes nothing.
# Every missing part is a failure, not a skip.
set -u
. "$(dirname "$0")/wine_lib.sh"
src=$1
build=$2
out=$3
ssrp_sim=$4
ssrp_assocd="$(dirname "$ssrp_sim")/ssrp-assocd"

need_mingw
need_wine
for tool in jq cryptsetup dislocker-file script; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (scripts/bootstrap)"
done
[ -x "$ssrp_assocd" ] || die "$ssrp_assocd is missing (the Linux build makes it)"
need_tree libssrp.dll libssrp.dll.a ssrp.exe libcurl.dll libcjson.dll
absolute_dirs

# --- the programs, in one directory
make_app ssrp.exe libssrp.dll libcurl.dll libcjson.dll
build_tbs_dll
build_exe agent_wine.exe agent_wine.c -I"$src/include" "$build/libssrp.dll.a"
imports=$("$triple-objdump" -p "$app/agent_wine.exe" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort | tr '\n' ' ')
case " $imports" in
*" libssrp.dll "*) pass "agent_wine.exe is linked to libssrp.dll (imports: $imports)" ;;
*) fail "agent_wine.exe does not import libssrp.dll (imports: $imports)" ;;
esac

# --- swtpm and the simulated cloud on loopback
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-mingw-agent.XXXXXX")
assocd_pid=""
test_cleanup() {
	[ -n "$assocd_pid" ] && kill "$assocd_pid" 2>/dev/null && wait "$assocd_pid" 2>/dev/null
	stop_linux_parts
}
wine_session "$out/wineprefix" tbs=n
start_swtpm
start_cloud
# ssrp's association service against the simulated tenant, as a Linux
# server would run it (test_lib.sh's start_serve).
"$ssrp_assocd" --config "$SSRP_SIM_CONFIG" >"$work/assocd.out" 2>"$work/assocd.err" &
assocd_pid=$!
for _ in $(seq 1 50); do grep -q listening "$work/assocd.err" && break; sleep 0.1; done
grep -q listening "$work/assocd.err" || { cat "$work/assocd.err"; die "ssrp-assocd did not start"; }

# --- ssrp.exe through TPM Base Services to swtpm
run tpm_info ./ssrp.exe tpm info
if [ "$got" = 0 ] && grep -q '^backend: *tbs$' "$out/tpm_info.out" &&
	grep -q '^vendor: *SW   TPM$' "$out/tpm_info.out"; then
	pass "ssrp.exe tpm info through TBS: swtpm ($(grep '^manufacturer:' "$out/tpm_info.out" | tr -s ' '))"
else
	fail "ssrp.exe tpm info through TBS: exit $got, not swtpm"
	show tpm_info
fi
"$ssrp_sim" tpm pcr-extend 11 --data "ssrp windows test" --tpm "$SSRP_TPM" >/dev/null 2>&1 ||
	die "a Linux tss2 client could not extend PCR 11"
want=$("$ssrp_sim" tpm pcr-read --pcrs 11 --tpm "$SSRP_TPM" 2>/dev/null | sed -n 's/^sha256:11 //p')
run pcr_read ./ssrp.exe tpm pcr-read --pcrs 11
have=$(sed -n 's/^sha256:11 //p' "$out/pcr_read.out")
if [ "$got" = 0 ] && [ -n "$want" ] && [ "$have" = "$want" ] &&
	[ "$want" != 0000000000000000000000000000000000000000000000000000000000000000 ]; then
	pass "ssrp.exe tpm pcr-read 11 through TBS: $have, as tss2 reads it after its extend"
else
	fail "ssrp.exe tpm pcr-read 11 through TBS: exit $got, \"$have\" (tss2 reads \"$want\")"
	show pcr_read
fi

# --- sealing through TBS: ESAPI over the tbs backend's transport, the same
# blob format and SRK as the tss2 backend on Linux, both ways
head -c 32 /dev/urandom >"$work/secret"
run seal ./ssrp.exe tpm seal --pcrs 7,11 --in "Z:$work/secret" --out "Z:$work/blob.win"
if [ "$got" = 0 ] && [ -s "$work/blob.win" ] &&
	"$ssrp_sim" tpm unseal --in "$work/blob.win" --out "$work/unsealed.lin" --tpm "$SSRP_TPM" \
		>/dev/null 2>"$work/unseal.err" &&
	cmp -s "$work/secret" "$work/unsealed.lin"; then
	pass "ssrp.exe tpm seal through TBS: the blob unseals on Linux through tss2 to the same 32 bytes"
else
	fail "ssrp.exe tpm seal through TBS: exit $got; Linux unseal: $(cat "$work/unseal.err" 2>/dev/null)"
	show seal
fi
"$ssrp_sim" tpm seal --pcrs 7,11 --in "$work/secret" --out "$work/blob.lin" --tpm "$SSRP_TPM" \
	>/dev/null 2>&1 || die "a Linux tss2 client could not seal"
run unseal_lin ./ssrp.exe tpm unseal --in "Z:$work/blob.lin" --out "Z:$work/unsealed.win"
if [ "$got" = 0 ] && cmp -s "$work/secret" "$work/unsealed.win"; then
	pass "ssrp.exe tpm unseal through TBS: a blob sealed on Linux by tss2 gives the same 32 bytes"
else
	fail "ssrp.exe tpm unseal of a Linux blob: exit $got"
	show unseal_lin
fi
rm -f "$work/unsealed.win"
"$ssrp_sim" tpm pcr-extend 11 --data "moved after sealing" --tpm "$SSRP_TPM" >/dev/null 2>&1 ||
	die "a Linux tss2 client could not extend PCR 11"
run unseal_moved ./ssrp.exe tpm unseal --in "Z:$work/blob.win" --out "Z:$work/unsealed.win"
# 4: EXIT_PCR_MISMATCH (tools/cli_util.h)
if [ "$got" = 4 ] && [ ! -e "$work/unsealed.win" ] && grep -qi 'PCR' "$out/unseal_moved.err"; then
	pass "ssrp.exe tpm unseal after PCR 11 moved: exit 4, nothing written: $(head -n 1 "$out/unseal_moved.err")"
else
	fail "ssrp.exe tpm unseal after PCR 11 moved: exit $got (expected 4, no output file)"
	show unseal_moved
fi

# --- the agent
# No directory above the journal may be writable by others (private_dir.sh).
dir=$(sh "$src/tests/mingw/private_dir.sh" "$out") || die "no private directory for the agent's files"
rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
pfx="${SSRP_SIM_DEVICE_CERT%.pem}.pfx"
[ -s "$pfx" ] || die "the simulator wrote no device PFX ($pfx)"
cp "$SSRP_SIM_CA" "$dir/ca.pem" && cp "$pfx" "$dir/device.pfx"
# The simulator's configuration gives the association service's URL, the
# connect-to entries (the service's host included) and the primary users.
jq --arg t "$SSRP_SIM_TENANT_ID" --arg dom "$SSRP_SIM_TENANT_DOMAIN" --arg ca "Z:$dir/ca.pem" \
	--arg pfx "Z:$dir/device.pfx" --arg id "$SSRP_SIM_DEVICE_ID" --arg name "$SSRP_SIM_DEVICE_NAME" \
	'{tenant_id: $t, tenant_domain: $dom,
	  hosts: {login: "login.microsoftonline.com", graph: "graph.microsoft.com",
	          drs: "enterpriseregistration.windows.net"},
	  ca_file: $ca, connect_to: .connect_to, assoc: {url: .assoc.url},
	  device: {device_id: $id, cert_file: $pfx, key_file: $pfx, join_type: "azuread",
	           display_name: $name, primary_users: .device.primary_users}}' \
	"$SSRP_SIM_CONFIG" >"$dir/config.json" || die "jq could not write the configuration"
chmod 644 "$dir/config.json"
primary=$(jq -r '.device.primary_users | join(",")' "$dir/config.json")
printf 'protection off\nkey %s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$dir/volume.state"
journal="$dir/ProgramData/ssrp/agent.journal"
agent() { # agent NAME RUNS [CONFIG]
	run "$1" ./agent_wine.exe "Z:$dir/${3:-config}.json" "wine-volume:Z:$dir/volume.state" tbs \
		"Z:$journal" "$2"
}
agent agent_runs 2
agent_reports agent_runs
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*)
	pass "first run through libssrp.dll: ${first#first run: }" ;;
*) fail "first run: ${first:-none}"; show agent_runs ;;
esac
second_run_idle agent_runs "second run changes nothing: ${second#second run: }" \
	"second run:"
[ "$got" = 0 ] || fail "agent_wine.exe exited $got"
case $first in
*" association=service associated=yes association_pending=0"*)
	pass "first run: the primary users ($primary) went to the association service (report: association=service associated=yes association_pending=0)" ;;
*) fail "first run: the association: ${first:-none}"; sed 's/^/  | /' "$work/assocd.err" | tail -5 ;;
esac

# The tenant holds the volume's recovery password, under its protector's id.
tenant_state
escrowed=$(escrowed_keys)
on_volume=$(wine_volume_key <"$dir/volume.state")
if [ -n "$on_volume" ] && [ "$escrowed" = "$on_volume" ]; then
	pass "the tenant holds the volume's one recovery password under its protector id (${on_volume%% *})"
else
	fail "the tenant holds \"$(echo "$escrowed" | sed 's/ [0-9-]*/ <password>/g')\", not the volume's one password"
fi
# The association: alice (the primary user) a registered owner of the device.
owner_upn=$(jq -r --arg d "$SSRP_SIM_DEVICE_ID" '. as $s | [.devices[] | select(.deviceId==$d) |
	.registeredOwners[] as $o | $s.users[] | select(.id==$o) | .userPrincipalName] | join(",")' "$work/state.json")
if [ -n "$owner_upn" ] && [ "$owner_upn" = "$SSRP_SIM_USER_UPN" ]; then
	pass "the tenant has $owner_upn as the device's registered owner (through ssrp-assocd)"
else
	fail "the device's registered owners in the tenant: \"$owner_upn\", not $SSRP_SIM_USER_UPN"
fi

# --- rotation after a recovery unlock
# The volume says its escrowed recovery password unlocked it, as BitLocker's
# recovery unlock leaves it; the next run replaces it.
used=$(tr -d '\r' <"$dir/volume.state" | sed -n 's/^recovery \({[^}]*}\) .*$/\1/p')
printf 'unlocked-by-recovery %s\n' "$used" >>"$dir/volume.state"
tpm_before=$(tr -d '\r' <"$dir/volume.state" | grep '^tpm ')
jq '.agent.key_retention_days = 0' "$dir/config.json" >"$dir/rotate.json" && chmod 644 "$dir/rotate.json"
agent agent_rotate 2 rotate
agent_reports agent_rotate
state_now=$(tr -d '\r' <"$dir/volume.state")
new=$(printf '%s\n' "$state_now" | sed -n 's/^recovery \({[^}]*}\) .*$/\1/p')
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*" keys_deleted=1 rotation_pending=0 "*)
	if [ -n "$used" ] && [ -n "$new" ] && [ "$new" != "$used" ] &&
		[ "$(printf '%s\n' "$state_now" | grep -c '^recovery ')" = 1 ] &&
		[ "$(printf '%s\n' "$state_now" | grep '^tpm ')" = "$tpm_before" ] &&
		! printf '%s\n' "$state_now" | grep -q '^unlocked-by-recovery '; then
		pass "rotation after a recovery unlock: $used replaced by $new, the TPM protector kept: ${first#first run: }"
	else
		fail "rotation: the volume has recovery password(s) \"$new\" (used: ${used:-none}): ${first#first run: }"
		printf '%s\n' "$state_now" | sed 's/^\(recovery [^ ]*\) .*/\1 <password>/; s/^key .*/key <key>/; s/^\(tpm [^ ]*\) .*/\1 <binding>/; s/^/  | /'
	fi ;;
*) fail "rotation: first run: ${first#first run: }"; show agent_rotate ;;
esac
second_run_idle agent_rotate "after the rotation the next run changes nothing: ${second#second run: }" \
	"after the rotation: second run:"
tenant_state
escrowed=$(escrowed_keys)
on_volume=$(printf '%s\n' "$state_now" | wine_volume_key)
if [ -n "$on_volume" ] && [ "$new" != "$used" ] && [ "$escrowed" = "$on_volume" ]; then
	pass "the tenant holds exactly the new recovery password (${on_volume%% *}); the used one is deleted from Entra ID"
else
	fail "after the rotation the tenant holds \"$(echo "$escrowed" | sed 's/ [0-9-]*/ <password>/g')\", not only the new password"
fi

# The journal, in the private directory the agent made.
mode=$(stat -c %A "$dir/ProgramData/ssrp" 2>/dev/null)
if [ -s "$journal" ] && case $mode in d*---) true ;; *) false ;; esac &&
	[ -z "$(find "$dir/ProgramData/ssrp" -name '*.tmp.*')" ]; then
	pass "the journal written in a private directory ($mode), no temporary file left"
else
	fail "the journal: $(ls -la "$dir/ProgramData/ssrp" 2>&1 | tr '\n' ' ')"
fi
# The production ssrp.exe without a configured device asks Windows
# (NetGetAadJoinInformation), which Wine's netapi32 lacks: one sentence,
# exit 1, nothing made.
jq 'del(.device)' "$dir/config.json" >"$dir/no-device.json" && chmod 644 "$dir/no-device.json"
run no_device ./ssrp.exe agent run --config "Z:$dir/no-device.json" --tpm tbs --volume wmi:C: \
	--journal "Z:$dir/no-device/agent.journal"
if [ "$got" = 1 ] && [ ! -e "$dir/no-device" ] &&
	grep -qx 'ssrp: this Windows has no NetGetAadJoinInformation .*"device" member instead' "$out/no_device.err"; then
	pass "Wine gap: ssrp.exe agent run without a configured device: exit 1, nothing made, $(cat "$out/no_device.err")"
else
	fail "ssrp.exe agent run without a configured device: exit $got"
	show no_device
fi
cp "$dir/volume.state" "$work/volume.before"
chmod o+w "$journal"
agent agent_refused 1
case $(cat "$out/agent_refused.out") in
*"rc=permission denied state=failed"*"$journal"*"Everyone (S-1-1-0)"*)
	if cmp -s "$dir/volume.state" "$work/volume.before"; then
		pass "a journal Everyone may write is refused, nothing changed: $(sed -n 's/.*reason=//p' "$out/agent_refused.out" | cut -c1-160)..."
	else
		fail "a refused journal, yet the volume changed"
	fi ;;
*) fail "a journal Everyone may write: $(cat "$out/agent_refused.out")"; show agent_refused ;;
esac

# --- the agent on a BitLocker volume image, through the on-disk codec
img="$dir/bitlk.img"
sim_vol() { "$ssrp_sim" volume "$@" >"$work/sim.out" 2>"$work/sim.err"; }
sim_vol create --volume "sim:$img" --size 64M --method xts-aes-128 ||
	{ cat "$work/sim.err"; die "ssrp-sim volume create failed"; }
head -c 65536 /dev/urandom >"$work/data"
sim_vol write --volume "bitlk:$img?rw" --offset 1048576 --in "$work/data" ||
	{ cat "$work/sim.err"; die "ssrp-sim volume write failed"; }
sim_vol add-tpm --volume "bitlk:$img?rw" --tpm "$SSRP_TPM" ||
	{ cat "$work/sim.err"; die "ssrp-sim volume add-tpm (swtpm, Linux) failed"; }
tpm_id=$(awk '{ print $NF }' "$work/sim.out" | grep -i -m1 '^{[0-9a-f-]*}$')
bj="$dir/ProgramData/ssrp-bitlk/agent.journal"
run agent_bitlk ./agent_wine.exe "Z:$dir/config.json" "bitlk:Z:$img?rw" tbs "Z:$bj" 2
agent_reports agent_bitlk
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*)
	pass "bitlk: first run through libssrp.dll's codec: ${first#first run: }" ;;
*) fail "bitlk: first run: ${first:-none}"; show agent_bitlk ;;
esac
second_run_idle agent_bitlk "bitlk: second run changes nothing: ${second#second run: }" \
	"bitlk: second run:"

# Back on Linux: the volume's protectors, and the escrowed password.
sim_vol status --volume "bitlk:$img"
cp "$work/sim.out" "$work/bitlk.status"
rp_id=$(sed -n 's/^protector: *\({[0-9A-Fa-f-]*}\)  recovery password$/\1/p' "$work/bitlk.status")
if grep -qx 'protection: *on' "$work/bitlk.status" &&
	grep -qix "protector: *$tpm_id  tpm" "$work/bitlk.status" && [ -n "$rp_id" ] &&
	[ "$(grep -c '^protector:' "$work/bitlk.status")" = 2 ]; then
	pass "bitlk: on Linux, protection on, the TPM protector $tpm_id and the recovery password $rp_id, no clear key"
else
	fail "bitlk: the volume on Linux (TPM protector ${tpm_id:-none}):"
	sed 's/^/  | /' "$work/bitlk.status"
fi
tenant_state
id=$(printf '%s' "$rp_id" | tr -d '{}' | tr 'A-F' 'a-f')
(umask 077 && jq -r --arg d "$SSRP_SIM_DEVICE_ID" --arg id "$id" \
	'.recoveryKeys[] | select(.deviceId==$d and (.id | ascii_downcase)==$id) | .key' \
	"$work/state.json" >"$work/escrowed")
if [ -n "$id" ] && [ "$(wc -l <"$work/escrowed")" = 1 ] &&
	grep -qx '[0-9]\{6\}\(-[0-9]\{6\}\)\{7\}' "$work/escrowed"; then
	pass "bitlk: the tenant holds the recovery password escrowed under $rp_id"
else
	fail "bitlk: the tenant holds no (or not one) password under ${rp_id:-no id}"
fi
sim_vol read --volume "bitlk:$img" --recovery-password-file "$work/escrowed" --offset 1048576 \
	--length 65536 --out "$work/read"
if cmp -s "$work/read" "$work/data"; then
	pass "bitlk: ssrp on Linux unlocks with the escrowed password and reads the data written before"
else
	fail "bitlk: ssrp on Linux with the escrowed password: $(cat "$work/sim.err")"
fi
if cryptsetup open --type bitlk --test-passphrase "$img" <"$work/escrowed" >"$work/cs" 2>&1; then
	pass "bitlk: cryptsetup accepts the escrowed recovery password"
else
	fail "bitlk: cryptsetup refuses the escrowed recovery password"
	sed 's/^/  | /' "$work/cs"
fi
# dislocker reads the password at its prompt (a pseudo-terminal), not from
# its command line.
timeout 120 script -q -e -c "dislocker-file -V '$img' -p -- '$work/dis'" /dev/null \
	<"$work/escrowed" >"$work/dis.log" 2>&1
if [ -f "$work/dis" ] && tail -c +1048577 "$work/dis" | head -c 65536 | cmp -s - "$work/data"; then
	pass "bitlk: dislocker-file decrypts the same data with the escrowed password"
else
	fail "bitlk: dislocker-file with the escrowed password"
	tail -n 5 "$work/dis.log" | sed 's/^/  | /'
fi
rm -f "$work/dis"
if sim_vol unlock --volume "bitlk:$img" --tpm "$SSRP_TPM"; then
	pass "bitlk: the TPM protector sealed on Linux still unlocks the volume (swtpm)"
else
	fail "bitlk: the TPM protector: $(cat "$work/sim.err")"
fi

# --- bitlk: a recovery unlock under Wine, then the agent rotates there
# ssrp.exe unlocks the image with the escrowed password (the codec marks the
# recovery unlock in the metadata) and seals the TPM protector again
# through TBS; the agent's next run unlocks by the TPM (unseal through TBS),
# adds a new recovery password, escrows it and deletes the used one from
# the volume and from Entra ID.
run bitlk_recovery ./ssrp.exe volume unlock --volume "bitlk:Z:$img?rw" --tpm tbs \
	--recovery-password-file "Z:$work/escrowed"
if [ "$got" = 0 ] && grep -q 'unlocked with the recovery password' "$out/bitlk_recovery.err" &&
	grep -q 'sealed the TPM protector to this boot' "$out/bitlk_recovery.err"; then
	pass "bitlk: ssrp.exe unlocks with the escrowed password and seals the TPM protector again through TBS"
else
	fail "bitlk: ssrp.exe volume unlock with the escrowed password: exit $got"
	show bitlk_recovery
fi
run agent_bitlk_rotate ./agent_wine.exe "Z:$dir/rotate.json" "bitlk:Z:$img?rw" tbs "Z:$bj" 2
agent_reports agent_bitlk_rotate
sim_vol status --volume "bitlk:$img"
cp "$work/sim.out" "$work/bitlk.status"
new_id=$(sed -n 's/^protector: *\({[0-9A-Fa-f-]*}\)  recovery password$/\1/p' "$work/bitlk.status")
# Two keys deleted from the tenant: the used one, and the wine-volume's
# above (the same device id), which is on no volume the agent now sees
# (agent.key_retention_days 0).
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*" keys_deleted=2 rotation_pending=0 "*)
	if [ -n "$new_id" ] && [ "$new_id" != "$rp_id" ] &&
		grep -qix "protector: *$tpm_id  tpm" "$work/bitlk.status" &&
		[ "$(grep -c '^protector:' "$work/bitlk.status")" = 2 ]; then
		pass "bitlk: rotation under Wine after the recovery unlock: $rp_id replaced by $new_id, the TPM protector kept"
	else
		fail "bitlk: after the rotation the volume's protectors are:"
		sed 's/^/  | /' "$work/bitlk.status"
	fi ;;
*) fail "bitlk: rotation: first run: ${first:-none}"; show agent_bitlk_rotate ;;
esac
second_run_idle agent_bitlk_rotate "bitlk: after the rotation the next run changes nothing: ${second#second run: }" \
	"bitlk: after the rotation: second run:"
tenant_state
old_lc=$(printf '%s' "$rp_id" | tr -d '{}' | tr 'A-F' 'a-f')
new_lc=$(printf '%s' "$new_id" | tr -d '{}' | tr 'A-F' 'a-f')
(umask 077 && jq -r --arg d "$SSRP_SIM_DEVICE_ID" --arg id "$new_lc" \
	'.recoveryKeys[] | select(.deviceId==$d and (.id | ascii_downcase)==$id) | .key' \
	"$work/state.json" >"$work/escrowed.new")
held=$(jq -r --arg d "$SSRP_SIM_DEVICE_ID" \
	'[.recoveryKeys[] | select(.deviceId==$d) | .id | ascii_downcase] | join(",")' "$work/state.json")
if [ -n "$new_lc" ] && [ "$(wc -l <"$work/escrowed.new")" = 1 ] && [ "$held" = "$new_lc" ]; then
	pass "bitlk: the tenant holds the device's new password under $new_id and no other key (the used one is gone)"
else
	fail "bitlk: after the rotation the tenant holds \"$held\" for the device, not only ${new_lc:-the new key} (used: $old_lc)"
fi
if cryptsetup open --type bitlk --test-passphrase "$img" <"$work/escrowed.new" >"$work/cs" 2>&1 &&
	! cryptsetup open --type bitlk --test-passphrase "$img" <"$work/escrowed" >/dev/null 2>&1; then
	pass "bitlk: cryptsetup accepts the new escrowed password and refuses the used one"
else
	fail "bitlk: cryptsetup and the passwords after the rotation"
	sed 's/^/  | /' "$work/cs"
fi
if sim_vol unlock --volume "bitlk:$img" --tpm "$SSRP_TPM"; then
	pass "bitlk: the TPM protector sealed again under Wine unlocks the volume on Linux (swtpm)"
else
	fail "bitlk: the TPM protector after the reseal under Wine: $(cat "$work/sim.err")"
fi

finish
