#!/bin/sh
# run_certstore_wine.sh SOURCE_DIR WINDOWS_BUILD OUT_DIR SSRP_SIM
# The device certificate taken from the Windows certificate store at run
# time, under Wine, in the Windows tree mingw_windows_build made: the
# configuration names it as libcurl's Schannel backend does,
# device.cert_file "LocalMachine\MY\<SHA-1 thumbprint>" with no key file
# and no PFX anywhere. tests/mingw/certstore_import.c puts the simulator's
# device certificate and its persisted key into Wine's LocalMachine\MY
# (PFXImportCertStore, CertAddCertificateContextToStore); the agent is
# tests/mingw/agent_wine.c against libssrp.dll, with swtpm behind TPM Base
# Services as in run_agent_wine.sh.
#   - key in the machine key set (as on a joined device): the certificate
#     is found by thumbprint, but Wine opens no machine key set's key through
#     a certificate (see below): the agent says so naming the store, and the
#     test names the Wine functions;
#   - key in the user key set, certificate in LocalMachine\MY: the agent
#     escrows to DRS over mutual TLS with it; the tenant then holds the
#     volume's recovery password;
#   - a thumbprint the store does not hold, a malformed one, and a key file
#     next to a store path: refused with a sentence naming what.
# Every missing part is a failure, not a skip.
set -u
src=$1
build=$2
out=$3
ssrp_sim=$4
wine=${SSRP_WINE:-/usr/lib/wine/wine64}
triple=x86_64-w64-mingw32
failures=0
pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; failures=$((failures + 1)); }
die() {
	printf 'FAIL %s\n' "$*"
	exit 1
}

command -v "$triple-gcc" >/dev/null 2>&1 || die "$triple-gcc is not installed (scripts/bootstrap)"
[ -x "$wine" ] || die "$wine is not installed (scripts/bootstrap: wine64)"
command -v jq >/dev/null 2>&1 || die "jq is not installed (scripts/bootstrap)"
for f in libssrp.dll libssrp.dll.a libcurl.dll libcjson.dll; do
	[ -s "$build/$f" ] || die "$build/$f is missing: mingw_windows_build builds the Windows tree"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
build=$(cd "$build" && pwd)

# --- the programs, in one directory
app="$out/app"
rm -rf "$app" && mkdir -p "$app"
cp "$build/libssrp.dll" "$build/libcurl.dll" "$build/libcjson.dll" "$app/"
cc() { # cc OUTPUT SOURCE ARGS...
	o=$1
	s=$2
	shift 2
	"$triple-gcc" -std=c11 -O2 -Wall -Wextra -Werror -o "$app/$o" "$src/tests/mingw/$s" "$@" \
		-static-libgcc >"$out/$o.log" 2>&1 || { cat "$out/$o.log"; die "$o did not build"; }
}
cc tbs.dll tbs_socket_dll.c -shared -lws2_32
cc agent_wine.exe agent_wine.c -I"$src/include" "$build/libssrp.dll.a"
cc certstore_import.exe certstore_import.c -lcrypt32

# --- swtpm and the simulated cloud on loopback; a new Wine prefix (its
# LocalMachine\MY and key sets hold only what this test puts there)
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-mingw-certstore.XXXXXX")
export WINEPREFIX="$out/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;tbs=n"
rm -rf "$WINEPREFIX"
cleanup() {
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1
	"$(dirname "$wine")/wineserver" -k >/dev/null 2>&1
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work ${dir:-}"
	else rm -rf "$work" ${dir:+"$dir"}; fi
}
trap cleanup EXIT
"$ssrp_sim" swtpm start --dir "$work/tpm" >"$work/swtpm.out" 2>&1 ||
	{ cat "$work/swtpm.out"; die "cannot start swtpm"; }
. "$work/tpm/swtpm.env"
export SSRP_TEST_TBS_SOCKET="127.0.0.1:$SSRP_SWTPM_PORT"
env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" 2>"$work/cloud.err") ||
	{ cat "$work/cloud.err"; die "cannot start the simulated cloud"; }
. "$env_file"

run() { # run NAME PROGRAM ARGS...: exit status in $got, output in $out/NAME.out/.err (LF)
	name=$1
	shift
	(cd "$app" && "$wine" "$@") >"$out/$name.crlf" 2>"$out/$name.errcrlf" </dev/null
	got=$?
	tr -d '\r' <"$out/$name.crlf" >"$out/$name.out"
	tr -d '\r' <"$out/$name.errcrlf" | grep -v '^wine: ' >"$out/$name.err"
}
show() { sed 's/^/  | /' "$out/$1.out" "$out/$1.err" | head -20; }
reason() { sed -n 's/.* reason=//p' "$out/$1.out" | head -n 1; }

# The PFX stays in the cloud's directory on the Linux side: the agent's
# configuration names no file for the device.
pfx="${SSRP_SIM_DEVICE_CERT%.pem}.pfx"
[ -s "$pfx" ] || die "the simulator wrote no device PFX ($pfx)"
want_thumb=$(openssl x509 -in "$SSRP_SIM_DEVICE_CERT" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
dir=$(sh "$src/tests/mingw/private_dir.sh" "$out") || die "no private directory for the agent's files"
rm -rf "$dir" && mkdir -p "$dir" && chmod 755 "$dir"
cp "$SSRP_SIM_CA" "$dir/ca.pem"
config() { # config NAME CERT [KEY]: the agent's configuration in $dir/NAME.json
	jq -n --arg t "$SSRP_SIM_TENANT_ID" --arg dom "$SSRP_SIM_TENANT_DOMAIN" --arg ca "Z:$dir/ca.pem" \
		--arg cert "$2" --arg key "${3:-}" --arg id "$SSRP_SIM_DEVICE_ID" \
		--arg name "$SSRP_SIM_DEVICE_NAME" --arg ct "$SSRP_SIM_CONNECT_TO" '{tenant_id: $t,
		  tenant_domain: $dom, hosts: {login: "login.microsoftonline.com",
		  graph: "graph.microsoft.com", drs: "enterpriseregistration.windows.net"},
		  ca_file: $ca, connect_to: ($ct | split(" ")),
		  device: ({device_id: $id, cert_file: $cert, join_type: "azuread", display_name: $name}
		           + (if $key == "" then {} else {key_file: $key} end))}' >"$dir/$1.json" ||
		die "jq could not write the configuration"
	chmod 644 "$dir/$1.json"
}
agent() { # agent NAME CONFIG RUNS: a new volume and journal for each NAME
	printf 'protection off\nkey %s\n' "$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" >"$dir/$1.state"
	run "$1" ./agent_wine.exe "Z:$dir/$2.json" "wine-volume:Z:$dir/$1.state" tbs "Z:$dir/$1/agent.journal" "$3"
}
reg_has() { # reg_has ROOT\KEY: does Wine's registry hold the key?
	(cd "$app" && "$wine" reg query "$1") >/dev/null 2>&1
}

# --- 1. The key in the machine key set, as on a joined device.
run import_machine ./certstore_import.exe "Z:$pfx" machine
thumb=$(sed -n 's/^thumbprint //p' "$out/import_machine.out")
container=$(sed -n 's/^container //p' "$out/import_machine.out")
if [ "$got" = 0 ] && [ -n "$thumb" ] && [ "$thumb" = "$want_thumb" ] &&
	grep -qx 'keyset machine' "$out/import_machine.out"; then
	pass "the device certificate is in LocalMachine\\MY with its key in the machine key set (container $container), found again by thumbprint $thumb"
	grep '^wine-gap ' "$out/import_machine.out" | sed 's/^wine-gap /     Wine gap: /'
else
	fail "importing the device PFX into LocalMachine\\MY (machine key set): exit $got, thumbprint \"$thumb\" (openssl: $want_thumb)"
	show import_machine
	exit 1
fi
store_path="LocalMachine\\MY\\$thumb"
config store "$store_path"
agent machine_key store 1
# Wine 8 opens a certificate's key only from this user's key sets:
# crypt32's CryptAcquireCertificatePrivateKey (cert.c,
# CRYPT_AcquirePrivateKeyFromProvInfo) calls CryptAcquireContextW without
# the CRYPT_MACHINE_KEYSET of CRYPT_KEY_PROV_INFO.dwFlags, and Schannel
# (secur32 schannel.c, get_key_blob) reads the key from
# HKEY_CURRENT_USER\Software\Wine\Crypto\RSA\<container>, while rsaenh keeps a
# machine key set under HKEY_LOCAL_MACHINE. The agent's identity check
# opens the key as Schannel will, so it stops there, naming the store.
machine_key="HKLM\\Software\\Wine\\Crypto\\RSA\\$container"
user_key="HKCU\\Software\\Wine\\Crypto\\RSA\\$container"
first=$(grep '^first run:' "$out/machine_key.out")
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*)
	pass "Wine presented a machine key set's key: ${first#first run: }" ;;
*)
	if grep -q '^key-acquired no' "$out/import_machine.out" && reg_has "$machine_key" &&
		! reg_has "$user_key" &&
		case $(reason machine_key) in *"private key of the certificate $thumb in the store LocalMachine\\MY cannot be opened"*) true ;; *) false ;; esac; then
		pass "Wine gap: a machine key set's key cannot be opened through its certificate (crypt32 CryptAcquireCertificatePrivateKey drops CRYPT_MACHINE_KEYSET; secur32 Schannel get_key_blob reads only $user_key; the key is in $machine_key); the agent says: $(reason machine_key | cut -c1-220)"
	else
		fail "the certificate with a machine key set's key: ${first:-no report}"
		show machine_key
	fi ;;
esac

# --- 2. The same certificate with its key in this user's key set.
run import_user ./certstore_import.exe "Z:$pfx" user
if [ "$got" = 0 ] && grep -qx "thumbprint $thumb" "$out/import_user.out" &&
	grep -qx 'keyset user' "$out/import_user.out" && grep -qx 'key-acquired yes' "$out/import_user.out"; then
	pass "the device certificate in LocalMachine\\MY again, its key in this user's key set"
else
	fail "importing the device PFX with a user key set: exit $got"
	show import_user
fi
agent store_key store 2
first=$(grep '^first run:' "$out/store_key.out")
second=$(grep '^second run:' "$out/store_key.out")
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*)
	pass "device.cert_file \"$store_path\", no key file: escrowed over mutual TLS: ${first#first run: }" ;;
*) fail "device.cert_file \"$store_path\": ${first:-no report}"; show store_key ;;
esac
case $second in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 volume_changes=0 http_requests=0 "*)
	pass "the second run changes nothing" ;;
*) fail "second run: ${second:-none}"; show store_key ;;
esac
# DRS accepts no upload without the device's client certificate: the
# tenant holding the volume's password shows the handshake presented it.
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
# shellcheck disable=SC2086 # the entries hold no spaces
curl -sS $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/state.json" \
	"https://graph.microsoft.com/admin/state" || die "cannot read the simulated tenant"
escrowed=$(jq -r --arg d "$SSRP_SIM_DEVICE_ID" \
	'[.recoveryKeys[] | select(.deviceId==$d) | "\(.id) \(.key)"] | join(",")' "$work/state.json")
on_volume=$(tr -d '\r' <"$dir/store_key.state" | sed -n 's/^recovery {\([^}]*\)} \(.*\)$/\1 \2/p' | tr 'A-Z' 'a-z')
case ",$escrowed," in
*",$on_volume,"*)
	[ -n "$on_volume" ] &&
		pass "the tenant holds the volume's recovery password under its protector id (${on_volume%% *}), uploaded with the store's certificate" ||
		fail "the volume has no recovery password" ;;
*) fail "the tenant does not hold the volume's password (it holds $(echo "$escrowed" | sed 's/ [0-9-]*/ <password>/g'))" ;;
esac

# --- 3. What is refused, by name.
wrong=$(echo "$thumb" | sed 's/.$//')$(echo "$thumb" | grep -q '0$' && echo 1 || echo 0)
config wrong "LocalMachine\\MY\\$wrong"
agent wrong wrong 1
case $(reason wrong) in
*"LocalMachine\\MY holds no certificate with thumbprint $wrong"*)
	pass "a thumbprint the store does not hold: $(reason wrong)" ;;
*) fail "a thumbprint the store does not hold: $(reason wrong)"; show wrong ;;
esac
config short "LocalMachine\\MY\\${thumb%????}"
agent short short 1
case $(reason short) in
*"must be the certificate's SHA-1 hash in 40 hex digits"*)
	pass "a short thumbprint: $(reason short)" ;;
*) fail "a short thumbprint: $(reason short)"; show short ;;
esac
config with_key "$store_path" "Z:$dir/ca.pem"
agent with_key with_key 1
case $(reason with_key) in
*"leave device.key_file out"*) pass "a key file next to a store path: $(reason with_key)" ;;
*) fail "a key file next to a store path: $(reason with_key)"; show with_key ;;
esac

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
