#!/bin/sh
# `ssrp recover` and `ssrp assoc login` against `ssrp sim cloud` (demo
# tenant), over HTTPS with the real host names. Keys reach Entra ID the way
# a device sends them: a DRS upload with the device certificate (curl).
# Covered: the owner recovers by device name and by key-id prefix, --list,
# --json; another user is refused by name and by key id (exit 10) before and
# after the owner is registered; ambiguous and unknown prefixes; several keys
# without a terminal; a device-code sign-in end to end (the code read from
# stderr, approved through /admin/devicelogin); --unlock of a simulated
# volume without the password in any output; the name of who signed in
# taken from the sign-in's id_token, no Graph /me request (assoc login, whose
# sign-in asks no openid, falls back to /me); assoc login writing a refresh
# token file that then works; passwords never accepted on the command line.
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
work=$(mktemp -d)
trap '"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1; [ -n "${bg:-}" ] && kill "$bg" 2>/dev/null; rm -rf "$work"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
expect() { # expect NAME WANT GOT
	if [ "$3" = "$2" ]; then pass "$1"; else
		fail "$1: got '$3', expected '$2'"
		for f in "$work/out" "$work/err" "$work/body"; do sed 's/^/  | /' "$f" 2>/dev/null | head -8; done
	fi
}
contains() { # contains NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then pass "$1"; else
		fail "$1: '$3' not in $2"; sed 's/^/  | /' "$2" | head -8; fi
}
lacks() { # lacks NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then fail "$1: '$3' is in $2"; else pass "$1"; fi
}
json_str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1; }

env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" 2>"$work/err") ||
	{ echo "cannot start the simulated cloud:"; cat "$work/err"; exit 1; }
. "$env_file"
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
req() { # req METHOD URL [curl args...]: the status; body in $work/body
	m=$1 u=$2
	shift 2
	curl -sS $ct --cacert "$SSRP_SIM_CA" -o "$work/body" -w '%{http_code}' -X "$m" \
		-H "ocp-client-name: ssrp tests" -H "ocp-client-version: 1.0" "$@" "$u" 2>"$work/curlerr"
}
cfg=$SSRP_SIM_CONFIG
alice="--username $SSRP_SIM_USER_UPN --password-file $SSRP_SIM_USER_PASSWORD_FILE"
bob="--username $SSRP_SIM_USER2_UPN --password-file $SSRP_SIM_USER2_PASSWORD_FILE"
recover() { # recover ARGS...: exit status; stdout in $work/out, stderr in $work/err
	"$ssrp" recover --config "$cfg" "$@" >"$work/out" 2>"$work/err" </dev/null
	echo $?
}

# the admin's delegated token (Cloud Device Administrator) for the owner change
login="https://login.microsoftonline.com/$SSRP_SIM_TENANT_ID/oauth2/v2.0/token"
expect "admin token" 200 "$(req POST "$login" -d grant_type=password \
	-d "client_id=$SSRP_SIM_PUBLIC_CLIENT_ID" --data-urlencode "username=$SSRP_SIM_ADMIN_UPN" \
	--data-urlencode "password@$SSRP_SIM_ADMIN_PASSWORD_FILE" \
	--data-urlencode "scope=https://graph.microsoft.com/.default")"
(umask 077 && printf 'Authorization: Bearer %s\n' "$(json_str access_token "$work/body")" >"$work/admin")
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
graph=https://graph.microsoft.com/v1.0
req GET "$graph/users/$SSRP_SIM_USER_UPN" -H @"$work/admin" >/dev/null
alice_id=$(json_str id "$work/body")
req GET "$graph/devices" -G --data-urlencode "\$filter=deviceId eq '$SSRP_SIM_DEVICE_ID'" \
	-H @"$work/admin" >/dev/null
device_oid=$(sed -n 's/.*"value":\[{[^]]*"id":"\([^"]*\)".*/\1/p' "$work/body" | head -n 1)
[ -n "$device_oid" ] || device_oid=$(json_str id "$work/body")

upload() { # upload KID PASSWORD: a DRS key upload with the device certificate
	(umask 077 && printf '{"key":"%s","kid":"{%s}","vol":"OSV"}' "$2" "$1" >"$work/upload")
	req POST "https://enterpriseregistration.windows.net/manage/$SSRP_SIM_TENANT_ID/device/$SSRP_SIM_DEVICE_ID?api-version=1.0" \
		--cert "$SSRP_SIM_DEVICE_CERT" --key "$SSRP_SIM_DEVICE_KEY" --data-binary @"$work/upload"
}
kid1=1a2b3c4d-0000-4000-8000-00000000000a
rp1=111111-222222-333333-444444-555555-666666-000011-123453
expect "DRS upload" 200 "$(upload $kid1 $rp1)"

# --- passwords only from files
expect "--password refused" 2 "$(recover --username "$SSRP_SIM_USER_UPN" --password x)"
contains "--password names the way" "$work/err" "--password-file"

# --- before alice owns the device: nobody may read the key
expect "alice before ownership, by name" 10 "$(recover $alice --device "$SSRP_SIM_DEVICE_NAME")"
contains "alice told why" "$work/err" "$SSRP_SIM_DEVICE_NAME is not one of your devices (you own none)"
expect "bob before, by name" 10 "$(recover $bob --device "$SSRP_SIM_DEVICE_NAME")"
expect "bob before, by key id" 10 "$(recover $bob --key-id 1A2B3C4D)"
contains "bob told why (key id)" "$work/err" "no recovery key starting 1A2B3C4D on a device you own"

# --- alice becomes an owner (as the association service would make her)
expect "alice registered as owner" 204 "$(req POST "$graph/devices/$device_oid/registeredOwners/\$ref" \
	-H @"$work/admin" -H 'Content-Type: application/json' \
	-d "{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice_id\"}")"

expect "alice by device name" 0 "$(recover $alice --device "$SSRP_SIM_DEVICE_NAME")"
contains "the password is printed" "$work/out" "recovery password: $rp1"
contains "with the device" "$work/out" "$SSRP_SIM_DEVICE_NAME"
contains "with the key id" "$work/out" "$kid1"
contains "who signed in" "$work/err" "signed in as $SSRP_SIM_USER_UPN"
expect "alice by key-id prefix (lower case)" 0 "$(recover $alice --key-id 1a2b3c4d --json)"
contains "--json" "$work/out" "\"recoveryPassword\":\"$rp1\""
contains "--json keyId" "$work/out" "\"keyId\":\"$kid1\""
expect "alice, one key, no option needed" 0 "$(recover $alice)"
contains "the only key" "$work/out" "$rp1"

expect "bob after, by name" 10 "$(recover $bob --device "$SSRP_SIM_DEVICE_NAME")"
contains "bob told why" "$work/err" "is not one of your devices"
lacks "bob never sees it" "$work/out" "$rp1"
expect "bob after, by key id" 10 "$(recover $bob --key-id 1A2B3C4D)"
lacks "bob never sees it (key id)" "$work/out" "$rp1"
expect "alice, unknown prefix" 10 "$(recover $alice --key-id 99999999)"
contains "unknown prefix message" "$work/err" "no recovery key starting 99999999 on a device you own"
expect "alice, malformed prefix" 2 "$(recover $alice --key-id 1A2B)"

# --- a second key sharing the first 8 digits
kid2=1a2b3c4d-1111-4000-8000-00000000000b
rp2=000011-000022-000033-000044-000055-000066-000077-000088
expect "second DRS upload" 200 "$(upload $kid2 $rp2)"
expect "--list" 0 "$(recover $alice --list)"
contains "--list shows key 1" "$work/out" "$kid1"
contains "--list shows key 2" "$work/out" "$kid2"
contains "--list shows dates" "$work/out" "created 20"
lacks "--list prints no password" "$work/out" "$rp1"
expect "ambiguous prefix" 2 "$(recover $alice --key-id 1A2B3C4D)"
contains "candidates listed" "$work/err" "$kid2"
contains "candidates listed in full" "$work/err" "$kid1"
contains "how many digits choose" "$work/err" "their key ids share the first 8 hex digits: choose one by at least its first 9"
lacks "no choice by the 8 digits they share" "$work/err" "by the first 8 digits"
expect "short prefix, two keys" 2 "$(recover $alice --key-id 1A2B)"
contains "short prefix: the rule" "$work/err" "a key id prefix needs at least 8 hex digits"
lacks "short prefix: not told to pick" "$work/err" "pick one"
lacks "short prefix: no key listed" "$work/err" "$kid2"
expect "longer prefix decides" 0 "$(recover $alice --key-id 1A2B3C4D-1111)"
contains "the second key" "$work/out" "$rp2"
expect "several keys, no terminal" 2 "$(recover $alice --device "$SSRP_SIM_DEVICE_NAME")"
contains "tells which option" "$work/err" "--key-id"
if command -v script >/dev/null 2>&1; then # a terminal: a numbered menu
	printf '2\n' | script -qec "'$ssrp' recover --config '$cfg' $alice --device '$SSRP_SIM_DEVICE_NAME'" \
		/dev/null >"$work/menu" 2>&1
	contains "menu on a terminal" "$work/menu" "Which one (1-2)?"
	contains "the chosen key" "$work/menu" "recovery password: "
fi

# --- device-code sign-in end to end
"$ssrp" recover --config "$cfg" --key-id "$kid1" --json >"$work/dc.out" 2>"$work/dc.err" </dev/null &
bg=$!
code=""
i=0
while [ $i -lt 300 ] && [ -z "$code" ]; do
	code=$(sed -n 's/.*enter the code \([^ ]*\)\.$/\1/p' "$work/dc.err" | head -n 1)
	[ -n "$code" ] || sleep 0.1
	i=$((i + 1))
done
contains "device-code prompt" "$work/dc.err" "To sign in, open https://microsoft.com/devicelogin and enter the code"
(umask 077 && printf '{"user_code":"%s","upn":"%s","password":"%s"}' "$code" "$SSRP_SIM_USER_UPN" \
	"$(cat "$SSRP_SIM_USER_PASSWORD_FILE")" >"$work/approve")
expect "approve at /admin/devicelogin" 200 "$(req POST https://login.microsoftonline.com/admin/devicelogin \
	-H @"$work/adm" -H 'Content-Type: application/json' --data-binary @"$work/approve")"
wait $bg
expect "device-code recover exits 0" 0 "$?"
bg=""
contains "device-code result" "$work/dc.out" "\"recoveryPassword\":\"$rp1\""
contains "device-code signed in alice" "$work/dc.err" "signed in as $SSRP_SIM_USER_UPN"
# who signed in comes from the sign-in's id_token: Graph was never asked /me
lacks "no /me request for the name" "$SSRP_SIM_LOG" '"path":"/v1.0/me"'

# --- --unlock a simulated volume with the escrowed key
img=$work/vol.img
"$ssrp_sim" volume create --volume "sim:$img" --size 8M 2>"$work/err" || fail "volume create"
"$ssrp" volume add-recovery --volume "bitlk:$img?rw" 2>"$work/err" >/dev/null || fail "add-recovery"
vid=$(sed -n 's/.*protector {\{0,1\}\([0-9A-Fa-f-]*\)}\{0,1\}.*/\1/p' "$work/err" | head -n 1)
[ -n "$vid" ] || vid=$("$ssrp" volume status --volume "bitlk:$img?rw" --json | sed -n 's/.*"id":[[:space:]]*"{\{0,1\}\([0-9A-Fa-f-]*\)}\{0,1\}".*/\1/p' | head -n 1)
(umask 077 && "$ssrp" volume show-recovery --volume "bitlk:$img?rw" --id "{$vid}" >"$work/vpw" 2>/dev/null ||
	"$ssrp" volume show-recovery --volume "bitlk:$img?rw" --id "$vid" >"$work/vpw")
vpw=$(grep -o '[0-9]\{6\}\(-[0-9]\{6\}\)\{7\}' "$work/vpw" | head -n 1)
[ -n "$vpw" ] || fail "read the volume's recovery password"
"$ssrp" volume protection on --volume "bitlk:$img?rw" >/dev/null 2>"$work/err" || fail "protection on"
expect "upload the volume's key" 200 "$(upload "$vid" "$vpw")"
prefix=$(printf '%s' "$vid" | cut -c1-8)
expect "recover --unlock" 0 "$(recover $alice --key-id "$prefix" --unlock "bitlk:$img?rw")"
contains "unlock message" "$work/out" "unlocked bitlk:$img?rw with the recovery key"
lacks "no password on stdout" "$work/out" "$vpw"
lacks "no password on stderr" "$work/err" "$vpw"
"$ssrp" volume status --volume "bitlk:$img?rw" --json >"$work/status" 2>&1
contains "the volume records a recovery unlock" "$work/status" '"last_unlock_recovery":	true'
expect "a key that does not fit the volume" 8 "$(recover $alice --key-id 1A2B3C4D-0000 --unlock "bitlk:$img?rw")"
# --out: the decrypted volume, the same bytes `ssrp volume decrypt` writes
expect "recover --unlock --out" 0 "$(recover $alice --key-id "$prefix" --unlock "bitlk:$img" --out "$work/rescued")"
contains "rescue message" "$work/out" "wrote the decrypted volume to $work/rescued"
"$ssrp" volume decrypt --volume "bitlk:$img" --recovery-password-file "$work/vpw" \
	--out "$work/direct" 2>"$work/err" || fail "volume decrypt"
cmp -s "$work/rescued" "$work/direct" && pass "recover --out writes the decrypted volume" ||
	fail "recover --out differs from volume decrypt"
expect "recover --out never overwrites" 10 "$(recover $alice --key-id "$prefix" --unlock "bitlk:$img" --out "$work/rescued")"
rm -f "$work/rescued" "$work/direct"

# --- assoc login: the service account's refresh token
sed "s|\"refresh_token_file\":[^,]*|\"refresh_token_file\": \"$work/svc-rt\"|" "$cfg" >"$work/svc.json"
"$ssrp" assoc login --config "$work/svc.json" --username "$SSRP_SIM_SERVICE_UPN" \
	--password-file "$SSRP_SIM_SERVICE_PASSWORD_FILE" >"$work/out" 2>"$work/err"
expect "assoc login" 0 "$?"
contains "who signed in" "$work/out" "signed in as $SSRP_SIM_SERVICE_UPN"
# its sign-in asks no openid scope, so no id_token: the name came from /me
contains "assoc login asked /me" "$SSRP_SIM_LOG" '"path":"/v1.0/me"'
contains "where it went" "$work/out" "$work/svc-rt"
expect "refresh token file 0600" 600 "$(stat -c %a "$work/svc-rt" 2>/dev/null)"
lacks "the token is not printed" "$work/out" "$(cat "$work/svc-rt")"
expect "the saved refresh token works" 200 "$(req POST "$login" -d grant_type=refresh_token \
	-d "client_id=$SSRP_SIM_PUBLIC_CLIENT_ID" --data-urlencode "refresh_token@$work/svc-rt" \
	--data-urlencode "scope=https://graph.microsoft.com/.default")"
expect "assoc login --password refused" 2 "$("$ssrp" assoc login --config "$work/svc.json" \
	--username x --password y >/dev/null 2>&1; echo $?)"

# no secret in the request log
for f in "$SSRP_SIM_USER_PASSWORD_FILE" "$SSRP_SIM_SERVICE_PASSWORD_FILE" "$work/svc-rt"; do
	lacks "request log has no secret of $(basename "$f")" "$SSRP_SIM_LOG" "$(cat "$f")"
done
lacks "request log has no recovery password" "$SSRP_SIM_LOG" "$rp1"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
