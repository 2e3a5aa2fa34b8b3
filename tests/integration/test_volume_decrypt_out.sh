#!/bin/sh
# `ssrp volume decrypt --out FILE` on a Windows-made volume: the file is
# created mode 0600 and appears complete (nothing left beside it); an
# existing file is refused (exit 10) and left as it was unless --force,
# which replaces it; a symbolic link there is replaced, never followed; a
# failed unlock creates nothing.
#
# usage: test_volume_decrypt_out.sh PATH/TO/ssrp IMAGES.tar.xz
set -u
ssrp=$1 tarball=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
ok() { echo "ok   $*"; }
umask 022
name=bitlk-aes-xts-128
tar --sparse -xJf "$tarball" -C "$work" "bitlk-windows/$name.img" || exit 1
vol=bitlk:$work/bitlk-windows/$name.img
sum=674e3a976927fd62f3fc26df2c695cac75b8d364e3b45393717efa971f16db0f
(umask 077 && printf '%s\n' 235818-357951-253979-013365-241120-245575-342914-591910 >"$work/rp")
out=$work/out/plain.img
mkdir "$work/out"
decrypt() { # decrypt OUT [--force]: exit status
	"$ssrp" volume decrypt --volume "$vol" --recovery-password-file "$work/rp" --out "$@" \
		>/dev/null 2>"$work/err"
	echo $?
}
is_volume() { [ "$(sha256sum <"$1" | cut -c1-64)" = "$sum" ]; }

[ "$(decrypt "$out")" -eq 0 ] && is_volume "$out" && ok "decrypt writes the volume" ||
	{ fail "decrypt"; cat "$work/err"; }
[ "$(stat -c %a "$out")" = 600 ] && ok "mode 0600" || fail "mode $(stat -c %a "$out")"
[ "$(ls "$work/out")" = plain.img ] && ok "nothing left beside it" ||
	fail "left in the directory: $(ls "$work/out")"

echo "someone's file" >"$work/out/other"
got=$(decrypt "$work/out/other")
[ "$got" -eq 10 ] && grep -q -- "--force" "$work/err" &&
	[ "$(cat "$work/out/other")" = "someone's file" ] &&
	ok "an existing file is refused (exit 10, naming --force) and left as it was" ||
	{ fail "existing file: exit $got"; cat "$work/err"; }
[ "$(decrypt "$work/out/other" --force)" -eq 0 ] && is_volume "$work/out/other" &&
	ok "--force replaces it" || { fail "--force"; cat "$work/err"; }

echo "the link's target" >"$work/target"
ln -s "$work/target" "$work/out/link"
[ "$(decrypt "$work/out/link")" -eq 10 ] && ok "a symbolic link is refused" ||
	fail "a symbolic link was written through"
[ "$(decrypt "$work/out/link" --force)" -eq 0 ] && [ ! -L "$work/out/link" ] &&
	is_volume "$work/out/link" && [ "$(cat "$work/target")" = "the link's target" ] &&
	ok "--force replaces the link, not its target" || { fail "--force on a link"; cat "$work/err"; }

printf '%s\n' 111683-110022-683298-209352-468105-648483-571252-334455 >"$work/rp"
[ "$(decrypt "$work/out/wrong")" -eq 8 ] && [ ! -e "$work/out/wrong" ] &&
	[ "$(ls "$work/out" | grep -c ssrp-)" -eq 0 ] && ok "a wrong key creates nothing" ||
	fail "a wrong key: $(ls "$work/out")"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all decrypt --out checks passed"
