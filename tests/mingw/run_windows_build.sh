#!/bin/sh
# run_windows_build.sh SOURCE_DIR OUT_DIR
# The Windows configuration of the project, for real: scripts/build-windows
# configures a build tree with cmake/toolchain-mingw64.cmake against the
# dependencies scripts/windows-deps builds (cached) and builds libssrp.dll
# (with its import library), ssrp.exe and ssrp.msi; this checks that they
# are PE32+ x86-64 and import only Windows system DLLs besides libcurl.dll
# and libcjson.dll, and runs the command under Wine (ssrp.msi is checked by
# run_msi.sh):
#   - ssrp.exe version: the project's version;
#   - ssrp.exe help: the usage, exit 0;
#   - ssrp.exe tpm info and tpm seal: through Wine's tbs.dll, which has no
#     TPM behind it: exit 3 (no device), one sentence on standard error
#     saying so, and no blob written;
#   - hal/'s Windows code through tests/mingw/hal_probe.c (linked to
#     libssrp.a): RS256 over CNG with a PKCS#8 and a PKCS#1 PEM key gives
#     the signature OpenSSL gives (RSASSA-PKCS1-v1_5 is deterministic) and
#     the certificate's SHA-1 thumbprint; an atomic replacement reads back;
#     the run lock excludes a second holder until released;
#   - an audit line to "syslog": the Event Log, as far as Wine shows it;
#   - the ACL checks (ssrp_fs_check_trusted) and the private directory
#     ssrp_fs_mkdirs(0700) makes, as far as Wine keeps ACLs (see there).
# Every missing part (cross-compiler, Wine, the mirror for the sources) is a
# failure, not a skip: the bootstrap step installs them.
set -u
. "$(dirname "$0")/wine_lib.sh"
src=$1
out=$2

need_mingw
need_wine
absolute_dirs

# --- the build
windows_deps
build="$out/build"
"$src/scripts/build-windows" "$build" >"$out/build.log" 2>&1 ||
	{ grep -B2 -A6 -m5 -i 'error' "$out/build.log" || tail -n 40 "$out/build.log"; die "scripts/build-windows failed"; }
for f in libssrp.dll ssrp.exe; do
	sh "$src/tests/mingw/check_pe64.sh" "$build/$f" >/dev/null && pass "$f is PE32+ x86-64" ||
		fail "$f is not a PE32+ x86-64 program"
done
# The import library names the DLL (mingw-w64 writes one for ssrp.exe too:
# it must not take libssrp.dll.a's name).
[ -s "$build/libssrp.dll.a" ] && strings "$build/libssrp.dll.a" | grep -qx libssrp.dll &&
	! strings "$build/libssrp.dll.a" | grep -qx ssrp.exe &&
	pass "libssrp.dll.a (import library) built, for libssrp.dll" ||
	fail "no import library libssrp.dll.a for libssrp.dll: $(strings "$build/libssrp.dll.a" 2>/dev/null | grep -x '[a-z]*ssrp\.[a-z]*' | tr '\n' ' ')"

# Only Windows system DLLs below libssrp and the command, libcurl and cJSON
# (a GCC runtime DLL, libwinpthread, an OpenSSL or zlib DLL would fail).
system_dlls="kernel32.dll msvcrt.dll advapi32.dll bcrypt.dll crypt32.dll ws2_32.dll ole32.dll"
system_dlls="$system_dlls oleaut32.dll tbs.dll netapi32.dll"
# user32.dll: the static libcrypto's fatal-error path (OPENSSL_showfatal's
# MessageBoxW when not a service) links it in.
system_dlls="$system_dlls user32.dll"
for f in libssrp.dll ssrp.exe; do
	imports=$("$triple-objdump" -p "$build/$f" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z')
	other=""
	for dll in $imports; do
		case " $system_dlls libcurl.dll libcjson.dll " in *" $dll "*) ;; *) other="$other $dll" ;; esac
	done
	if [ -z "$imports" ] || [ -n "$other" ]; then
		fail "$f imports$other (besides Windows system DLLs)${imports:+: }$(echo ${imports:-nothing})"
	else
		pass "$f imports only $(echo $imports)"
	fi
done
# The DLL's exports are libssrp's API: ssrp_version is there, hal/'s
# internals (ssrp_fs_* not declared in a public header, as ssrp/file.h's
# are) are not.
exports=$("$triple-objdump" -p "$build/libssrp.dll" | sed -n 's/^[[:space:]]*\[ *[0-9]*\] \(ssrp_[A-Za-z0-9_]*\)$/\1/p')
echo "$exports" | grep -qx ssrp_version && pass "libssrp.dll exports ssrp_version" ||
	fail "libssrp.dll does not export ssrp_version"
public_fs=$(cat "$src"/include/ssrp/*.h "$src"/include/ssrp/sys/*.h | grep -o 'ssrp_fs_[a-z_]*' | sort -u)
internal=$(echo "$exports" | grep '^ssrp_fs_' | grep -vxF "$public_fs" | head -3)
[ -n "$internal" ] && fail "libssrp.dll exports hal/ internals: $(echo $internal)" ||
	pass "libssrp.dll exports no hal/ internals"
# The BitLocker codec's libcrypto is linked in, never exported.
all_exports=$("$triple-objdump" -p "$build/libssrp.dll" |
	sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/s/^[[:space:]]*\[ *[0-9]*\] \([A-Za-z0-9_]*\)$/\1/p')
openssl=$(echo "$all_exports" | grep -E '^(EVP_|OPENSSL_|OSSL_|ERR_|SHA256_|AES_|CRYPTO_|BN_)' | head -3)
[ -n "$all_exports" ] && [ -z "$openssl" ] && echo "$all_exports" | grep -qx ssrp_volume_open &&
	pass "libssrp.dll exports no OpenSSL symbol ($(echo "$all_exports" | wc -l) exports)" ||
	fail "libssrp.dll exports OpenSSL symbols: $(echo $openssl)"
# tpm2-tss (the tbs backend's ESAPI) likewise: linked in, never exported.
tss2=$(echo "$all_exports" | grep -E '^(Esys_|Tss2_|iesys_)' | head -3)
[ -n "$all_exports" ] && [ -z "$tss2" ] &&
	pass "libssrp.dll exports no tpm2-tss symbol" ||
	fail "libssrp.dll exports tpm2-tss symbols: $(echo $tss2)"
# ...and built without its logging (MAXLOGLEVEL 0: nothing on stderr, no
# log text in the DLL; a build with logging carries ESAPI's messages, as
# Debian's libtss2-esys.so does).
if grep -q -a -e 'esyscontext is NULL' -e 'Esys called in bad sequence' "$build/libssrp.dll"; then
	fail "libssrp.dll carries tpm2-tss's log messages (built with logging)"
else
	pass "libssrp.dll carries none of tpm2-tss's log messages"
fi

# --- ssrp.exe under Wine
wine_session "$out/wineprefix"
app=$build
version=$(sed -n 's/^project(ssrp VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
run version ./ssrp.exe version
if [ "$got" = 0 ] && [ "$(cat "$out/version.out")" = "ssrp $version" ]; then
	pass "ssrp.exe version: ssrp $version"
else
	fail "ssrp.exe version: exit $got, expected \"ssrp $version\""
	show version
fi
run help ./ssrp.exe help
if [ "$got" = 0 ] && grep -q '^usage: ssrp <command>' "$out/help.out" &&
	grep -q 'ssrp tpm info' "$out/help.out"; then
	pass "ssrp.exe help: the usage"
else
	fail "ssrp.exe help: exit $got, no usage"
	show help
fi
# The TPM backends a Windows build has: tbs, and no tss2 (so no bare TCTI
# strings either).
if grep -q '^  tbs: ' "$out/help.out" && ! grep -q '^  tss2: \|means tss2:' "$out/help.out"; then
	pass "ssrp.exe help: the TPM backend is tbs; no tss2, no bare TCTI strings"
else
	fail "ssrp.exe help: the TPM specs are not tbs alone"
	sed -n '/^TPM specs:/,/^$/p' "$out/help.out" | sed 's/^/  | /'
fi
run tpm_info ./ssrp.exe tpm info
lines=$(wc -l <"$out/tpm_info.err")
if [ "$got" = 3 ] && [ "$lines" = 1 ] && [ ! -s "$out/tpm_info.out" ] &&
	grep -q '^ssrp: no TPM 2.0 found' "$out/tpm_info.err"; then
	pass "ssrp.exe tpm info without a TPM (Wine's tbs.dll): exit 3, $(cat "$out/tpm_info.err")"
else
	fail "ssrp.exe tpm info without a TPM: exit $got (expected 3 and one line \"ssrp: no TPM 2.0 found ...\")"
	show tpm_info
fi
printf 'not sealed' >"$out/secret.bin"
run tpm_seal ./ssrp.exe tpm seal --pcrs 7,11 --in "Z:$out/secret.bin" --out "Z:$out/secret.blob"
if [ "$got" = 3 ] && [ "$(wc -l <"$out/tpm_seal.err")" = 1 ] && [ ! -e "$out/secret.blob" ] &&
	grep -q '^ssrp: no TPM 2.0 found' "$out/tpm_seal.err"; then
	pass "ssrp.exe tpm seal without a TPM: exit 3, nothing written"
else
	fail "ssrp.exe tpm seal without a TPM: exit $got (expected 3, one line, no blob)"
	show tpm_seal
fi

# --- hal/ for Windows against OpenSSL
probe="$build/hal_probe.exe"
"$triple-gcc" -std=c11 -O2 -Wall -Wextra -Werror -I"$src" -I"$src/include" -o "$probe" \
	"$src/tests/mingw/hal_probe.c" "$build/libssrp.a" -L"$deps/lib" -lcurl -lcjson \
	-lbcrypt -lcrypt32 -ltbs -lole32 -loleaut32 -lwbemuuid -lnetapi32 -lws2_32 -ladvapi32 \
	-static-libgcc >"$out/hal_probe.log" 2>&1 || { cat "$out/hal_probe.log"; die "hal_probe.exe did not build"; }
keys="$out/keys"
rm -rf "$keys" && mkdir -p "$keys"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/pkcs8.pem" 2>/dev/null &&
	openssl rsa -in "$keys/pkcs8.pem" -traditional -out "$keys/pkcs1.pem" 2>/dev/null &&
	openssl req -x509 -new -key "$keys/pkcs8.pem" -subj /CN=ssrp-windows-test -days 1 \
		-out "$keys/cert.pem" 2>/dev/null || die "openssl could not make a test key and certificate"
grep -q 'BEGIN PRIVATE KEY' "$keys/pkcs8.pem" && grep -q 'BEGIN RSA PRIVATE KEY' "$keys/pkcs1.pem" ||
	die "openssl wrote unexpected key forms"
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzc3JwIn0' >"$keys/data"
want_sig=$(openssl dgst -sha256 -sign "$keys/pkcs8.pem" "$keys/data" | openssl base64 -A | tr '+/' '-_' | tr -d '=')
want_tp=$(openssl x509 -in "$keys/cert.pem" -noout -fingerprint -sha1 | sed 's/^.*=//; s/://g')
for form in pkcs8 pkcs1; do
	run_probe() { (cd "$build" && "$wine" ./hal_probe.exe "$@") 2>/dev/null </dev/null | tr -d '\r'; }
	got_out=$(run_probe sign "Z:$keys/$form.pem" "Z:$keys/cert.pem" "Z:$keys/data")
	if [ "$got_out" = "$(printf 'thumbprint=%s\nsignature=%s' "$want_tp" "$want_sig")" ]; then
		pass "RS256 over CNG with a $form key: OpenSSL's signature and thumbprint"
	elif [ $form = pkcs8 ] && case $got_out in *"is a PKCS#8 key, which this system's crypt32 cannot decode"*) true ;; *) false ;; esac; then
		# Wine's crypt32 has no PKCS_PRIVATE_KEY_INFO decoder (Windows has);
		# the PKCS#1 form below checks the same signing code.
		pass "Wine gap: crypt32 cannot decode PKCS#8 keys; refused by name: ${got_out#*: }"
	else
		fail "RS256 over CNG with a $form key differs from OpenSSL"
		echo "$got_out" | sed 's/^/  | /' | cut -c1-120
		echo "  | want thumbprint=$want_tp"
	fi
done
printf 'not a key\n' >"$keys/garbage.pem"
got_out=$(run_probe sign "Z:$keys/garbage.pem" "Z:$keys/cert.pem" "Z:$keys/data")
case $got_out in
*"holds no RSA private key in PEM form"*) pass "a file without a key is refused: ${got_out#*: }" ;;
*) fail "a file without a key: $got_out" ;;
esac
printf 'old' >"$keys/journal.json"
got_out=$(run_probe atomic "Z:$keys/journal.json" "new text")
[ "$got_out" = "read back=new text" ] && [ "$(cat "$keys/journal.json")" = "new text" ] &&
	[ -z "$(find "$keys" -name 'journal.json.tmp.*')" ] &&
	pass "atomic replacement: the new text, no temporary file left" ||
	fail "atomic replacement: $got_out / $(cat "$keys/journal.json")"
got_out=$(run_probe lock "Z:$keys/run.lock" | tr '\n' ' ')
[ "$got_out" = "first=held second=busy after release=held " ] &&
	pass "run lock: $got_out" || fail "run lock: $got_out (expected first=held second=busy after release=held)"

# --- "syslog" on Windows: the Event Log. Wine's RegisterEventSourceW and
# ReportEventW are stubs that log no event, but ReportEventW traces its
# arguments and string on the eventlog channel: the event type
# (0x0004, information), category 0, event ID 1 and the one line.
line='audit: {"event":"assoc","device":"probe"}'
(cd "$build" && WINEDEBUG=fixme+advapi,trace+eventlog "$wine" ./hal_probe.exe sink syslog ssrp-assoc "$line") \
	>"$out/eventlog.out" 2>"$out/eventlog.err" </dev/null
got=$?
tr -d '\r' <"$out/eventlog.out" >"$out/eventlog.txt"
if [ "$got" = 0 ] && grep -qx 'written to the Event Log' "$out/eventlog.txt" &&
	grep -q 'RegisterEventSourceW ((null),L"ssrp-assoc")' "$out/eventlog.err" &&
	grep -q 'ReportEventW ([0-9A-F]*,0x0004,0x0000,0x00000001,0*,0x0001,' "$out/eventlog.err" &&
	grep -qF 'trace:eventlog:ReportEventW L"audit: {\"event\":\"assoc\",\"device\":\"probe\"}"' "$out/eventlog.err"; then
	pass "an audit line to \"syslog\": ReportEventW, source ssrp-assoc, information, event ID 1, the line as its string"
else
	fail "an audit line to \"syslog\" (the Event Log): exit $got, $(cat "$out/eventlog.txt")"
	grep -i 'eventlog\|EventSource' "$out/eventlog.err" | head -5 | sed 's/^/  | /'
fi

# --- who may write the files that decide what ssrp does (hal/fs_trust_windows.c)
# Wine 8 keeps no security descriptor for files on the Linux file system:
# GetNamedSecurityInfoW builds one from the Unix owner and mode (owner: this
# user, or ANONYMOUS LOGON for another uid; SYSTEM and the owner full;
# Everyone from the "other" bits, the sticky bit lost), and
# SetNamedSecurityInfoW turns a DACL into mode bits. So Everyone's write
# (chmod o+w) and another owner (chown) are what can be shown here; an ACE
# for BUILTIN\Users is checked only if this Wine keeps it (see below).
# No directory above these files may be writable by others (private_dir.sh).
acl=$(sh "$src/tests/mingw/private_dir.sh" "$out") || die "no private directory for the ACL checks"
test_cleanup() { rm -rf "$acl"; }
wacl="Z:$acl"
probe_out() { (cd "$build" && "$wine" ./hal_probe.exe "$@") 2>/dev/null </dev/null | tr -d '\r'; }
got_out=$(probe_out mkdir "$wacl/ProgramData/ssrp")
sddl=$(probe_out acl "$wacl/ProgramData/ssrp")
mode=$(stat -c %A "$acl/ProgramData/ssrp" 2>/dev/null)
case "$got_out|$sddl|$mode" in
made\|*"(A;OICI;FA;;;SY)"*\|d*---) case $sddl in
	*";WD)"* | *";BU)"* | *";AU)"*) fail "the private directory's DACL lets others in: $sddl" ;;
	*) pass "ssrp_fs_mkdirs(0700) makes a private directory: $sddl (Unix $mode)" ;;
	esac ;;
*) fail "ssrp_fs_mkdirs(0700): $got_out, DACL $sddl, Unix $mode (expected SYSTEM and the owner only)" ;;
esac
journal="$acl/ProgramData/ssrp/agent.journal"
wjournal="$wacl/ProgramData/ssrp/agent.journal"
got_out=$(probe_out trust "$wjournal" own)
[ "$got_out" = trusted ] && pass "a journal not yet made, in the private directory: trusted" ||
	fail "a journal not yet made, in the private directory: $got_out"
printf '{}' >"$journal" && chmod 644 "$journal"
got_out=$(probe_out trust "$wjournal" own)
[ "$got_out" = trusted ] && pass "the journal in the private directory: trusted" ||
	fail "the journal in the private directory: $got_out"
chmod o+w "$journal"
got_out=$(probe_out trust "$wjournal" own)
case $got_out in
"error -32: probe file $wjournal can be changed by Everyone (S-1-1-0): its ACL allows"*)
	pass "a journal Everyone may write is refused: ${got_out#error -32: }" ;;
*) fail "a journal Everyone may write: $got_out" ;;
esac
chmod o-w "$journal"
chown nobody "$journal"
got_out=$(probe_out trust "$wjournal" own)
case $got_out in
"error -32: probe file $wjournal belongs to NT AUTHORITY\ANONYMOUS LOGON (S-1-5-7), not to"*)
	pass "a journal another user owns is refused: ${got_out#error -32: }" ;;
*) fail "a journal another user owns: $got_out" ;;
esac
chown "$(id -u)" "$journal"
mkdir -p "$acl/open" && chmod 757 "$acl/open" && printf '{}' >"$acl/open/config.json"
got_out=$(probe_out trust "$wacl/open/config.json")
case $got_out in
"error -32: probe directory $(printf '%s' "$wacl/open" | tr / '\\') can be changed by Everyone (S-1-1-0)"*)
	pass "a file in a directory Everyone may empty is refused: ${got_out#error -32: }" ;;
*) fail "a file in a directory Everyone may empty: $got_out" ;;
esac
# Secret files (ssrp_secret_file_read): mode 0600 is "nobody else may read".
printf 'client-secret\n' >"$acl/secret" && chmod 600 "$acl/secret"
got_out=$(probe_out secret "$wacl/secret")
[ "$got_out" = "read 13 bytes" ] && pass "a secret file only its owner may read: read" ||
	fail "a secret file only its owner may read: $got_out"
chmod 644 "$acl/secret"
got_out=$(probe_out secret "$wacl/secret")
case $got_out in
"error -32: secret file $wacl/secret can be read by Everyone (S-1-1-0): its ACL allows reading"*)
	pass "a secret file Everyone may read is refused: ${got_out#error -32: }" ;;
*) fail "a secret file Everyone may read: $got_out" ;;
esac
# An ACE for BUILTIN\Users that allows writing, through SetNamedSecurityInfoW.
printf '{}' >"$acl/users.json" && chmod 644 "$acl/users.json"
probe_out setacl "$wacl/users.json" 'D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x13019f;;;BU)' >/dev/null
sddl=$(probe_out acl "$wacl/users.json")
got_out=$(probe_out trust "$wacl/users.json")
case $sddl in
*";BU)"*) case $got_out in
	*"can be changed by BUILTIN\Users (S-1-5-32-545)"*) pass "a file Users may write is refused: ${got_out#error -32: }" ;;
	*) fail "a file Users may write ($sddl): $got_out" ;;
	esac ;;
*) pass "Wine gap: SetNamedSecurityInfoW kept no ACE for Users (read back $sddl, Unix $(stat -c %A "$acl/users.json")): the Users case is the Everyone one above" ;;
esac

finish
