#!/bin/sh
# ssrp against fifteen volumes Windows made (tests/data/bitlk-windows.tar.xz,
# described by its images.conf): for each, `volume status` opens it without
# write access and lists the protectors under Windows' ids; every recovery
# password, user password (UTF-16LE), startup key (.BEK) and clear key given
# unlocks it and a wrong one is refused with exit 8; `volume decrypt` gives
# the bytes whose SHA-256 images.conf records. Then the damaged-copies image
# is reported, never repaired, by status; and metadata altered with a fixed
# CRC is refused as tampered, naming the copy.
#
# usage: test_volume_windows.sh PATH/TO/ssrp IMAGES.tar.xz WORKDIR
set -u
ssrp=$1 tarball=$2 work=$3
ssrp_sim="$(dirname "$ssrp")/ssrp-sim" # the simulator's command: sim: volumes
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
tar --sparse -xJf "$tarball" -C "$work" || { echo "cannot unpack $tarball"; exit 1; }
dir=$work/bitlk-windows
conf=$dir/images.conf
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
# value IMAGE KEY: KEY= from IMAGE's section of images.conf
value() { awk -v s="[$1]" -v k="$2" '$0 == s { f = 1; next } /^\[/ { f = 0 }
	f && index($0, k "=") == 1 { print substr($0, length(k) + 2) }' "$conf"; }
upper() { printf '%s' "$1" | tr 'a-f' 'A-F'; }
umask 077
# expect_exit WANT NAME COMMAND...: the command's exit status must be WANT.
expect_exit() {
	ee_want=$1 ee_name=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	ee_got=$?
	if [ "$ee_got" -eq "$ee_want" ]; then ok "$ee_name"
	else fail "$ee_name: exit $ee_got, want $ee_want"; sed 's/^/  | /' "$work/err"; fi
}
wrong_rp=111683-110022-683298-209352-468105-648483-571252-334455
images=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$conf")
[ "$(printf '%s\n' "$images" | wc -l)" -eq 15 ] || fail "images.conf lists $(printf '%s\n' "$images" | wc -l) images, not 15"
for name in $images; do
	img=$dir/$name.img
	vol=bitlk:$img
	chmod a-w "$img" # status and unlock need no write access
	before=$(sha256sum <"$img")
	expect_exit 0 "$name: status" "$ssrp" volume status --volume "$vol"
	cp "$work/out" "$work/status"
	for field in PW_VMK_GUID RP_VMK_GUID SK_VMK_GUID SC_VMK_GUID CLEARKEY_VMK_GUID; do
		id=$(value "$name" $field)
		[ -n "$id" ] || continue
		case $field in
		PW_*) kind=password ;; RP_*) kind="recovery password" ;; SK_*) kind="startup key" ;;
		SC_*) kind="smart card" ;; *) kind="clear key" ;;
		esac
		if grep -q "^protector: *{$(upper "$id")}  $kind" "$work/status"; then
			ok "$name: status lists $field {$id}"
		else fail "$name: status lacks $field {$id}"; sed 's/^/  | /' "$work/status"; fi
	done
	rp=$(value "$name" RP) pw=$(value "$name" PW) sum=$(value "$name" SHA256SUM) key=
	if [ -n "$rp" ]; then
		printf '%s\n' "$rp" >"$work/rp"
		expect_exit 0 "$name: the recovery password unlocks" "$ssrp" volume unlock \
			--volume "$vol" --recovery-password-file "$work/rp"
		printf '%s\n' "$wrong_rp" >"$work/wrong"
		expect_exit 8 "$name: a wrong recovery password is refused" "$ssrp" volume unlock \
			--volume "$vol" --recovery-password-file "$work/wrong"
		key="--recovery-password-file $work/rp.$name"
		cp "$work/rp" "$work/rp.$name"
	fi
	if [ -n "$pw" ]; then
		printf '%s\n' "$pw" >"$work/pw"
		expect_exit 0 "$name: the password unlocks" "$ssrp" volume unlock --volume "$vol" \
			--password-file "$work/pw"
		printf '%s\n' "${pw}x" >"$work/wrong"
		expect_exit 8 "$name: a wrong password is refused" "$ssrp" volume unlock \
			--volume "$vol" --password-file "$work/wrong"
	fi
	sk=$(value "$name" SK_VMK_GUID)
	if [ -n "$sk" ]; then
		bek=$dir/$(upper "$sk").BEK
		expect_exit 0 "$name: the startup key unlocks" "$ssrp" volume unlock --volume "$vol" \
			--startup-key "$bek"
	fi
	if [ -n "$(value "$name" CLEARKEY_VMK_GUID)" ]; then
		if grep -q "^lock: *unlocked" "$work/status" && grep -q "^protection: *off" "$work/status"
		then ok "$name: the clear key opens it (protection off)"
		else fail "$name: the clear key does not open it"; sed 's/^/  | /' "$work/status"; fi
		key=
	fi
	# shellcheck disable=SC2086
	expect_exit 0 "$name: decrypt" "$ssrp" volume decrypt --volume "$vol" $key --out "$work/plain"
	got=$(sha256sum <"$work/plain" | cut -c1-64)
	if [ -z "$sum" ]; then
		ok "$name: decrypted (no ground truth to compare: $(grep '^kind:' "$work/status" | cut -c16-))"
	elif [ "$got" = "$sum" ]; then ok "$name: the decrypted volume is the one Windows sees"
	else fail "$name: decrypted SHA-256 $got, want $sum"; fi
	rm -f "$work/plain"
	[ "$(sha256sum <"$img")" = "$before" ] && ok "$name: left unchanged" ||
		fail "$name: the image changed"
done

# Startup key of one volume, offered to another: refused, with its id named.
other=$(upper "$(value bitlk-aes-xts-128-startup-key SK_VMK_GUID)")
expect_exit 8 "a startup key of another volume is refused" "$ssrp" volume unlock \
	--volume "bitlk:$dir/bitlk-aes-xts-128.img" --startup-key "$dir/$other.BEK"
grep -q "$other" "$work/err" && ok "the refusal names the key's protector" ||
	fail "the refusal does not name {$other}: $(cat "$work/err")"

# Two of three copies damaged: status reports them on stderr and repairs nothing.
expect_exit 0 "damaged copies: status" "$ssrp" volume status \
	--volume "bitlk:$dir/bitlk-aes-xts-128-crc.img"
if grep -q "copy 1 at 0x2195000: .*CRC32" "$work/err" && grep -q "copy 2 at 0x2c1d000" "$work/err"
then ok "status names the two damaged copies"
else fail "status does not name the damaged copies: $(cat "$work/err")"; fi
# Altered metadata with a correct CRC: the validation datum catches it.
tampered=$work/tampered.img
cp --sparse=always "$dir/bitlk-aes-xts-128.img" "$tampered"
chmod u+w "$tampered"
for at in $((0x2195000)) $((0x2c1d000)) $((0x373a000)); do
	printf 'Z' | dd of="$tampered" bs=1 seek=$((at + 0x80)) conv=notrunc 2>/dev/null
	units=$(od -An -tu2 -j $((at + 8)) -N2 "$tampered" | tr -d ' ')
	len=$((units * 16))
	# gzip's trailer is the CRC-32 of its input, little-endian: BitLocker's.
	tail -c +$((at + 1)) "$tampered" | head -c "$len" | gzip -c | tail -c 8 | head -c 4 |
		dd of="$tampered" bs=1 seek=$((at + len + 4)) conv=notrunc 2>/dev/null
done
printf '%s\n' "$(value bitlk-aes-xts-128 RP)" >"$work/rp"
expect_exit 0 "tampered: every copy still passes its CRC" "$ssrp" volume status \
	--volume "bitlk:$tampered"
[ -s "$work/err" ] && fail "tampered: status warns: $(cat "$work/err")"
expect_exit 6 "tampered: unlocking is refused" "$ssrp" volume unlock --volume "bitlk:$tampered" \
	--recovery-password-file "$work/rp"
grep -q "tampered" "$work/err" && grep -q "copy 1 at 0x2195000" "$work/err" &&
	ok "the refusal says tampered and names the copy" ||
	fail "tampering refusal: $(cat "$work/err")"

# The same on an ssrp-made volume: status needs no write access and leaves a
# damaged copy as it is (naming it); the next change repairs it and says so.
simvol=$work/sim.img
expect_exit 0 "sim: create" "$ssrp_sim" volume create --volume "sim:$simvol" --size 8M
printf 'X' | dd of="$simvol" bs=1 seek=$((0x400000 + 0x80)) conv=notrunc 2>/dev/null
chmod a-w "$simvol"
before=$(sha256sum <"$simvol")
expect_exit 0 "sim: status of a read-only file" "$ssrp_sim" volume status --volume "sim:$simvol"
grep -q "copy 2 at 0x400000: .*CRC32" "$work/err" && ok "sim: status names the damaged copy" ||
	fail "sim: status does not name the damaged copy: $(cat "$work/err")"
[ "$(sha256sum <"$simvol")" = "$before" ] && ok "sim: status repaired nothing" ||
	fail "sim: status changed the volume"
chmod u+w "$simvol"
expect_exit 0 "sim: a change" "$ssrp_sim" volume add-recovery --volume "sim:$simvol"
grep -q "repaired copy 2 at 0x400000" "$work/err" && ok "sim: the change reports the repair" ||
	fail "sim: no repair reported: $(cat "$work/err")"
expect_exit 0 "sim: status after the repair" "$ssrp_sim" volume status --volume "sim:$simvol"
[ -s "$work/err" ] && fail "sim: still a warning: $(cat "$work/err")" ||
	ok "sim: all copies intact again"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all Windows-volume checks passed"
