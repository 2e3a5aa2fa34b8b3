#!/bin/sh
# build_tbs_probe.sh SOURCE_DIR OUT_DIR
# Cross-compile tests/mingw/tbs_probe.c for 64-bit Windows with mingw-w64,
# together with the portable TPM core, the tbs backend and its Windows
# transport, warnings as errors; then check that the result is a PE32+
# x86-64 executable. Exits 77 (ctest's skip) only when the cross-compiler
# is not installed.
set -eu
src=$1
out=$2
cc=${SSRP_MINGW_CC:-x86_64-w64-mingw32-gcc}
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "skipped: $cc is not installed"
	exit 77
fi

fail() {
	echo "mingw_tbs_backend: $*" >&2
	exit 1
}

mkdir -p "$out"
exe=$out/tbs_probe.exe
rm -f "$exe"
# __USE_MINGW_ANSI_STDIO: C99 printf (%zu) in place of MSVCRT's.
"$cc" -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-missing-field-initializers -D__USE_MINGW_ANSI_STDIO=1 \
	-I"$src/include" -I"$src" -o "$exe" \
	"$src/hal/error.c" "$src/hal/mem.c" "$src/hal/clock.c" "$src/hal/crypto_bcrypt.c" \
	"$src/tpm/tpm_core.c" "$src/tpm/tpm_rc.c" "$src/tpm/tpm_spec.c" "$src/tpm/tpm_builtin_windows.c" "$src/hal/registry.c" "$src/hal/struct_version.c" "$src/tpm/tpm_info.c" \
	"$src/tpm/blob.c" "$src/tpm/tpm2_marshal.c" "$src/tpm/backend_tbs.c" \
	"$src/tpm/tbs_transport_windows.c" \
	"$src/tests/mingw/tbs_probe.c" -ltbs -lbcrypt || fail "the Windows build failed"
sh "$(dirname "$0")/check_pe64.sh" "$exe"
