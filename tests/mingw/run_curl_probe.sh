#!/bin/sh
# run_curl_probe.sh SOURCE_DIR OUT_DIR SSRP_SIM
# The Windows dependencies for real: builds them (scripts/windows-deps,
# cached), builds tests/mingw/curl_probe.c against them with
# cmake/toolchain-mingw64.cmake, checks that the program and libcurl.dll
# import only Windows system DLLs besides libcurl and cJSON, and runs it
# under Wine (Schannel over Wine's crypt32) against the simulated cloud:
#   - Graph without a token: 401 over TLS with the simulator's CA, and its
#     JSON error parsed by cJSON (InvalidAuthenticationToken);
#   - the same with a CA the server does not chain to: curl error 60;
#   - DRS key list with the device's PFX (RSA-2048, PBE-SHA1-3DES, SHA-1
#     MAC): 200 and the one key uploaded beforehand;
#   - DRS key list without a client certificate: 401, no device certificate.
# Every missing part (cross-compiler, Wine, the mirror for the sources) is a
# failure, not a skip: the bootstrap step installs them.
set -u
. "$(dirname "$0")/wine_lib.sh"
src=$1
out=$2
ssrp_sim=$3

need_mingw
need_wine
absolute_dirs

# --- the dependencies and the probe
windows_deps
cmake -S "$src/tests/mingw/curl_probe" -B "$out/curl_probe" \
	-DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchain-mingw64.cmake" -DSSRP_MINGW_DEPS="$deps" \
	-DCMAKE_BUILD_TYPE=Release >"$out/curl_probe.log" 2>&1 &&
	cmake --build "$out/curl_probe" >>"$out/curl_probe.log" 2>&1 ||
	{ tail -n 40 "$out/curl_probe.log"; die "curl_probe.exe did not build"; }
exe="$out/curl_probe/curl_probe.exe"
sh "$src/tests/mingw/check_pe64.sh" "$exe" || die "curl_probe.exe is not a PE32+ x86-64 program"
cp "$deps/bin/libcurl.dll" "$deps/bin/libcjson.dll" "$out/curl_probe/" || die "no DLLs in $deps/bin"

# Only Windows system DLLs below the program, libcurl and cJSON.
system_dlls="kernel32.dll msvcrt.dll advapi32.dll bcrypt.dll crypt32.dll ws2_32.dll"
for f in curl_probe.exe libcurl.dll libcjson.dll; do
	imports=$("$triple-objdump" -p "$out/curl_probe/$f" | sed -n 's/^[[:space:]]*DLL Name: //p' |
		tr 'A-Z' 'a-z')
	other=""
	for dll in $imports; do
		case " $system_dlls libcurl.dll libcjson.dll " in *" $dll "*) ;; *) other="$other $dll" ;; esac
	done
	if [ -z "$imports" ] || [ -n "$other" ]; then
		fail "$f imports$other${imports:+ }(besides Windows system DLLs)${imports:- nothing}"
	else
		pass "$f imports only $(echo $imports)"
	fi
done
"$triple-objdump" -p "$out/curl_probe/libcurl.dll" | grep -qi "DLL Name: crypt32.dll" ||
	fail "libcurl.dll does not import crypt32.dll (Schannel's certificate store)"

# --- the simulated cloud
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-mingw-curl.XXXXXX")
test_cleanup() { stop_linux_parts; }
wine_session "$out/wineprefix"
start_cloud
pfx="${SSRP_SIM_DEVICE_CERT%.pem}.pfx"
[ -s "$pfx" ] || die "the simulator wrote no device PFX ($pfx)"
drs="https://enterpriseregistration.windows.net/manage/common/bitlocker/$SSRP_SIM_DEVICE_ID?api-version=1.2"

# One key escrowed for the device (with Linux curl and the PEM files), so
# the Windows program's key list has something to parse.
kid=3b8a4f06-6c7e-4d55-9a3e-2f1b0c9d8e71
(umask 077 && printf '{"key":"%s","kid":"%s","vol":"OSV"}' \
	111111-111111-111111-111111-111111-111111-111111-111111 "$kid" >"$work/upload.json")
st=$(curl -sS $ct --cacert "$SSRP_SIM_CA" --cert "$SSRP_SIM_DEVICE_CERT" --key "$SSRP_SIM_DEVICE_KEY" \
	-H 'Content-Type: application/json' --data-binary @"$work/upload.json" -o "$work/upload.out" \
	-w '%{http_code}' \
	"https://enterpriseregistration.windows.net/manage/$SSRP_SIM_TENANT_ID/device/$SSRP_SIM_DEVICE_ID?api-version=1.0")
[ "$st" = 200 ] || { cat "$work/upload.out"; die "escrowing a key with Linux curl answered $st"; }

winpath() { echo "Z:$1"; }
expect() { # expect NAME WANT_STATUS GOT_STATUS OUTPUT_LINE...
	name=$1 want=$2 got=$3
	shift 3
	ok=1
	[ "$got" = "$want" ] || ok=0
	for line in "$@"; do grep -qxF -- "$line" "$work/$name.out" || ok=0; done
	if [ $ok = 1 ]; then pass "$name: exit $got; $*"; else
		fail "$name: exit $got (expected $want), expected lines: $*"
		sed 's/^/  | /' "$work/$name.out" "$work/$name.err" | head -20
	fi
}
run() { # run NAME WANT OUTPUT_LINES URL CA PFX|-
	name=$1 want=$2 lines=$3
	shift 3
	# A Windows console program ends its lines with CR LF.
	(cd "$out/curl_probe" && "$wine" ./curl_probe.exe "$@") >"$work/$name.crlf" 2>"$work/$name.err" </dev/null
	got=$?
	tr -d '\r' <"$work/$name.crlf" >"$work/$name.out"
	# shellcheck disable=SC2086 # one expected line per word
	IFS='|'; set -- $lines; unset IFS
	expect "$name" "$want" "$got" "$@"
}
ca=$(winpath "$SSRP_SIM_CA")
wrong_ca=$(winpath "$SSRP_SIM_DIR/token-cert.pem")
graph=https://graph.microsoft.com/v1.0/devices
connect=$SSRP_SIM_CONNECT_TO
# shellcheck disable=SC2086 # the entries hold no spaces
{
	run graph_no_token 0 "status=401|error.code=InvalidAuthenticationToken|tls=Schannel" \
		"$graph" "$ca" - $connect
	run graph_wrong_ca 2 "tls=Schannel" "$graph" "$wrong_ca" - $connect
	run drs_keys_with_pfx 0 "status=200|keys=1" "$drs" "$ca" "$(winpath "$pfx")" $connect
	run drs_keys_without_cert 0 "status=401|code=unauthorized_client subcode=error_missing_device_certificate" \
		"$drs" "$ca" - $connect
}
grep -q '^curl error 60:' "$work/graph_wrong_ca.out" && pass "graph_wrong_ca: curl error 60 (peer verification)" ||
	{ fail "graph_wrong_ca: no curl error 60"; sed 's/^/  | /' "$work/graph_wrong_ca.out"; }

finish
