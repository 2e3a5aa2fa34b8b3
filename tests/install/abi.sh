#!/bin/sh
# The ABI of libssrp.so against the dump kept in abi/SONAME.abi (libabigail's
# abidw and abidiff; only types declared under include/ssrp count).
#   abi.sh check  LIB SRCDIR   fails on an incompatible change; reports
#                              additions and passes
#   abi.sh update LIB SRCDIR   writes the dump anew from LIB (on purpose only:
#                              see "The ABI" in README.md)
# LIB must carry debug information (RelWithDebInfo, as scripts/build builds).
# libabigail tells a public type from a private one by the base name of the
# header defining it: a library header named like a public one (escrow/config.h
# and ssrp/config.h) must not define the struct behind a public opaque type,
# or its layout becomes part of the dump (escrow/cloud_config.h holds it).
set -eu
mode=$1
lib=$2
src=$3
headers=$src/include/ssrp
# One dump per SONAME: a new SONAME starts a new ABI.
soname=$(readelf -W -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ -n "$soname" ] || { echo "FAIL: $lib has no SONAME"; exit 1; }
dump=$src/abi/$soname.abi
# Without DWARF abidw sees symbols only, and no type change could be caught.
readelf -W -S "$lib" | grep -q '\.debug_info' ||
	{ echo "FAIL: $lib has no debug information: build with RelWithDebInfo"; exit 1; }
case $mode in
update)
	abidw --headers-dir "$headers" --drop-private-types --drop-undefined-syms \
		--no-corpus-path --short-locs --out-file "$dump.new" "$lib"
	mv "$dump.new" "$dump"
	echo "wrote $dump ($soname)"
	exit 0
	;;
check) ;;
*) echo "usage: abi.sh check|update LIB SRCDIR" >&2; exit 2 ;;
esac

if [ ! -f "$dump" ]; then
	echo "FAIL: no ABI dump for $soname at $dump; record it with"
	echo "'cmake --build BUILD --target abi-update'"
	exit 1
fi

rc=0
abidiff --headers-dir2 "$headers" --drop-private-types --no-show-locs \
	"$dump" "$lib" >"${TMPDIR:-/tmp}/ssrp-abidiff.$$" 2>&1 || rc=$?
report=$(cat "${TMPDIR:-/tmp}/ssrp-abidiff.$$")
rm -f "${TMPDIR:-/tmp}/ssrp-abidiff.$$"
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change.
if [ $((rc & 3)) -ne 0 ]; then
	echo "FAIL: abidiff could not compare (status $rc):"
	echo "$report"
	exit 1
fi
# Additions are fine. abidiff marks only removals as incompatible (status
# bit 8), but a changed public type (a struct that grew, a moved member, a
# changed parameter) breaks callers built against the old headers too: any
# function or variable it reports as changed fails the check. Harmless
# changes (a new enumerator) are filtered out by abidiff itself.
if [ $((rc & 8)) -ne 0 ] ||
	echo "$report" | grep 'changes summary' | grep -Eq '(^|[^0-9])[1-9][0-9]* (Removed|Changed)'; then
	echo "FAIL: incompatible change to the ABI of $soname against $dump:"
	echo "$report"
	echo "Restore compatibility, or record the break on purpose (README.md, The ABI)."
	exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
	echo "compatible additions to the ABI of $soname (fine; record them with"
	echo "'cmake --build BUILD --target abi-update'):"
	echo "$report"
	exit 0
fi
echo "ABI of $soname unchanged against $dump"
