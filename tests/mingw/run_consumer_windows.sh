#!/bin/sh
# run_consumer_windows.sh SOURCE_DIR WINDOWS_BUILD OUT_DIR
# The installed Windows tree, as a project outside this one sees it:
# cmake --install puts the tree mingw_windows_build made into a scratch
# prefix (libssrp.dll, its import library, libssrp.a, the headers, the
# CMake package ssrp and ssrp.pc, libcurl's and cJSON's DLLs and import
# libraries); tests/consumer (the Linux consumer project, unchanged) is
# configured with a plain mingw-w64 toolchain file against that prefix
# alone, through find_package(ssrp) (static and shared) and through
# pkg-config (PKG_CONFIG_LIBDIR at the prefix), and built. The shared
# consumers must import libssrp.dll, the static one must not; each runs
# under Wine with the prefix's bin/ on WINEPATH. Every missing part is a
# failure, not a skip.
set -u
. "$(dirname "$0")/wine_lib.sh"
src=$1
build=$2
out=$3

need_mingw
command -v pkg-config >/dev/null 2>&1 || die "pkg-config is not installed (scripts/bootstrap)"
need_wine
need_tree libssrp.dll
absolute_dirs
prefix="$out/prefix"
rm -rf "$prefix" "$out/consumer"

cmake --install "$build" --prefix "$prefix" >"$out/install.log" 2>&1 ||
	{ tail -n 20 "$out/install.log"; die "cmake --install of the Windows tree failed"; }
missing=""
for f in bin/libssrp.dll bin/libcurl.dll bin/libcjson.dll bin/ssrp.exe lib/libssrp.dll.a lib/libssrp.a \
	lib/libcurl.dll.a lib/libcjson.dll.a include/ssrp/tpm.h lib/cmake/ssrp/ssrpConfig.cmake \
	lib/cmake/ssrp/ssrpConfigVersion.cmake lib/cmake/ssrp/ssrpTargets.cmake lib/pkgconfig/ssrp.pc; do
	[ -s "$prefix/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass "installed: libssrp.dll, libssrp.dll.a, libssrp.a, headers, the CMake package, ssrp.pc" ||
	fail "the installed prefix lacks$missing"
[ ! -e "$prefix/include/ssrp/sim.h" ] || fail "the simulator's header was installed"
# libssrp.a's own dependencies travel with it: the package names files in
# the prefix, never this machine's dependency cache or mingw root.
static_missing=""
for l in libtss2-esys libtss2-tctildr libtss2-sys libtss2-mu libtss2-rc libcrypto libz; do
	[ -s "$prefix/lib/ssrp/$l.a" ] || static_missing="$static_missing $l.a"
done
[ -z "$static_missing" ] &&
	pass "installed: tpm2-tss's, libcrypto's and zlib's static libraries (lib/ssrp/)" ||
	fail "lib/ssrp/ lacks$static_missing"
if grep -l -e "${SSRP_DEPS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssrp}" -e "/usr/$triple/lib" \
	"$prefix"/lib/cmake/ssrp/*.cmake "$prefix/lib/pkgconfig/ssrp.pc" >"$out/abs.txt" 2>/dev/null; then
	fail "the package names files outside the prefix: $(tr '\n' ' ' <"$out/abs.txt")"
else pass "the package names no file outside the prefix"; fi

# What an integrator writes for mingw-w64: nothing of this project's, the
# Windows libraries found in the system's mingw root and in the prefix.
cat >"$out/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER $triple-gcc)
set(CMAKE_RC_COMPILER $triple-windres)
set(CMAKE_FIND_ROOT_PATH /usr/$triple "$prefix")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF
cbuild="$out/consumer"
PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" PKG_CONFIG_PATH="" PKG_CONFIG_SYSROOT_DIR="" \
	cmake -S "$src/tests/consumer" -B "$cbuild" -DCMAKE_TOOLCHAIN_FILE="$out/toolchain.cmake" \
	-DCMAKE_PREFIX_PATH="$prefix" >"$out/configure.log" 2>&1 ||
	{ tail -n 30 "$out/configure.log"; die "tests/consumer did not configure against the prefix"; }
found=$(sed -n 's/^ssrp_DIR:PATH=//p' "$cbuild/CMakeCache.txt")
[ "$found" = "$prefix/lib/cmake/ssrp" ] && pass "find_package(ssrp) took $found" ||
	fail "find_package(ssrp) took \"$found\", not the prefix's package"
pc=$(PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" PKG_CONFIG_PATH="" pkg-config --libs --cflags ssrp)
case $pc in
*"-I$prefix/lib/pkgconfig/../../include"*"-lssrp"*|*"-I$prefix/include"*"-lssrp"*)
	pass "pkg-config ssrp: $pc" ;;
*) fail "pkg-config ssrp gives \"$pc\"" ;;
esac
cmake --build "$cbuild" >"$out/build.log" 2>&1 ||
	{ grep -m5 -A5 -i error "$out/build.log" || tail -n 30 "$out/build.log"; die "tests/consumer did not build against the prefix"; }

imports() { "$triple-objdump" -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort | tr '\n' ' '; }
for exe in consumer_cmake_shared consumer_pkgconfig; do
	i=$(imports "$cbuild/$exe.exe")
	case " $i" in
	*" libssrp.dll "*) pass "$exe.exe imports libssrp.dll ($i)" ;;
	*) fail "$exe.exe does not import libssrp.dll ($i)" ;;
	esac
done
i=$(imports "$cbuild/consumer_cmake_static.exe")
case " $i" in
*" libssrp.dll "*) fail "consumer_cmake_static.exe imports libssrp.dll ($i)" ;;
*" libcurl.dll "*) pass "consumer_cmake_static.exe has libssrp.a in it, libcurl.dll from the prefix ($i)" ;;
*) fail "consumer_cmake_static.exe imports neither libssrp.dll nor libcurl.dll ($i)" ;;
esac

wine_session "$out/wineprefix"
export WINEPATH="Z:$prefix/bin"
for exe in consumer_cmake_shared consumer_cmake_static consumer_pkgconfig; do
	# run from the build directory: the DLLs come from WINEPATH alone
	(cd "$cbuild" && "$wine" "./$exe.exe") </dev/null >"$out/$exe.out" 2>"$out/$exe.err"
	rc=$?
	res=$(tr -d '\r' <"$out/$exe.out")
	if [ "$rc" = 0 ] && [ -n "$res" ]; then
		pass "$exe.exe ran under Wine: $res"
	else
		fail "$exe.exe under Wine: exit $rc: $res $(grep -v '^wine: ' "$out/$exe.err" | head -3)"
	fi
done

finish
