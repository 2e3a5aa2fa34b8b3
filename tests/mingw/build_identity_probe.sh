#!/bin/sh
# build_identity_probe.sh SOURCE_DIR OUT_DIR
# Cross-compile tests/mingw/identity_probe.c for 64-bit Windows with
# mingw-w64, together with the Windows identity backend
# (hal/identity_windows.c), SCCM's user-device affinity over WMI
# (hal/uda_wmi.c) and the portable part (hal/identity_config.c), warnings as
# errors; then check that the result is a PE32+ x86-64 executable whose
# import table does not name NetGetAadJoinInformation (loaded at run time
# from System32: mingw-w64 lacks it, and Windows before 10 lacks it too)
# but does take crypt32, ole32 and oleaut32. Exits 77 (ctest's skip) only
# when the cross-compiler is not installed.
set -eu
src=$1
out=$2
cc=${SSRP_MINGW_CC:-x86_64-w64-mingw32-gcc}
objdump=${SSRP_MINGW_OBJDUMP:-${cc%gcc}objdump}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "skipped: $cc is not installed"
	exit 77
fi

fail() {
	echo "mingw_identity: $*" >&2
	exit 1
}
command -v "$objdump" >/dev/null 2>&1 || fail "$objdump is missing: it checks the imports"

mkdir -p "$out"
out=$(cd "$out" && pwd) # the build below runs from $src
exe=$out/identity_probe.exe
rm -f "$exe"
# __USE_MINGW_ANSI_STDIO: C99 printf (%zu) in place of MSVCRT's.
# -lwbemuuid: CLSID_WbemLocator and IID_IWbemLocator. No -lnetapi32.
(cd "$src" && "$cc" -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-missing-field-initializers -D__USE_MINGW_ANSI_STDIO=1 \
	-Iinclude -I. -o "$exe" \
	hal/error.c hal/mem.c hal/registry.c hal/guid.c hal/hex.c hal/identity_config.c hal/identity_windows.c hal/uda_wmi.c hal/uda_config.c hal/wmi_windows.c \
	hal/cert_store_path.c hal/win32_text.c hal/platform_core.c hal/platform_builtin_windows.c hal/struct_version.c hal/random_bcrypt.c \
	tests/mingw/identity_probe.c -lole32 -loleaut32 -lwbemuuid -lcrypt32 -lbcrypt) ||
	fail "the Windows build failed"
sh "$(dirname "$0")/check_pe64.sh" "$exe"

imports=$out/identity_probe.imports
"$objdump" -p "$exe" >"$imports" || fail "$objdump could not read $exe"
# The run-time load: the name is a string in the program, not an import.
if grep -q "NetGetAadJoinInformation\|NetFreeAadJoinInformation" "$imports"; then
	fail "the import table names NetGetAadJoinInformation: it must be loaded at run time"
fi
if grep -qi "DLL Name: netapi32.dll" "$imports"; then
	fail "the program imports netapi32.dll statically; it must load it at run time"
fi
grep -q "NetGetAadJoinInformation" "$exe" ||
	fail "the program does not name NetGetAadJoinInformation for GetProcAddress"
for dll in crypt32.dll ole32.dll oleaut32.dll; do
	grep -qi "DLL Name: $dll" "$imports" || fail "$exe does not import $dll"
done
for fn in LoadLibraryExW CertOpenStore CertGetCertificateContextProperty CoCreateInstance \
	SysAllocString; do
	grep -q "[[:space:]]$fn\$" "$imports" || fail "$exe does not import $fn"
done
echo "identity_probe.exe: NetGetAadJoinInformation loaded at run time; crypt32, ole32, oleaut32 and wbemuuid linked"
