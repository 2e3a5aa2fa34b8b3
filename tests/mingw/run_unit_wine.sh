#!/bin/sh
# run_unit_wine.sh PROGRAM.exe WINEPREFIX
# Runs one Windows unit test program (tests/windows_unit.cmake) under Wine
# and exits with its status, showing cmocka's report without carriage
# returns. The prefix and its running Wine session are shared by the tests
# (build_unit_wine.sh starts the session, and ends it after them).
set -u
exe=$1
wine=${SSRP_WINE:-/usr/lib/wine/wine64}
[ -f "$exe" ] || { echo "FAIL $exe was not built (mingw_windows_unit_build builds it)"; exit 1; }
export WINEPREFIX="$2" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cd "$(dirname "$exe")" || exit 1
log=$(mktemp) || exit 1
"$wine" "./$(basename "$exe")" </dev/null >"$log" 2>&1
status=$?
tr -d '\r' <"$log"
if [ "$status" -ne 0 ] && [ ! -s "$log" ]; then
	# Nothing ran: say why (the loader's errors, e.g. a DLL not found).
	WINEDEBUG=err+module "$wine" "./$(basename "$exe")" </dev/null 2>&1 | tr -d '\r' | grep ':err:' | head -5
fi
rm -f "$log"
[ "$status" -eq 0 ] || echo "FAIL $(basename "$exe") exited with status $status"
exit "$status"
