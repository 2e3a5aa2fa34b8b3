#!/bin/sh
# build_unit_wine.sh WINDOWS_TREE WINEPREFIX
# Builds the Windows unit test programs (target windows_unit_tests of
# tests/windows_unit.cmake) in the Windows tree mingw_windows_build made
# (no second configuration), then makes the Wine prefix they all run in, so
# that the tests, run in parallel, do not each create it.
set -u
tree=$1
prefix=$2
wine=${SSRP_WINE:-/usr/lib/wine/wine64}
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
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
"$wine" wineboot --init >/dev/null 2>&1 </dev/null
"$(dirname "$wine")/wineserver" -w
[ -f "$prefix/system.reg" ] || { echo "FAIL wineboot made no prefix in $prefix"; exit 1; }
echo "ok   Wine prefix $prefix ready in $(($(date +%s) - start)) s"
