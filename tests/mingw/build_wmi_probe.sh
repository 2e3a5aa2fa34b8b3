#!/bin/sh
# build_wmi_probe.sh SOURCE_DIR OUT_DIR
# Cross-compile tests/mingw/wmi_probe.c for 64-bit Windows with mingw-w64,
# together with the volume core, the wmi backend (bitlocker/backend_wmi.c)
# and its HRESULT table, warnings as errors; then check that the result is a
# PE32+ x86-64 executable. Exits 77 (ctest's skip) only when the
# cross-compiler is not installed.
set -eu
src=$1
out=$2
cc=${SSRP_MINGW_CC:-x86_64-w64-mingw32-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "skipped: $cc is not installed"
	exit 77
fi

fail() {
	echo "mingw_wmi_backend: $*" >&2
	exit 1
}

# The volume core and what it calls (recovery passwords, GUIDs); the
# backend itself needs only the error and memory helpers of hal/. The
# core's built-in list is the probe's own (the wmi backend alone): the
# Windows build's also holds the on-disk codec, which needs OpenSSL.
core="bitlocker/volume_core.c hal/registry.c hal/struct_version.c hal/secmem_windows.c hal/guid.c hal/hex.c bitlocker/recovery_password.c hal/random_bcrypt.c"
for f in $core; do
	[ -f "$src/$f" ] || fail "$f is missing: the probe opens the volume through the core"
done

mkdir -p "$out"
out=$(cd "$out" && pwd) # the build below runs from $src
exe=$out/wmi_probe.exe
rm -f "$exe"
builtin=$out/wmi_probe_builtin.c
cat >"$builtin" <<'EOF'
#include "bitlocker/volume_backends.h"
const ssrp_volume_backend *const ssrp_volume_builtin[] = {&ssrp_volume_backend_wmi, NULL};
const char SSRP_VOLUME_SPEC_HINT[] = "wmi:C:";
EOF
# __USE_MINGW_ANSI_STDIO: C99 printf (%zu) in place of MSVCRT's.
# -lwbemuuid: CLSID_WbemLocator and IID_IWbemLocator.
# shellcheck disable=SC2086
(cd "$src" && "$cc" -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers -D__USE_MINGW_ANSI_STDIO=1 \
	-Iinclude -I. -o "$exe" \
	hal/error.c hal/mem.c $core bitlocker/fve_errors.c bitlocker/backend_wmi.c hal/wmi_windows.c \
	"$builtin" tests/mingw/wmi_probe.c -lole32 -loleaut32 -lwbemuuid -lbcrypt) ||
	fail "the Windows build failed"
sh "$(dirname "$0")/check_pe64.sh" "$exe"
