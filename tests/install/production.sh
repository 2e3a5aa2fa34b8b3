#!/bin/sh
# Production is not the test bench: the ssrp command and libssrp carry no
# simulator symbol, no test hook and no server stack, and neither the library
# nor the production commands read the environment. Each check runs on the simulator's command
# first, which must fail it (so the check can fail), then on production.
#   production.sh BUILD_DIR
set -eu
build=$1
sim_lib=$build/libssrp-sim.a
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$sim_lib" ] || fail "no $sim_lib"

# Every global function and object libssrp-sim defines (its own code: the
# simulator's volumes, TPM socket, swtpm harness and cloud).
sim_syms=$(mktemp)
trap 'rm -f "$sim_syms"' EXIT
nm --defined-only "$sim_lib" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TDBR]$/ {print $3}' |
	grep -v '^\.' | sort -u >"$sim_syms"
[ "$(wc -l <"$sim_syms")" -gt 100 ] || fail "libssrp-sim defines too few symbols to check against"

# $1 file: prints what of the simulator it holds.
sim_in() {
	nm "$1" 2>/dev/null | awk 'NF == 3 && $2 ~ /^[TtDdBbRr]$/ {print $3}' | sort -u |
		comm -12 - "$sim_syms"
	readelf -d "$1" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | grep -E 'microhttpd|gnutls' || true
	for s in SSRP_TEST_ kill_at_write tbs-socket; do
		grep -q -a -F "$s" "$1" && echo "the string $s"
	done
	return 0
}

found=$(sim_in "$build/ssrp-sim")
[ -n "$found" ] || fail "the check found nothing in ssrp-sim: it could not fail"
echo "control: ssrp-sim holds $(echo "$found" | wc -l) simulator items, as it should"

for f in "$build/ssrp" "$build/libssrp.so"; do
	found=$(sim_in "$f")
	[ -z "$found" ] || fail "$f holds simulator or test items:
$(echo "$found" | head -20)"
	echo "ok: $(basename "$f") holds no simulator symbol, test hook or server library"
done

# Neither the library nor the production commands read an environment
# variable (a test's knobs would be one): settings come from options and the
# configuration file. ssrp-sim reads its test knobs, so it must fail this.
reads_env() { nm -D --undefined-only "$1" | grep -qw -e getenv -e secure_getenv; }
reads_env "$build/ssrp-sim" || fail "the getenv check passed ssrp-sim: it could not fail"
for f in "$build/libssrp.so" "$build/ssrp" "$build/ssrp-assocd"; do
	! reads_env "$f" || fail "$(basename "$f") calls getenv"
	echo "ok: $(basename "$f") reads no environment variable"
done
