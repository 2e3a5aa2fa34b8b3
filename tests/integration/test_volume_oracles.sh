#!/bin/sh
# dislocker, libbde and cryptsetup as oracles for ssrp's on-disk format: a
# volume made, filled and protected with nothing but the `ssrp` command must
# decrypt with dislocker-file to exactly the bytes ssrp reads back (and
# `ssrp volume decrypt` streams), bdeinfo and cryptsetup bitlkDump must list
# its protectors under the ids ssrp reports, cryptsetup must accept the
# recovery password and dump the FVEK ssrp encrypts with. A wrong password
# opens nothing.
# dislocker crashes instead of reporting some errors, so contents are
# compared, never its exit code. The recovery password must not show up in
# `ssrp volume status` or on any ssrp stderr.
#
# usage: test_volume_oracles.sh PATH/TO/ssrp   (exit 77: a reader is missing)
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
for tool in dislocker-file bdeinfo swtpm cryptsetup openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (apt-get install dislocker libbde-utils swtpm" \
			"cryptsetup-bin openssl)"
		exit 77
	fi
done
work=$(mktemp -d)
trap '"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
# run NAME COMMAND...: must exit 0; stdout in $work/out; every stderr kept.
run() {
	name=$1
	shift
	if "$@" >"$work/out" 2>"$work/err"; then ok "$name"; else
		fail "$name (exit $?)"
		sed 's/^/  | /' "$work/err"
	fi
	cat "$work/err" >>"$work/all-stderr"
}
# slice FILE OFFSET LENGTH: those bytes of FILE on stdout.
slice() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }

size=8388608
img=$work/volume.img
vol="bitlk:$img?rw"
: >"$work/all-stderr"

run "create an 8M volume" "$ssrp_sim" volume create --volume "sim:$img" --size 8M

# Distinctive data: at 0 (through the relocated sectors 0..15), unaligned in
# the middle, and up to the volume's last byte.
set -- 0:20000 1048699:5000 3000000:70000 7000001:12345 $((size - 4096)):4096
for spot in "$@"; do
	offset=${spot%%:*} length=${spot##*:}
	head -c "$length" /dev/urandom >"$work/data.$offset"
	run "write $length bytes at $offset" "$ssrp" volume write --volume "$vol" --offset "$offset" \
		--in "$work/data.$offset"
done

run "add a recovery password (--show)" "$ssrp" volume add-recovery --volume "$vol" --show
cp "$work/out" "$work/pw"
password=$(cat "$work/pw")
case "$password" in
[0-9][0-9][0-9][0-9][0-9][0-9]-*-*-*-*-*-*-[0-9][0-9][0-9][0-9][0-9][0-9])
	ok "--show printed a recovery password" ;;
*) fail "--show printed '$password'" ;;
esac

tpm=$("$ssrp_sim" swtpm start --dir "$work/tpm" 2>>"$work/all-stderr") ||
	{ echo "cannot start swtpm"; exit 1; }
run "measure PCR 7" "$ssrp" tpm pcr-extend --tpm "$tpm" 7 --data "secure boot policy"
run "measure PCR 11" "$ssrp" tpm pcr-extend --tpm "$tpm" 11 --data "boot manager"
run "add a TPM protector" "$ssrp" volume add-tpm --volume "$vol" --tpm "$tpm"
run "protection on" "$ssrp" volume protection --volume "$vol" --tpm "$tpm" on

run "status" "$ssrp" volume status --volume "$vol"
cp "$work/out" "$work/status"
rp_id=$(awk '$1 == "protector:" && $3 == "recovery" { print $2 }' "$work/status")
tpm_id=$(awk '$1 == "protector:" && $3 == "TPM" { print $2 }' "$work/status")
count=$(grep -c '^protector:' "$work/status")
if [ -n "$rp_id" ] && [ -n "$tpm_id" ] && [ "$count" -eq 2 ]; then
	ok "status lists the recovery password and the TPM protector"
else
	fail "status lists $count protector(s): rp '$rp_id', TPM '$tpm_id'"
	sed 's/^/  | /' "$work/status"
fi
run "status --json" "$ssrp" volume status --volume "$vol" --json
cp "$work/out" "$work/status.json"

# ssrp's view of the whole volume: the ranges it serves, read with the
# recovery password, and zeros for the reserved regions it refuses, which
# both readers show as holes.
sed -n 's/^reserved: *\([0-9]*\)\.\.\([0-9]*\) .*/\1 \2/p' "$work/status" | sort -n >"$work/holes"
if [ "$(wc -l <"$work/holes")" -ge 4 ]; then ok "status names the reserved regions"
else fail "status names $(wc -l <"$work/holes") reserved region(s)"; fi
: >"$work/view"
pos=0
read_range() { # read_range OFFSET LENGTH: append ssrp's bytes to the view
	run "ssrp reads $2 bytes at $1" "$ssrp" volume read --volume "$vol" --offset "$1" --length "$2" \
		--out "$work/part" --recovery-password-file "$work/pw"
	if [ -f "$work/part" ]; then cat "$work/part" >>"$work/view"; rm -f "$work/part"; fi
}
while read -r start end; do
	[ "$start" -gt "$pos" ] && read_range "$pos" $((start - pos))
	head -c $((end - start + 1)) /dev/zero >>"$work/view"
	pos=$((end + 1))
done <"$work/holes"
[ "$pos" -lt "$size" ] && read_range "$pos" $((size - pos))
if [ "$(wc -c <"$work/view")" -eq "$size" ]; then ok "ssrp's view has $size bytes"
else fail "ssrp's view has $(wc -c <"$work/view") bytes"; fi
first_hole=$(head -n 1 "$work/holes" | cut -d' ' -f1)
if "$ssrp" volume read --volume "$vol" --offset "$first_hole" --length 512 --out "$work/x" \
	--recovery-password-file "$work/pw" >/dev/null 2>"$work/err"; then
	fail "ssrp read a reserved region"
else
	if grep -q "reserves" "$work/err"; then ok "a reserved region is refused, and named"
	else fail "refusal of a reserved region: $(cat "$work/err")"; fi
fi
cat "$work/err" >>"$work/all-stderr"
for spot in "$@"; do
	offset=${spot%%:*} length=${spot##*:}
	if slice "$work/view" "$offset" "$length" | cmp -s - "$work/data.$offset"; then
		ok "ssrp reads back the data at $offset"
	else fail "ssrp's data at $offset differs"; fi
done

# (a) dislocker decrypts the same bytes. It reads the password at its prompt
# (through a pseudo-terminal), so the password is on no command line.
(umask 077 && printf '%s\n' "$password" >"$work/password")
timeout 120 script -q -e -c "dislocker-file -V '$img' -p -- '$work/dislocker.out'" /dev/null \
	<"$work/password" >"$work/dislocker.log" 2>&1
if [ -f "$work/dislocker.out" ] && [ "$(wc -c <"$work/dislocker.out")" -ge "$size" ] &&
	cmp -s -n "$size" "$work/dislocker.out" "$work/view"; then
	ok "dislocker-file decrypts exactly what ssrp reads"
else
	fail "dislocker-file's output differs from ssrp's view"
	[ -f "$work/dislocker.out" ] && cmp -n "$size" "$work/dislocker.out" "$work/view" |
		sed 's/^/  | /'
	tail -n 5 "$work/dislocker.log" | sed 's/^/  | /'
fi

# (b) bdeinfo unlocks it and lists both protectors under ssrp's ids. bdeinfo
# takes a password only with -r; this one opens a throwaway test volume.
lower() { printf '%s' "$1" | tr -d '{}' | tr 'A-F' 'a-f'; }
if bdeinfo -r "$password" "$img" >"$work/bdeinfo" 2>&1; then ok "bdeinfo unlocks with the password"
else fail "bdeinfo failed"; sed 's/^/  | /' "$work/bdeinfo"; fi
for want in "Identifier.*: $(lower "$rp_id")" "Identifier.*: $(lower "$tpm_id")" \
	"Type.*: Recovery password" "Type.*: TPM" "Number of key protectors.*: 2"; do
	if grep -q "$want" "$work/bdeinfo"; then ok "bdeinfo shows '$want'"
	else fail "bdeinfo lacks '$want'"; sed 's/^/  | /' "$work/bdeinfo"; fi
done

# (c) A wrong password (well formed) opens nothing.
wrong=111683-110022-683298-209352-468105-648483-571252-334455
[ "$wrong" = "$password" ] && wrong=135795-597531-012221-660000-010989-344707-046662-720885
bdeinfo -r "$wrong" "$img" >"$work/bdeinfo.wrong" 2>&1
got=$?
if [ "$got" -eq 1 ]; then ok "bdeinfo refuses a wrong password (exit 1)"
else fail "bdeinfo with a wrong password exited $got"; fi
timeout 120 dislocker-file -V "$img" -p"$wrong" -- "$work/dislocker.wrong" \
	>"$work/dislocker.wrong.log" 2>&1
leaked=0
if [ -f "$work/dislocker.wrong" ]; then
	for spot in "$@"; do
		offset=${spot%%:*} length=${spot##*:}
		slice "$work/dislocker.wrong" "$offset" "$length" | cmp -s - "$work/data.$offset" &&
			leaked=1
	done
fi
if [ "$leaked" -eq 0 ]; then ok "dislocker with a wrong password yields none of the data"
else fail "dislocker decrypted data with a wrong password"; fi

# `ssrp volume decrypt` streams the same view in one go.
run "ssrp volume decrypt" "$ssrp" volume decrypt --volume "$vol" --out "$work/decrypted" \
	--recovery-password-file "$work/pw"
if cmp -s "$work/decrypted" "$work/view"; then ok "ssrp volume decrypt gives ssrp's view"
else fail "ssrp volume decrypt differs from the view read piece by piece"; fi

# (d) cryptsetup lists the protectors, takes the recovery password on
# standard input and refuses a wrong one (2.6.1 cannot open a volume that
# still has a clear key; protection is on here).
if cryptsetup bitlkDump "$img" >"$work/bitlkdump" 2>&1; then ok "cryptsetup bitlkDump reads it"
else fail "cryptsetup bitlkDump failed"; sed 's/^/  | /' "$work/bitlkdump"; fi
for want in "GUID:.*$(lower "$rp_id")" "GUID:.*$(lower "$tpm_id")" "recovery passphrase" \
	"Volume size:.*$size"; do
	if grep -q "$want" "$work/bitlkdump"; then ok "bitlkDump shows '$want'"
	else fail "bitlkDump lacks '$want'"; sed 's/^/  | /' "$work/bitlkdump"; fi
done
if cryptsetup open --type bitlk --test-passphrase "$img" <"$work/password" >"$work/cs" 2>&1
then ok "cryptsetup accepts the recovery password"
else fail "cryptsetup refuses the recovery password"; sed 's/^/  | /' "$work/cs"; fi
if printf '%s\n' "$wrong" | cryptsetup open --type bitlk --test-passphrase "$img" \
	>"$work/cs.wrong" 2>&1; then fail "cryptsetup accepts a wrong recovery password"
else ok "cryptsetup refuses a wrong recovery password"; fi
# The FVEK cryptsetup dumps decrypts a sector of known data: the first block
# of XTS is D_K1(C ^ T) ^ T with T = E_K2(sector number).
cryptsetup bitlkDump --dump-volume-key "$img" <"$work/password" >"$work/mk" 2>&1
fvek=$(awk '/MK dump:/ { f = 1; sub(/.*MK dump:/, "") } f && NF == 0 { f = 0 } f' "$work/mk" |
	tr -d ' \t\n:')
tobin() { # hex on stdin to bytes on stdout (octal escapes: dash's printf has no \x)
	hex=$(cat)
	while [ -n "$hex" ]; do
		printf "\\$(printf '%03o' "0x$(printf '%s' "$hex" | cut -c1-2)")"
		hex=$(printf '%s' "$hex" | cut -c3-)
	done
}
tohex() { od -An -tx1 -v | tr -d ' \n'; }
xorhex() {
	i=1 out=
	while [ $i -le 31 ]; do
		a=$(printf '%s' "$1" | cut -c$i-$((i + 1))) b=$(printf '%s' "$2" | cut -c$i-$((i + 1)))
		out=$out$(printf '%02x' $((0x$a ^ 0x$b)))
		i=$((i + 2))
	done
	printf '%s' "$out"
}
sector=2050 # inside the 5000 bytes written at 1048699
tweak=$(printf '%02x%02x%028d' $((sector & 255)) $((sector >> 8)) 0) # LE u64, zero-padded
k1=$(printf '%s' "$fvek" | cut -c1-32) k2=$(printf '%s' "$fvek" | cut -c33-64)
t=$(printf '%s' "$tweak" | tobin | openssl enc -aes-128-ecb -K "$k2" -nopad | tohex)
c=$(tail -c +$((sector * 512 + 1)) "$img" | head -c 16 | tohex)
p=$(xorhex "$c" "$t" | tobin | openssl enc -d -aes-128-ecb -K "$k1" -nopad | tohex)
p=$(xorhex "$p" "$t")
want=$(slice "$work/data.1048699" $((sector * 512 - 1048699)) 16 | tohex)
if [ ${#fvek} -eq 64 ] && [ "$p" = "$want" ]; then ok "cryptsetup dumps the FVEK ssrp encrypts with"
else fail "the FVEK cryptsetup dumps ('${#fvek}' hex digits) does not decrypt ssrp's sector"; fi

# (e) Every encryption method: a volume made with it decrypts with
# dislocker-file to what `ssrp volume decrypt` gives, and cryptsetup and
# bdeinfo (which cannot do XTS-AES-256) take its recovery password.
for method in xts-aes-128 xts-aes-256 aes-cbc-128 aes-cbc-256 aes-cbc-diffuser-128 \
	aes-cbc-diffuser-256; do
	mimg=$work/$method.img
	run "$method: create" "$ssrp_sim" volume create --volume "sim:$mimg" --size 4M --method "$method"
	run "$method: write" "$ssrp" volume write --volume "bitlk:$mimg?rw" --offset 0 --in "$work/data.0"
	run "$method: add a recovery password" "$ssrp" volume add-recovery --volume "bitlk:$mimg?rw" --show
	cp "$work/out" "$work/mpw"
	run "$method: protection on" "$ssrp" volume protection --tpm "$tpm" on --volume "bitlk:$mimg?rw"
	run "$method: decrypt" "$ssrp" volume decrypt --volume "bitlk:$mimg" \
		--recovery-password-file "$work/mpw" --out "$work/$method.plain"
	if slice "$work/$method.plain" 0 20000 | cmp -s - "$work/data.0"; then
		ok "$method: ssrp reads back the data"
	else fail "$method: ssrp's data differs"; fi
	timeout 120 script -q -e -c "dislocker-file -V '$mimg' -p -- '$work/$method.dis'" /dev/null \
		<"$work/mpw" >"$work/dislocker.log" 2>&1
	if [ -f "$work/$method.dis" ] && cmp -s -n 4194304 "$work/$method.dis" "$work/$method.plain"
	then ok "$method: dislocker-file decrypts what ssrp decrypts"
	else fail "$method: dislocker-file differs"; tail -n 3 "$work/dislocker.log" | sed 's/^/  | /'; fi
	if cryptsetup open --type bitlk --test-passphrase "$mimg" <"$work/mpw" >"$work/cs" 2>&1
	then ok "$method: cryptsetup accepts the recovery password"
	else fail "$method: cryptsetup refuses it"; sed 's/^/  | /' "$work/cs"; fi
	if [ "$method" != xts-aes-256 ]; then
		if bdeinfo -r "$(cat "$work/mpw")" "$mimg" >"$work/bdeinfo" 2>&1
		then ok "$method: bdeinfo unlocks it"
		else fail "$method: bdeinfo fails"; tail -n 3 "$work/bdeinfo" | sed 's/^/  | /'; fi
	fi
	rm -f "$mimg" "$work/$method.plain" "$work/$method.dis"
done

# The password stays out of status and every stderr.
bare=$(printf '%s' "$password" | tr -d -)
[ -n "$password" ] || bare=no-password-was-shown
for f in "$work/status" "$work/status.json" "$work/all-stderr"; do
	if grep -qF -e "$password" -e "$bare" "$f"; then fail "the password appears in $f"
	else ok "no password in $(basename "$f")"; fi
done

"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1
[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all oracle checks passed"
