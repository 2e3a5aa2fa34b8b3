#!/bin/sh
# check_pe64.sh EXE: succeed only for a PE32+ x86-64 executable.
# PE32+: "MZ", then at e_lfanew "PE\0\0", machine 0x8664, optional magic 0x20b.
set -eu
exe=$1
fail() {
	echo "check_pe64: $*" >&2
	exit 1
}
[ -s "$exe" ] || fail "$exe was not written"
hex() { od -An -v -tx1 -j "$1" -N "$2" "$exe" | tr -d ' \n'; }
[ "$(hex 0 2)" = 4d5a ] || fail "$exe has no MZ header"
# shellcheck disable=SC2046 # the four bytes are meant to split into $1..$4
set -- $(od -An -v -tu1 -j 60 -N 4 "$exe")
pe=$(($1 + $2 * 256 + $3 * 65536 + $4 * 16777216))
[ "$(hex "$pe" 4)" = 50450000 ] || fail "$exe has no PE signature at $pe"
[ "$(hex $((pe + 4)) 2)" = 6486 ] || fail "$exe is not for x86-64 (machine $(hex $((pe + 4)) 2))"
[ "$(hex $((pe + 24)) 2)" = 0b02 ] || fail "$exe is not PE32+ (magic $(hex $((pe + 24)) 2))"
echo "built $exe: PE32+ x86-64"
