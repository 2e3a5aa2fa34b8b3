#!/bin/sh
# run_volume_wine.sh SOURCE_DIR WINDOWS_BUILD OUT_DIR IMAGES.tar.xz
# The BitLocker on-disk codec of the Windows build (bitlk: volumes, its
# ciphers from the statically linked libcrypto) run by the production
# ssrp.exe under Wine, in the tree mingw_windows_build made, on volumes
# Windows made (tests/data/bitlk-windows.tar.xz, see images.conf there):
# one XTS-AES-128 and one AES-128-CBC with the Elephant diffuser.
#   - ssrp.exe volume status: the cipher, locked, and the recovery
#     password protector under the id images.conf records;
#   - ssrp.exe volume decrypt --recovery-password-file (the password from a
#     file, never on the command line) --out: the SHA-256 of the decrypted
#     volume is the one images.conf records for what Windows sees;
#   - a wrong recovery password: exit 8 (bad key) and no output file.
# Every missing part is a failure, not a skip.
set -u
. "$(dirname "$0")/wine_lib.sh"
src=$1
build=$2
out=$3
tarball=$4

need_wine
need_tree ssrp.exe libssrp.dll libcurl.dll libcjson.dll
absolute_dirs
app=$build
work="$out/work"
rm -rf "$work" && mkdir -p "$work"
tar --sparse -xJf "$tarball" -C "$work" bitlk-windows/images.conf \
	bitlk-windows/bitlk-aes-xts-128.img bitlk-windows/bitlk-aes-cbc-elephant-128.img ||
	die "cannot unpack $tarball"

test_cleanup() { rm -rf "$work"; }
wine_session "$out/wineprefix"
conf() { # conf IMAGE KEY: the value images.conf records
	sed -n "/^\\[$1\\]\$/,/^\\[/s/^$2=//p" "$work/bitlk-windows/images.conf"
}

check_image() { # check_image IMAGE "ENCRYPTION LINE"
	img=$1
	cipher=$2
	vol="bitlk:Z:$work/bitlk-windows/$img.img"
	rp=$(conf "$img" RP)
	rp_id=$(conf "$img" RP_VMK_GUID | tr 'a-f' 'A-F')
	sum=$(conf "$img" SHA256SUM)
	[ -n "$rp" ] && [ -n "$rp_id" ] && [ -n "$sum" ] || die "images.conf has no $img"

	run "$img.status" ./ssrp.exe volume status --volume "$vol"
	if [ "$got" = 0 ] && grep -qx "encryption: *$cipher, 100% encrypted" "$out/$img.status.out" &&
		grep -qx 'lock: *locked' "$out/$img.status.out" &&
		grep -qx "protector: *{$rp_id}  recovery password" "$out/$img.status.out"; then
		pass "$img: ssrp.exe volume status: $cipher, locked, recovery password {$rp_id}"
	else
		fail "$img: ssrp.exe volume status: exit $got"
		show "$img.status"
	fi

	(umask 077 && printf '%s\n' "$rp" >"$work/$img.rp")
	run "$img.decrypt" ./ssrp.exe volume decrypt --volume "$vol" --recovery-password-file "Z:$work/$img.rp" \
		--out "Z:$work/$img.plain"
	have=$(sha256sum <"$work/$img.plain" 2>/dev/null | cut -c1-64)
	if [ "$got" = 0 ] && [ "$have" = "$sum" ]; then
		pass "$img: ssrp.exe volume decrypt --out: SHA-256 $have, as Windows sees the volume"
	else
		fail "$img: ssrp.exe volume decrypt: exit $got, SHA-256 ${have:-none}, Windows: $sum"
		show "$img.decrypt"
	fi
	rm -f "$work/$img.plain"

	# The same password with one group changed (still a valid group).
	bad=$(echo "$rp" | awk -F- '{ $1 = sprintf("%06d", ($1 + 11) % 720896); print }' OFS=-)
	(umask 077 && printf '%s\n' "$bad" >"$work/$img.rp")
	run "$img.wrong" ./ssrp.exe volume decrypt --volume "$vol" --recovery-password-file "Z:$work/$img.rp" \
		--out "Z:$work/$img.wrong"
	if [ "$got" = 8 ] && [ ! -e "$work/$img.wrong" ]; then
		pass "$img: a wrong recovery password: exit 8, nothing written ($(head -n 1 "$out/$img.wrong.err"))"
	else
		fail "$img: a wrong recovery password: exit $got$([ -e "$work/$img.wrong" ] && echo ", $img.wrong written")"
		show "$img.wrong"
	fi
}

check_image bitlk-aes-xts-128 "XTS-AES-128"
check_image bitlk-aes-cbc-elephant-128 "AES-128-CBC with diffuser"

finish
