#!/bin/sh
# Protector changes on a volume Windows made (a copy of bitlk-aes-xts-128
# in a temporary directory): a recovery password and a TPM protector added,
# the old recovery password removed, each with the volume opened ?rw and
# unlocked. Every metadata copy is written where the boot sector puts it,
# with Windows' other entries kept and the validation structure sealed under
# the VMK. The oracles unlock the changed volume: cryptsetup with the new
# and the old recovery password and the user password (it tries every
# protector), dislocker-file and libbde (they try only the first recovery
# protector) with the user password and, once the old recovery password is
# gone, with the new one; the decrypted volume keeps Windows' published
# SHA-256.
#
# usage: test_volume_windows_change.sh PATH/TO/ssrp IMAGES.tar.xz
#        (exit 77: dislocker, libbde-utils, cryptsetup-bin or swtpm missing)
set -u
ssrp=$1 tarball=$2
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"
for tool in dislocker-file bdeinfo cryptsetup swtpm; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "SKIP: $tool is not installed (apt-get install dislocker libbde-utils" \
			"cryptsetup-bin swtpm)"
		exit 77
	}
done
work=$(mktemp -d)
trap '"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
run() { # run NAME COMMAND...: must exit 0, stdout in $work/out
	name=$1
	shift
	if "$@" >"$work/out" 2>"$work/err"; then ok "$name"; else
		fail "$name (exit $?)"
		sed 's/^/  | /' "$work/err"
	fi
}
lower() { printf '%s' "$1" | tr -d '{}' | tr 'A-F' 'a-f'; }
umask 077
name=bitlk-aes-xts-128
tar --sparse -xJf "$tarball" -C "$work" "bitlk-windows/$name.img" || exit 1
img=$work/$name.img
mv "$work/bitlk-windows/$name.img" "$img"
chmod u+w "$img"
vol="bitlk:$img?rw"
sum=674e3a976927fd62f3fc26df2c695cac75b8d364e3b45393717efa971f16db0f
pw_id=3e55195c-8811-4d9b-97b4-2b9e5f8f5384 old_id=64311dea-4587-4029-924a-ba299647998e
printf '%s\n' 235818-357951-253979-013365-241120-245575-342914-591910 >"$work/old"
printf 'anaconda\n' >"$work/pw"
wrong=111683-110022-683298-209352-468105-648483-571252-334455
decrypts() { # decrypts NAME FILE: FILE is the volume Windows sees
	if [ -f "$2" ] && [ "$(sha256sum <"$2" | cut -c1-64)" = "$sum" ]; then
		ok "$1 gives Windows' SHA-256"
	else fail "$1 does not give Windows' SHA-256"; fi
	rm -f "$2"
}
cs_accepts() { # cs_accepts NAME FILE: cryptsetup takes the passphrase in FILE
	if cryptsetup open --type bitlk --test-passphrase "$img" <"$2" >"$work/cs" 2>&1
	then ok "cryptsetup accepts $1"; else fail "cryptsetup refuses $1"; sed 's/^/  | /' "$work/cs"; fi
}
copies_sealed() { # every copy: the same block, with Windows' validation structure
	: >"$work/blocks"
	for at in $((0x2195000)) $((0x2c1d000)) $((0x373a000)); do
		units=$(od -An -tu2 -j $((at + 8)) -N2 "$img" | tr -d ' ')
		vsize=$(od -An -tu2 -j $((at + units * 16)) -N2 "$img" | tr -d ' ')
		echo "$((vsize + units * 16)) $(tail -c +$((at + 1)) "$img" | head -c $((units * 16 + 88)) |
			sha256sum | cut -c1-64)" >>"$work/blocks"
	done
	if [ "$(sort -u "$work/blocks" | wc -l)" -eq 1 ] && grep -q '^65536 ' "$work/blocks"; then
		ok "$1: all three copies alike, each with the validation structure"
	else fail "$1: copies differ or lack the validation structure"; cat "$work/blocks"; fi
}

# A recovery password added, unlocking with the old one.
run "add a recovery password" "$ssrp" volume add-recovery --volume "$vol" \
	--recovery-password-file "$work/old" --show
cp "$work/out" "$work/new"
run "status" "$ssrp" volume status --volume "$vol"
new_id=$(grep "^protector:.*recovery password" "$work/out" | grep -v -i "$old_id" | awk '{print $2}')
grep -qi "{$pw_id}  password" "$work/out" && grep -qi "{$old_id}  recovery" "$work/out" &&
	[ -n "$new_id" ] && ok "status lists the old protectors and the new one ($new_id)" ||
	{ fail "status after adding"; sed 's/^/  | /' "$work/out"; }
[ -s "$work/err" ] && fail "status warns: $(cat "$work/err")"
copies_sealed "after adding"
cs_accepts "the new recovery password" "$work/new"
cs_accepts "the old recovery password" "$work/old"
cs_accepts "the user password" "$work/pw"
printf '%s\n' "$wrong" >"$work/wrong"
cryptsetup open --type bitlk --test-passphrase "$img" <"$work/wrong" >/dev/null 2>&1 &&
	fail "cryptsetup accepts a wrong recovery password" || ok "cryptsetup refuses a wrong one"
cryptsetup bitlkDump "$img" >"$work/dump" 2>&1
grep -q "$(lower "$new_id")" "$work/dump" && grep -q "DESKTOP-NPM7RCA" "$work/dump" &&
	ok "bitlkDump lists the new protector and keeps Windows' description" ||
	{ fail "bitlkDump"; sed 's/^/  | /' "$work/dump"; }
run "ssrp decrypts with the new recovery password" "$ssrp" volume decrypt --volume "bitlk:$img" \
	--recovery-password-file "$work/new" --out "$work/plain"
decrypts "ssrp with the new password" "$work/plain"
run "the user password still unlocks (MAC checked)" "$ssrp" volume unlock \
	--volume "bitlk:$img" --password-file "$work/pw"
# dislocker's user-password prompt fails even on the untouched image, so
# images.conf's published test password goes on its command line.
timeout 120 dislocker-file -V "$img" -uanaconda -- "$work/dis" >"$work/dis.log" 2>&1
decrypts "dislocker-file with the user password" "$work/dis"
bdeinfo -p anaconda "$img" >"$work/bde" 2>&1 && grep -q "$(lower "$new_id")" "$work/bde" &&
	ok "bdeinfo unlocks with the user password and lists the new protector" ||
	{ fail "bdeinfo after adding"; tail -n 5 "$work/bde" | sed 's/^/  | /'; }

# A TPM protector added.
tpm=$("$ssrp_sim" swtpm start --dir "$work/tpm" 2>"$work/err") || { cat "$work/err"; exit 1; }
run "measure PCR 7" "$ssrp" tpm pcr-extend 7 --tpm "$tpm" --data "secure boot policy"
run "add a TPM protector" "$ssrp" volume add-tpm --volume "$vol" --tpm "$tpm" \
	--recovery-password-file "$work/new"
tpm_id=$(head -n 1 "$work/out")
run "the TPM unlocks it" "$ssrp" volume unlock --volume "bitlk:$img" --tpm "$tpm"
copies_sealed "after adding a TPM protector"
bdeinfo -p anaconda "$img" >"$work/bde" 2>&1 && grep -q "$(lower "$tpm_id")" "$work/bde" &&
	grep -q "Type.*: TPM" "$work/bde" && ok "bdeinfo lists the TPM protector" ||
	{ fail "bdeinfo after the TPM"; tail -n 8 "$work/bde" | sed 's/^/  | /'; }
cs_accepts "the user password after the TPM protector" "$work/pw"

# The old recovery password removed (unlocking with the TPM).
run "remove the old recovery password" "$ssrp" volume remove --volume "$vol" --tpm "$tpm" \
	--id "{$old_id}"
copies_sealed "after removing"
cryptsetup open --type bitlk --test-passphrase "$img" <"$work/old" >/dev/null 2>&1 &&
	fail "cryptsetup still accepts the removed recovery password" ||
	ok "cryptsetup refuses the removed recovery password"
cs_accepts "the new recovery password after the removal" "$work/new"
timeout 120 script -q -e -c "dislocker-file -V '$img' -p -- '$work/dis'" /dev/null \
	<"$work/new" >"$work/dis.log" 2>&1
decrypts "dislocker-file with the new recovery password" "$work/dis"
if bdeinfo -r "$(cat "$work/new")" "$img" >"$work/bde" 2>&1 &&
	! grep -q "$old_id" "$work/bde"; then ok "bdeinfo unlocks with the new recovery password"
else fail "bdeinfo with the new recovery password"; tail -n 5 "$work/bde" | sed 's/^/  | /'; fi
run "ssrp decrypts with the user password" "$ssrp" volume decrypt --volume "bitlk:$img" \
	--password-file "$work/pw" --out "$work/plain"
decrypts "ssrp with the user password" "$work/plain"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all checks of changes to a Windows-made volume passed"
