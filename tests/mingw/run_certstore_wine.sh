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
. "$(dirname "$0")/wine_lib.sh"
src=$1
build=$2
out=$3
ssrp_sim=$4

need_mingw
need_wine
command -v jq >/dev/null 2>&1 || die "jq is not installed (scripts/bootstrap)"
need_tree libssrp.dll libssrp.dll.a libcurl.dll libcjson.dll
absolute_dirs

# --- the programs, in one directory
make_app libssrp.dll libcurl.dll libcjson.dll
build_tbs_dll
build_exe agent_wine.exe agent_wine.c -I"$src/include" "$build/libssrp.dll.a"
build_exe certstore_import.exe certstore_import.c -lcrypt32

# --- swtpm and the simulated cloud on loopback; a new Wine prefix (its
# LocalMachine\MY and key sets hold only what this test puts there)
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-mingw-certstore.XXXXXX")
test_cleanup() { stop_linux_parts; }
wine_session "$out/wineprefix" tbs=n
rm -rf "$WINEPREFIX"
start_swtpm
start_cloud

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
agent_reports store_key
case $first in
*"rc=ok state=compliant protection=on protectors=2 escrowed=1 "*)
	pass "device.cert_file \"$store_path\", no key file: escrowed over mutual TLS: ${first#first run: }" ;;
*) fail "device.cert_file \"$store_path\": ${first:-no report}"; show store_key ;;
esac
second_run_idle store_key "the second run changes nothing" \
	"second run:"
# DRS accepts no upload without the device's client certificate: the
# tenant holding the volume's password shows the handshake presented it.
tenant_state
escrowed=$(escrowed_keys)
on_volume=$(wine_volume_key <"$dir/store_key.state")
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

finish
