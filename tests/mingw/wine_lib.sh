# Shared by the scripts that check the Windows build under Wine (sourced,
# not run): the pass/fail bookkeeping, what must be installed, the Wine
# session, the Windows programs' directory and how one is run, and the real
# parts on the Linux side (swtpm behind TPM Base Services, the simulated
# cloud).
#
#   . "$(dirname "$0")/wine_lib.sh"  # $wine (SSRP_WINE), $triple, failures=0
#   pass TEXT / fail TEXT            # an ok / FAIL line; fail counts it
#   die TEXT                         # a FAIL line, exit 1
#   finish                           # the summary line; exit 1 after a failure
#   need_mingw / need_wine           # die unless the cross-compiler / Wine is installed
#   need_tree FILE...                # die unless $build (the Windows tree) holds each FILE
#   absolute_dirs                    # $out made; $out and $build (when set) absolute
#   windows_deps                     # $deps: the Windows dependencies scripts/windows-deps
#                                    # builds (or has cached), and an ok line
#   wine_session PREFIX [OVERRIDE]   # WINEPREFIX, no Wine debug output, Wine's
#                                    # mscoree and mshtml off (and OVERRIDE, e.g.
#                                    # tbs=n); at exit test_cleanup() when the
#                                    # script defines one, then the wineserver ends
#   make_app FILE...                 # $app: a new $out/app with these files of $build
#   build_exe OUTPUT SOURCE ARGS...  # tests/mingw/SOURCE ($src) with mingw-w64
#                                    # into $app/OUTPUT; the log $out/OUTPUT.log
#   build_tbs_dll                    # $app/tbs.dll: TBS over a socket to swtpm
#                                    # (tests/mingw/tbs_socket_dll.c)
#   run NAME PROGRAM ARGS...         # PROGRAM under Wine in $app: its exit status
#                                    # in $got, its output in $out/NAME.out and
#                                    # .err without CRs (and Wine's own notes)
#   show NAME                        # that output, indented, at most 20 lines
#   agent_reports NAME               # $first and $second: the report lines of
#                                    # agent_wine.exe's runs in $out/NAME.out
#   second_run_idle NAME PASS FAIL   # ok PASS when $second says nothing changed
#                                    # and no request went out; else FAIL
#                                    # "FAIL <the line>" and the output
#   start_swtpm                      # swtpm in $work/tpm ($ssrp_sim): its env file
#                                    # sourced, SSRP_TEST_TBS_SOCKET for tbs.dll
#   start_cloud                      # the simulated cloud in $work/cloud: its env
#                                    # file sourced, $ct (curl's --connect-to),
#                                    # $work/adm (the admin header)
#   tenant_state                     # the tenant as /admin/state has it, into
#                                    # $work/state.json
#   escrowed_keys                    # the device's keys there: "ID PASSWORD,..."
#   wine_volume_key <STATE           # the recovery password of a wine-volume state
#                                    # file: "ID PASSWORD", the id in lower case
#   stop_linux_parts                 # the cloud and swtpm stopped; $work and
#                                    # ${dir:-} removed unless SSRP_TEST_KEEP is set

wine=${SSRP_WINE:-/usr/lib/wine/wine64}
triple=x86_64-w64-mingw32
failures=0

pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
die() {
	printf 'FAIL %s\n' "$*"
	exit 1
}
finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed"
		exit 1
	fi
	echo "all checks passed"
}

need_mingw() {
	command -v "$triple-gcc" >/dev/null 2>&1 || die "$triple-gcc is not installed (scripts/bootstrap)"
}
need_wine() { [ -x "$wine" ] || die "$wine is not installed (scripts/bootstrap: wine64)"; }
need_tree() {
	for f in "$@"; do
		[ -s "$build/$f" ] || die "$build/$f is missing: mingw_windows_build builds the Windows tree"
	done
}

absolute_dirs() {
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	[ -z "${build:-}" ] || build=$(cd "$build" && pwd)
}
windows_deps() {
	deps=$("$src/scripts/windows-deps" 2>"$out/windows-deps.log") ||
		{ cat "$out/windows-deps.log"; die "scripts/windows-deps could not build the Windows dependencies"; }
	pass "Windows dependencies in $deps"
}

wine_session() { # wine_session PREFIX [OVERRIDE]
	export WINEPREFIX="$1" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=${2:+;$2}"
	trap wine_lib_cleanup EXIT
}
wine_lib_cleanup() {
	command -v test_cleanup >/dev/null 2>&1 && test_cleanup
	"$(dirname "$wine")/wineserver" -k >/dev/null 2>&1
}

# Windows loads a program's DLLs from its directory: the programs and
# their DLLs go into one.
make_app() {
	app="$out/app"
	rm -rf "$app" && mkdir -p "$app"
	for f in "$@"; do cp "$build/$f" "$app/"; done
}
build_exe() { # build_exe OUTPUT SOURCE ARGS...
	o=$1
	s=$2
	shift 2
	"$triple-gcc" -std=c11 -O2 -Wall -Wextra -Werror -o "$app/$o" "$src/tests/mingw/$s" "$@" \
		-static-libgcc >"$out/$o.log" 2>&1 || { cat "$out/$o.log"; die "$o did not build"; }
}
build_tbs_dll() { build_exe tbs.dll tbs_socket_dll.c -shared -lws2_32; }

run() { # run NAME PROGRAM ARGS...
	name=$1
	shift
	(cd "$app" && "$wine" "$@") >"$out/$name.crlf" 2>"$out/$name.errcrlf" </dev/null
	got=$?
	tr -d '\r' <"$out/$name.crlf" >"$out/$name.out"
	# Wine's own first-run notes go to stderr too: keep the program's lines.
	tr -d '\r' <"$out/$name.errcrlf" | grep -v '^wine: ' >"$out/$name.err"
}
show() { sed 's/^/  | /' "$out/$1.out" "$out/$1.err" | head -20; }
agent_reports() {
	first=$(grep '^first run:' "$out/$1.out")
	second=$(grep '^second run:' "$out/$1.out")
}
second_run_idle() {
	case $second in
	*"rc=ok state=compliant protection=on protectors=2 escrowed=1 volume_changes=0 http_requests=0 "*)
		pass "$2" ;;
	*) fail "$3 ${second:-none}"; show "$1" ;;
	esac
}

start_swtpm() {
	"$ssrp_sim" swtpm start --dir "$work/tpm" >"$work/swtpm.out" 2>&1 ||
		{ cat "$work/swtpm.out"; die "cannot start swtpm"; }
	. "$work/tpm/swtpm.env"
	export SSRP_TEST_TBS_SOCKET="127.0.0.1:$SSRP_SWTPM_PORT"
}
start_cloud() {
	env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" 2>"$work/cloud.err") ||
		{ cat "$work/cloud.err"; die "cannot start the simulated cloud"; }
	. "$env_file"
	ct=""
	for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
	(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
}
tenant_state() {
	# shellcheck disable=SC2086 # the entries hold no spaces
	curl -sS $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/state.json" \
		"https://graph.microsoft.com/admin/state" || die "cannot read the simulated tenant"
}
escrowed_keys() {
	jq -r --arg d "$SSRP_SIM_DEVICE_ID" \
		'[.recoveryKeys[] | select(.deviceId==$d) | "\(.id) \(.key)"] | join(",")' "$work/state.json"
}
wine_volume_key() { tr -d '\r' | sed -n 's/^recovery {\([^}]*\)} \(.*\)$/\1 \2/p' | tr 'A-Z' 'a-z'; }
stop_linux_parts() {
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work${dir:+ $dir}"
	else rm -rf "$work" ${dir:+"$dir"}; fi
}
