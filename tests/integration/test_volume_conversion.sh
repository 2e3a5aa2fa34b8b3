#!/bin/sh
# A conversion part-way, on a volume Windows made: what is encrypted is
# decrypted, what is not is read as it is, with the boundary where the
# metadata's encrypted size puts it, as dislocker and libbde read it.
#
# None of the Windows-made images is part-way by its metadata (each
# records states 4/4 and the whole volume as encrypted), so one is put in
# that state as Windows leaves a volume whose encryption was paused: the
# block header of every copy gets state 5 (paused), next state 4
# (encrypted) and an encrypted size of 40 MiB, the nonce counter moves on
# and the CRC-32 and the validation datum are sealed again under the VMK
# (bitlk_set_conversion). The data past 40 MiB is then stored as it is, so
# marks written straight into the image there must come back unchanged.
# Oracles: dislocker-file (it decrypts the encrypted part only: its output
# ends at the encrypted size) and libbde through python3-libbde (the whole
# NTFS volume, raw past the encrypted size).
#
# usage: test_volume_conversion.sh PATH/TO/ssrp PATH/TO/bitlk_set_conversion IMAGES.tar.xz
#        (exit 77: dislocker-file or python3-libbde missing)
set -u
ssrp=$1 fixture=$2 tarball=$3
py=/usr/bin/python3 # Debian's, where python3-libbde installs pybde
command -v dislocker-file >/dev/null 2>&1 && "$py" -c 'import pybde' 2>/dev/null || {
	echo "SKIP: needs dislocker-file and pybde (apt-get install dislocker python3-libbde)"
	exit 77
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
check() { # check NAME COMMAND...: must exit 0
	name=$1
	shift
	if "$@" >"$work/out" 2>"$work/err"; then ok "$name"; else
		fail "$name (exit $?)"
		sed 's/^/  | /' "$work/err"
	fi
}
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }
json() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
umask 077
name=bitlk-aes-cbc-128
tar --sparse -xJf "$tarball" -C "$work" "bitlk-windows/$name.img" \
	bitlk-windows/bitlk-aes-xts-128-eow.img || { echo "cannot unpack $tarball"; exit 1; }
img=$work/bitlk-windows/$name.img
chmod u+w "$img"
printf '%s\n' 042647-302313-590458-071500-554323-116567-412181-516978 >"$work/rp"
size=104857600 boundary=$((40 << 20))

# Marks straight into the image: the sector before the boundary (ciphertext,
# so it must come back decrypted, not as written), the one at it and two
# further on (stored as they are).
head -c 512 /dev/urandom >"$work/before"
head -c 4096 /dev/urandom >"$work/at"
head -c 8192 /dev/urandom >"$work/later"
head -c 512 /dev/urandom >"$work/last"
put() { dd if="$1" of="$img" bs=512 seek=$(($2 / 512)) conv=notrunc status=none; }
put "$work/before" $((boundary - 512))
put "$work/at" "$boundary"
put "$work/later" $((0x3000000))
put "$work/last" $((size - 512))
check "paused at 40 MiB, sealed again as Windows does" \
	"$fixture" "$img" 5 4 "$boundary" 0 <"$work/rp"

check "status --json of the paused volume" "$ssrp" volume status --json --volume "bitlk:$img"
cp "$work/out" "$work/status.json"
[ -s "$work/err" ] && fail "status warns: $(cat "$work/err")"
for want in "conversion_state=encryption paused" "encrypted_size=$boundary" \
	"percent_encrypted=40" "size=$size"; do
	got=$(json "$work/status.json" "${want%%=*}")
	[ "$got" = "${want#*=}" ] && ok "status: $want" || fail "status: ${want%%=*} is '$got'"
done

check "ssrp decrypts it" "$ssrp" volume decrypt --volume "bitlk:$img" \
	--recovery-password-file "$work/rp" --out "$work/ssrp.out"
[ "$(wc -c <"$work/ssrp.out")" -eq "$size" ] && ok "the view is the whole volume" ||
	fail "the view has $(wc -c <"$work/ssrp.out") bytes"
slice "$work/ssrp.out" "$boundary" 4096 | cmp -s - "$work/at" &&
	ok "the sector at the boundary is read as it is" || fail "the sector at the boundary differs"
slice "$work/ssrp.out" $((0x3000000)) 8192 | cmp -s - "$work/later" &&
	ok "data past the boundary is read as it is" || fail "data past the boundary differs"
slice "$work/ssrp.out" $((size - 512)) 512 | cmp -s - "$work/last" &&
	ok "the last sector is read as it is" || fail "the last sector differs"
slice "$work/ssrp.out" $((boundary - 512)) 512 | cmp -s - "$work/before" &&
	fail "the sector before the boundary was not decrypted" ||
	ok "the sector before the boundary is decrypted"

# dislocker: the encrypted part, byte for byte.
timeout 120 script -q -e -c "dislocker-file -V '$img' -p -- '$work/dislocker.out'" /dev/null \
	<"$work/rp" >"$work/dislocker.log" 2>&1
if [ -f "$work/dislocker.out" ] && [ "$(wc -c <"$work/dislocker.out")" -eq "$boundary" ] &&
	cmp -s -n "$boundary" "$work/dislocker.out" "$work/ssrp.out"; then
	ok "dislocker-file decrypts the encrypted part to ssrp's bytes"
else
	fail "dislocker-file's output differs from ssrp's"
	tail -n 3 "$work/dislocker.log" | sed 's/^/  | /'
fi
# libbde: the whole NTFS volume (its size from the NTFS boot sector: one
# sector short of the partition, whose last sector is compared above).
"$py" - "$img" "$work/rp" "$work/libbde.out" <<'EOF' 2>"$work/err"
import sys, pybde
v = pybde.volume()
v.set_recovery_password(open(sys.argv[2]).read().strip())
v.open(sys.argv[1])
with open(sys.argv[3], "wb") as out:
    size, off = v.get_size(), 0
    while off < size:
        n = min(4 << 20, size - off)
        out.write(v.read_buffer_at_offset(n, off))
        off += n
v.close()
EOF
n=$(wc -c <"$work/libbde.out")
if [ "$n" -ge $((size - 512)) ] && cmp -s -n "$n" "$work/libbde.out" "$work/ssrp.out"; then
	ok "libbde reads the same $n bytes as ssrp"
else
	fail "libbde's $n bytes differ from ssrp's: $(cmp -n "$n" "$work/libbde.out" "$work/ssrp.out")"
	sed 's/^/  | /' "$work/err"
fi
rm -f "$work/dislocker.out" "$work/libbde.out" "$work/ssrp.out"

# Writing while paused: before the boundary ssrp encrypts, past it it
# stores as is; libbde reads both back.
head -c 4096 /dev/urandom >"$work/w1"
head -c 4096 /dev/urandom >"$work/w2"
check "write before the boundary" "$ssrp" volume write --volume "bitlk:$img?rw" \
	--recovery-password-file "$work/rp" --offset $((boundary - 8192)) --in "$work/w1"
check "write past the boundary" "$ssrp" volume write --volume "bitlk:$img?rw" \
	--recovery-password-file "$work/rp" --offset $((boundary + 8192)) --in "$work/w2"
slice "$img" $((boundary - 8192)) 4096 | cmp -s - "$work/w1" &&
	fail "data before the boundary was stored unencrypted" || ok "stored encrypted before it"
slice "$img" $((boundary + 8192)) 4096 | cmp -s - "$work/w2" && ok "stored as is past it" ||
	fail "data past the boundary was not stored as is"
"$py" - "$img" "$work/rp" $((boundary - 8192)) $((boundary + 8192)) "$work/r1" "$work/r2" \
	<<'EOF' 2>"$work/err"
import sys, pybde
v = pybde.volume()
v.set_recovery_password(open(sys.argv[2]).read().strip())
v.open(sys.argv[1])
open(sys.argv[5], "wb").write(v.read_buffer_at_offset(4096, int(sys.argv[3])))
open(sys.argv[6], "wb").write(v.read_buffer_at_offset(4096, int(sys.argv[4])))
v.close()
EOF
cmp -s "$work/r1" "$work/w1" && cmp -s "$work/r2" "$work/w2" &&
	ok "libbde reads both writes back" || fail "libbde reads other bytes than ssrp wrote"

# Part-way through (state 2, switching): the megabyte being converted is a
# hole, named and refused.
check "encrypting, 1 MiB in conversion" "$fixture" "$img" 2 4 "$boundary" $((1 << 20)) <"$work/rp"
check "status of the converting volume" "$ssrp" volume status --volume "bitlk:$img"
grep -q "^conversion: *encrypting, $boundary bytes encrypted" "$work/out" &&
	grep -q "^reserved: *$boundary\.\.$((boundary + (1 << 20) - 1)) (region being converted)" \
		"$work/out" && ok "status names the region being converted" ||
	{ fail "status of the converting volume"; sed 's/^/  | /' "$work/out"; }
if "$ssrp" volume read --volume "bitlk:$img" --recovery-password-file "$work/rp" \
	--offset "$boundary" --length 512 --out "$work/x" >/dev/null 2>"$work/err"; then
	fail "the region being converted was read"
else
	grep -q "region being converted" "$work/err" && ok "reading it is refused, naming it" ||
		fail "refusal: $(cat "$work/err")"
fi

# Windows' used-space-only image records a finished conversion.
check "status of the used-space-only image" "$ssrp" volume status --json \
	--volume "bitlk:$work/bitlk-windows/bitlk-aes-xts-128-eow.img"
cp "$work/out" "$work/eow.json"
for want in "used_space_only=True" "conversion_state=encrypted" "encrypted_size=$size"; do
	got=$(json "$work/eow.json" "${want%%=*}")
	[ "$got" = "${want#*=}" ] && ok "used space only: $want" ||
		fail "used space only: ${want%%=*} is '$got'"
done

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all conversion checks passed"
