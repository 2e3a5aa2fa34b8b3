#!/bin/sh
# build_unit_wine.sh WINDOWS_TREE WINEPREFIX
# Builds the Windows unit test programs (target windows_unit_tests of
# tests/windows_unit.cmake) in the Windows tree mingw_windows_build made
# (no second configuration), makes the Wine prefix they all run in and
# keeps its wineserver and Wine's services running for them: a program then
# starts in about a second instead of the several a new Wine session takes.
# build_unit_wine.sh --stop WINEPREFIX ends that session (the fixture's
# cleanup); left alone, it ends 300 s after the last program.
set -u
wine=${SSRP_WINE:-/usr/lib/wine/wine64}
wineserver="$(dirname "$wine")/wineserver"
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ "$1" = --stop ]; then
	WINEPREFIX=$2 "$wineserver" -k >/dev/null 2>&1
	exit 0
fi
tree=$1
prefix=$2
[ -f "$tree/CMakeCache.txt" ] || { echo "FAIL no Windows tree in $tree (mingw_windows_build makes it)"; exit 1; }
[ -x "$wine" ] || { echo "FAIL $wine is not installed (scripts/bootstrap: wine64)"; exit 1; }
start=$(date +%s)
cmake --build "$tree" --target windows_unit_tests -j2 >"$tree/unit_build.log" 2>&1 || {
	grep -B2 -A6 -m5 -i 'error' "$tree/unit_build.log" || tail -n 40 "$tree/unit_build.log"
	echo "FAIL the Windows unit tests did not build (log: $tree/unit_build.log)"
	exit 1
}
echo "ok   Windows unit tests built in $(($(date +%s) - start)) s: $(cd "$tree/unit" && echo *.exe)"
start=$(date +%s)
mkdir -p "$prefix"
export WINEPREFIX="$prefix"
"$wineserver" -k >/dev/null 2>&1
"$wine" wineboot --init >/dev/null 2>&1 </dev/null
"$wineserver" -w
[ -f "$prefix/system.reg" ] || { echo "FAIL wineboot made no prefix in $prefix"; exit 1; }
# Started with no terminal or pipe of ctest's: the session outlives this
# script and must not hold its output open.
"$wineserver" -p 300 >/dev/null 2>&1 </dev/null
"$wine" cmd /c exit 0 >/dev/null 2>&1 </dev/null
echo "ok   Wine prefix $prefix ready in $(($(date +%s) - start)) s"
