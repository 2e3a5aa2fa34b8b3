#!/bin/sh
# ARCHITECTURE.md's layering, checked on the sources:
# - rooms include only rooms below them (hal <- tpm, bitlocker <- escrow <-
#   sim, tools; hal <- server <- sim, tools), and no production room includes
#   sim/ or tools/;
# - escrow/ is platform-neutral: C's standard headers and cJSON only, no
#   #ifdef on a platform (files, locks, logs, threads, crypto are hal's);
# - the production commands' files (tools/) include nothing from sim/, and
#   no library room's header either (hal/, escrow/, bitlocker/, tpm/, quoted
#   or in angle brackets): only the public <ssrp/...> headers, tools/ and
#   server/ (install_tools_public builds them against the installed headers);
#   the simulator's command (sim/cli/) may use the ssrp words in tools/.
# Each rule is first run on a sample that breaks it, so a rule that cannot
# fail fails the test.
#   layering.sh SOURCE_DIR
set -u
src=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# includes FILE...: the project's own includes, "room/file.h" -> room
rooms_included() { sed -n 's/^#include "\([a-z_]*\)\/.*/\1/p' "$@" | sort -u; }

# allowed ROOM LIST FILES...: fails for an include of a room not in LIST
allowed() {
	room=$1 list=$2
	shift 2
	bad=$(for f in "$@"; do
		for r in $(rooms_included "$f"); do
			case " $list " in *" $r "*) ;; *) echo "$f includes $r/" ;; esac
		done
	done)
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# internal_free FILES...: no include of a library room's own header, in
# either form ("escrow/x.h" or <escrow/x.h>)
internal_free() {
	bad=$(grep -HnE '^#[[:space:]]*include[[:space:]]*["<](hal|escrow|bitlocker|tpm|sim)/' "$@")
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# escrow_neutral FILES...: only the C library's headers and cJSON
std='assert ctype errno float inttypes limits math stdarg stdatomic stdbool stddef stdint stdio stdlib string time'
escrow_neutral() {
	bad=$(grep -HoE '#include <[^>]+>' "$@" | while IFS=: read -r f inc; do
		h=${inc#\#include <}
		h=${h%>}
		case "$h" in cjson/cJSON.h) continue ;; esac
		case " $std " in *" ${h%.h} "*) ;; *) echo "$f includes <$h>" ;; esac
	done
	grep -HnE '^#\s*if(def|ndef)?\b.*(_WIN32|__linux__|__APPLE__|_POSIX)' "$@")
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

# The rules can fail: a sample file breaking each.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "escrow/journal.h"\n' >"$tmp/up.c"
allowed hal "hal ssrp" "$tmp/up.c" >/dev/null && fail "the room rule accepts hal including escrow/"
printf '#include <pthread.h>\n' >"$tmp/p.c"
escrow_neutral "$tmp/p.c" >/dev/null && fail "the platform rule accepts <pthread.h>"
printf '#include "sim/swtpm.h"\n' >"$tmp/s.c"
allowed tools "server ssrp tools" "$tmp/s.c" >/dev/null &&
	fail "the production command rule accepts tools/ including sim/"
printf '#include "escrow/config.h"\n' >"$tmp/t1.c"
internal_free "$tmp/t1.c" >/dev/null && fail "the public-only rule accepts tools/ including \"escrow/config.h\""
printf '#include <hal/fs.h>\n' >"$tmp/t2.c"
internal_free "$tmp/t2.c" >/dev/null && fail "the public-only rule accepts tools/ including <hal/fs.h>"
printf '#ifdef _WIN32\n#endif\n' >"$tmp/w.c"
escrow_neutral "$tmp/w.c" >/dev/null && fail "the platform rule accepts #ifdef _WIN32"

cd "$src" || exit 1
allowed hal "hal ssrp" hal/*.c hal/*.h || fail "hal/ includes a room above it"
allowed tpm "hal tpm ssrp" tpm/*.c tpm/*.h || fail "tpm/ includes a room above it"
allowed bitlocker "hal bitlocker ssrp" bitlocker/*.c bitlocker/*.h ||
	fail "bitlocker/ includes a room above it"
allowed escrow "hal bitlocker escrow ssrp" escrow/*.c escrow/*.h ||
	fail "escrow/ includes a room above it"
allowed server "hal server ssrp" server/*.c server/*.h ||
	fail "server/ includes a room above it"
allowed sim "hal tpm bitlocker server sim ssrp" sim/*.c sim/*.h sim/cloud/*.c sim/cloud/*.h ||
	fail "sim/ includes tools/"
# the simulator's command sits on top of everything: every ssrp word, plus its own
allowed sim "hal tpm bitlocker escrow server sim ssrp tools" sim/cli/*.c sim/cli/*.h ||
	fail "sim/cli/ includes a room it should not"
escrow_neutral escrow/*.c escrow/*.h || fail "escrow/ is not platform-neutral"
# the production commands: every tools/ file (the simulator's command lives in sim/cli/)
allowed tools "server ssrp tools" tools/*.c tools/*.h ||
	fail "a production command file includes sim/ or a library room"
internal_free tools/*.c tools/*.h ||
	fail "a production command file includes a library room's header (hal/ escrow/ bitlocker/ tpm/)"

[ "$failures" = 0 ] && echo "ok: the layering ARCHITECTURE.md states holds" && exit 0
exit 1
