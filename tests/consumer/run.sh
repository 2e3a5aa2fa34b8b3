#!/bin/sh
# Install the build into a scratch prefix, build the consumer against it
# three ways, and run each: the installed headers, libraries, CMake package
# and pkg-config file must all work from outside the source tree.
set -eu
build=$1
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n 1)
test -e "$libdir/libssrp.a"
soname=$(objdump -p "$libdir/libssrp.so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libssrp.so.0" ] || { echo "SONAME is '$soname', expected libssrp.so.0"; exit 1; }
PKG_CONFIG_PATH="$libdir/pkgconfig" cmake -S "$src" -B "$work/build" \
	-DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/build/consumer_cmake_shared"
"$work/build/consumer_cmake_static"
LD_LIBRARY_PATH="$libdir" "$work/build/consumer_pkgconfig"
# The static consumer must not need libssrp.so; the shared ones must.
! objdump -p "$work/build/consumer_cmake_static" | grep -q 'NEEDED.*libssrp'
objdump -p "$work/build/consumer_pkgconfig" | grep -q 'NEEDED.*libssrp.so.0'
echo "consumer built and ran against the installed ssrp (static, shared, pkg-config)"
