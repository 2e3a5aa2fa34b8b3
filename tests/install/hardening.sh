#!/bin/sh
# Install the build into a scratch prefix and check that the installed
# library and commands carry the hardening cmake/hardening.cmake asks for:
# PIE, full RELRO, stack protector, fortified libc calls, no executable stack.
# Reads the ELF files with readelf (binutils); prints every failed check.
#   hardening.sh BUILD [FORTIFY]   FORTIFY 0: a build type without
#                                  optimisation, where there is no fortify
set -eu
build=$1
fortify=${2:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n 1)
libdir=${libdir%/}

failed=0
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

# check FILE KIND: KIND is exe (must be PIE) or lib (shared object).
check() {
	f=$1
	name=${f#"$work/prefix/"}
	before=$failed
	[ -f "$f" ] || { fail "$name" "not installed"; return; }
	readelf -W -h "$f" >"$work/h" && readelf -W -l "$f" >"$work/l" &&
		readelf -W -d "$f" >"$work/d" && readelf -W --dyn-syms "$f" >"$work/s" ||
		{ fail "$name" "readelf cannot read it"; return; }
	grep -Eq 'Type:[[:space:]]+DYN' "$work/h" ||
		fail "$name" "ELF type is not DYN (not position-independent)"
	if [ "$2" = exe ]; then
		grep -Eq 'FLAGS_1.*[[:space:]]PIE' "$work/d" ||
			fail "$name" "no PIE flag in FLAGS_1 (not linked with -pie)"
	fi
	grep -q 'GNU_RELRO' "$work/l" || fail "$name" "no GNU_RELRO segment (link with -z relro)"
	grep -Eq '\(BIND_NOW\)|FLAGS_1.*[[:space:]]NOW|\(FLAGS\).*BIND_NOW' "$work/d" ||
		fail "$name" "no BIND_NOW: RELRO is partial (link with -z now)"
	stack=$(awk '$1 == "GNU_STACK" {print $(NF-1)}' "$work/l")
	case $stack in
	RW) ;;
	'') fail "$name" "no GNU_STACK segment: the stack defaults to executable" ;;
	*) fail "$name" "stack is mapped '$stack' (executable; link with -z noexecstack)" ;;
	esac
	grep -Eq 'UND[[:space:]]+__stack_chk_fail' "$work/s" ||
		fail "$name" "does not import __stack_chk_fail (not built with -fstack-protector-strong)"
	chk=$(grep -Eo 'UND[[:space:]]+__[a-z_]+_chk\b' "$work/s" |
		awk '$2 != "__stack_chk_fail" {print $2}' | sort -u | tr '\n' ' ')
	[ -n "$chk" ] || [ "$fortify" = 0 ] ||
		fail "$name" "imports no fortified libc call (__*_chk; not built with -D_FORTIFY_SOURCE=2)"
	[ $failed -ne "$before" ] || echo "ok   $name: PIE/PIC, full RELRO, NX stack, stack protector, fortified: ${chk% }"
}

check "$libdir/libssrp.so.0" lib
found=0
for exe in "$work"/prefix/bin/*; do
	[ -f "$exe" ] || continue
	found=1
	check "$exe" exe
done
[ $found -eq 1 ] || fail bin "no command installed"
[ $failed -eq 0 ] || { echo "$failed hardening check(s) failed"; exit 1; }
