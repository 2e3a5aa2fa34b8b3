#!/bin/sh
# The production commands use only public calls: tools/ builds against the
# installed headers alone. The build is installed into a scratch prefix;
# tools/ (and server/'s headers, for ssrp-assocd) are copied out of the
# source tree, every tools/*.c is compiled with the project's warning flags
# against the prefix's include/ and the copies (plus the system's cJSON,
# libcurl, libmicrohttpd and GnuTLS headers), and `ssrp` is linked against
# the installed libssrp.so and run. A file that reaches an internal header
# (escrow/, hal/, bitlocker/, tpm/) does not compile, and every header a
# compile opens must come from the prefix, the copies or the system: that
# check first runs on a sample including "escrow/config.h", which must fail
# it, so the check can fail.
#   tools_public.sh BUILD_DIR SOURCE_DIR C_COMPILER
set -eu
build=$1
src=$(cd "$2" && pwd)
cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$work/prefix" >/dev/null
prefix=$work/prefix
libdir=$(ls -d "$prefix"/lib*/ | head -n 1)
test -e "$libdir/libssrp.so" || fail "no libssrp.so installed under $prefix"

# The commands' sources, outside the source tree: "tools/x.h" and
# "server/x.h" resolve to these copies, nothing else of the tree is there.
mkdir -p "$work/tree/tools" "$work/tree/server"
cp "$src"/tools/*.c "$src"/tools/*.h "$work/tree/tools/"
cp "$src"/server/*.h "$work/tree/server/"

cflags="-std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
	-Wno-missing-field-initializers -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE"
sys=$(pkg-config --cflags libcjson libcurl libmicrohttpd gnutls)

# compile FILE.c OBJ: with only the installed headers, the copies and the
# system's; fails when the compiler fails or opened a header from anywhere
# else (the source tree above all).
compile() {
	# shellcheck disable=SC2086
	if ! "$cc" $cflags -I"$prefix/include" -I"$work/tree" $sys -H -c "$1" -o "$2" \
		2>"$work/err"; then
		grep -v '^\.' "$work/err" | grep -v '^Multiple include guards' | head -20
		return 1
	fi
	# -H lists every header opened, one per line, led by dots
	stray=$(sed -n 's/^\.\.* //p' "$work/err" | grep -v -e "^$prefix/include/" \
		-e "^$work/tree/" -e '^/usr/' || true)
	[ -z "$stray" ] || { echo "$1 opened headers from elsewhere:"; echo "$stray"; return 1; }
}

# The check can fail: a command file that reaches an internal header.
printf '#include "escrow/config.h"\nint sample(void);\nint sample(void) { return 0; }\n' \
	>"$work/tree/tools/zz_sample.c"
if compile "$work/tree/tools/zz_sample.c" "$work/sample.o" >/dev/null 2>&1; then
	fail "a tools/ file including \"escrow/config.h\" compiled against the installed headers: the check cannot fail"
fi
rm "$work/tree/tools/zz_sample.c"
echo "control: a tools/ file including \"escrow/config.h\" does not build against the install"

n=0
for f in "$work"/tree/tools/*.c; do
	compile "$f" "$work/$(basename "$f" .c).o" || fail "tools/$(basename "$f") does not build against the installed headers alone"
	n=$((n + 1))
done
echo "ok: all $n tools/*.c files build against the installed headers alone"

# ssrp: its files (tools/CMakeLists: ssrp.c and the shared words), linked
# against the installed shared library only: every call it makes is exported.
objs=""
for w in ssrp cli_main cli_util cmd_agent cmd_assoc cmd_assoc_login cmd_assoc_report \
	cmd_recover cmd_tpm cmd_volume cmd_volume_data; do
	objs="$objs $work/$w.o"
done
# shellcheck disable=SC2086
"$cc" -o "$work/ssrp" $objs -L"$libdir" -Wl,-rpath,"$libdir" -lssrp \
	$(pkg-config --libs libcjson) -lpthread || fail "ssrp does not link against the installed libssrp.so"
objdump -p "$work/ssrp" | grep -q 'NEEDED.*libssrp.so.0' || fail "ssrp was not linked to libssrp.so.0"
out=$("$work/ssrp" version) || fail "the ssrp built against the install does not run"
echo "ok: ssrp linked against the installed libssrp.so.0 and ran: $out"
