#!/bin/sh
# `ssrp sim cloud` with the built-in demo tenant, driven by plain curl through
# the real host names (--connect-to, --cacert) using only what the env file
# gives: tokens, Graph reads, the owner rules, a DRS upload by device
# certificate, the key as the owner and as another user, a webhook job, the
# admin endpoints, a fault and the early-retry flag, the request log, and
# start/status/stop with their exit codes. Secrets go to curl from files
# (--data-urlencode name@file, -H @file), never on its command line.
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
work=$(mktemp -d)
trap '"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1; rm -rf "$work"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
expect() { # expect NAME WANT GOT
	if [ "$3" = "$2" ]; then pass "$1"; else
		fail "$1: got '$3', expected '$2'"; sed 's/^/  | /' "$work/body" 2>/dev/null | head -5; fi
}
contains() { # contains NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then pass "$1"; else
		fail "$1: '$3' not in $2"; sed 's/^/  | /' "$2" | head -5; fi
}
json_str() { # json_str NAME FILE: the first "NAME":"value" in FILE
	sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}

printf '#!/bin/sh\necho runbook\ncat\n' >"$work/job.sh"
chmod 700 "$work/job.sh"

env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" --job-command "$work/job.sh" \
	--state-out "$work/dump.json" 2>"$work/err") ||
	{ echo "cannot start the simulated cloud:"; cat "$work/err"; exit 1; }
expect "start prints the env file" "$work/cloud/cloud.env" "$env_file"
. "$env_file"
for v in SSRP_SIM_CA SSRP_SIM_CONNECT_TO SSRP_SIM_PORT SSRP_SIM_TENANT_ID SSRP_SIM_TENANT_DOMAIN \
	SSRP_SIM_APP_ID SSRP_SIM_APP_SECRET_FILE SSRP_SIM_PUBLIC_CLIENT_ID SSRP_SIM_ADMIN_UPN \
	SSRP_SIM_ADMIN_PASSWORD_FILE SSRP_SIM_USER_UPN SSRP_SIM_USER_PASSWORD_FILE SSRP_SIM_USER2_UPN \
	SSRP_SIM_USER2_PASSWORD_FILE SSRP_SIM_DEVICE_ID SSRP_SIM_DEVICE_NAME SSRP_SIM_DEVICE_CERT \
	SSRP_SIM_DEVICE_KEY SSRP_SIM_WEBHOOK_URL_FILE SSRP_SIM_ADMIN_TOKEN_FILE SSRP_SIM_LOG \
	SSRP_SIM_CONFIG; do
	eval "val=\${$v:-}"
	[ -n "$val" ] || fail "env file lacks $v"
done
for f in "$SSRP_SIM_APP_SECRET_FILE" "$SSRP_SIM_ADMIN_PASSWORD_FILE" "$SSRP_SIM_USER_PASSWORD_FILE" \
	"$SSRP_SIM_USER2_PASSWORD_FILE" "$SSRP_SIM_WEBHOOK_URL_FILE" "$SSRP_SIM_ADMIN_TOKEN_FILE" \
	"$SSRP_SIM_DEVICE_KEY"; do
	[ "$(stat -c %a "$f")" = 600 ] || fail "$f is not mode 0600"
	grep -qF -- "$(cat "$f")" "$env_file" "$SSRP_SIM_CONFIG" && fail "a secret of $f is inline"
done
pass "secrets are 0600 files, never inline"
contains "config names the CA" "$SSRP_SIM_CONFIG" "\"ca_file\":	\"$SSRP_SIM_CA\""
openssl x509 -in "$SSRP_SIM_DEVICE_CERT" -noout -subject -issuer >"$work/certinfo" 2>&1
contains "device cert subject" "$work/certinfo" "CN = $SSRP_SIM_DEVICE_ID"
contains "device cert issuer" "$work/certinfo" "CN = MS-Organization-Access"
webhook_host=$(sed 's|https://\([^/]*\)/.*|\1|' "$SSRP_SIM_WEBHOOK_URL_FILE")
openssl verify -CAfile "$SSRP_SIM_CA" "$SSRP_SIM_CA" >/dev/null 2>&1 && pass "CA verifies"
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
# req METHOD URL [curl args...]: the status on stdout, body in $work/body
req() {
	m=$1 u=$2
	shift 2
	curl -sS $ct --cacert "$SSRP_SIM_CA" -o "$work/body" -D "$work/headers" -w '%{http_code}' \
		-X "$m" -A "ssrp-cli-test/1.0" -H "ocp-client-name: ssrp tests" \
		-H "ocp-client-version: 1.0" "$@" "$u" 2>"$work/curlerr"
}
login="https://login.microsoftonline.com/$SSRP_SIM_TENANT_ID/oauth2/v2.0/token"
scope="https://graph.microsoft.com/Directory.AccessAsUser.All https://graph.microsoft.com/BitLockerKey.Read.All https://graph.microsoft.com/Device.Read.All https://graph.microsoft.com/User.Read"
# auth_file NAME: write "Authorization: Bearer <token from $work/body>" to $work/NAME (0600)
auth_file() {
	tok=$(json_str access_token "$work/body")
	(umask 077 && printf 'Authorization: Bearer %s\n' "$tok" >"$work/$1")
	printf '%s\n' "$tok" >>"$work/tokens"
}
user_login() { # user_login UPN PASSWORD_FILE NAME
	expect "ROPC token for $1" 200 "$(req POST "$login" -d grant_type=password \
		-d "client_id=$SSRP_SIM_PUBLIC_CLIENT_ID" --data-urlencode "username=$1" \
		--data-urlencode "password@$2" --data-urlencode "scope=$scope")"
	auth_file "$3"
}
(umask 077 && : >"$work/tokens")

expect "client-credentials token" 200 "$(req POST "$login" -d grant_type=client_credentials \
	-d "client_id=$SSRP_SIM_APP_ID" --data-urlencode "client_secret@$SSRP_SIM_APP_SECRET_FILE" \
	-d scope=https://graph.microsoft.com/.default)"
auth_file app
user_login "$SSRP_SIM_ADMIN_UPN" "$SSRP_SIM_ADMIN_PASSWORD_FILE" admin
user_login "$SSRP_SIM_USER_UPN" "$SSRP_SIM_USER_PASSWORD_FILE" alice
user_login "$SSRP_SIM_USER2_UPN" "$SSRP_SIM_USER2_PASSWORD_FILE" bob

graph=https://graph.microsoft.com/v1.0
expect "GET users/{upn}" 200 "$(req GET "$graph/users/$SSRP_SIM_USER_UPN" -H @"$work/app")"
alice_id=$(json_str id "$work/body")
contains "Graph sends request-id" "$work/headers" "request-id:"
expect "GET devices by deviceId" 200 "$(req GET "$graph/devices" -G \
	--data-urlencode "\$filter=deviceId eq '$SSRP_SIM_DEVICE_ID'" -H @"$work/app")"
contains "the device is found" "$work/body" "$SSRP_SIM_DEVICE_NAME"
device_oid=$(sed -n 's/.*"value":\[{[^]]*"id":"\([^"]*\)".*/\1/p' "$work/body" | head -n 1)
[ -n "$device_oid" ] || device_oid=$(json_str id "$work/body")
expect "GET without a token" 401 "$(req GET "$graph/users/$SSRP_SIM_USER_UPN")"

ref="{\"@odata.id\":\"https://graph.microsoft.com/v1.0/directoryObjects/$alice_id\"}"
owners="$graph/devices/$device_oid/registeredOwners/\$ref"
expect "add owner as device admin" 204 "$(req POST "$owners" -H @"$work/admin" \
	-H 'Content-Type: application/json' -d "$ref")"
expect "duplicate owner" 400 "$(req POST "$owners" -H @"$work/admin" \
	-H 'Content-Type: application/json' -d "$ref")"
contains "duplicate message" "$work/body" "already exist"
expect "add owner app-only" 403 "$(req POST "$owners" -H @"$work/app" \
	-H 'Content-Type: application/json' -d "$ref")"

kid=6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
rp=111111-222222-333333-444444-555555-666666-000011-123453
(umask 077 && printf '{"key":"%s","kid":"{%s}","vol":"OSV"}' "$rp" "$kid" >"$work/upload")
drs="https://enterpriseregistration.windows.net/manage/$SSRP_SIM_TENANT_DOMAIN/device/$SSRP_SIM_DEVICE_ID?api-version=1.0"
expect "DRS upload with the device certificate" 200 "$(req POST "$drs" --cert "$SSRP_SIM_DEVICE_CERT" \
	--key "$SSRP_SIM_DEVICE_KEY" --data-binary @"$work/upload")"
expect "DRS upload without a certificate" 401 "$(req POST "$drs" --data-binary @"$work/upload")"
keys="$graph/informationProtection/bitlocker/recoveryKeys"
expect "admin lists the device's keys" 200 "$(req GET "$keys" -G \
	--data-urlencode "\$filter=deviceId eq '$SSRP_SIM_DEVICE_ID'" -H @"$work/admin")"
contains "the key is listed" "$work/body" "$kid"
expect "the owner reads the key" 200 "$(req GET "$keys/$kid?\$select=key" -H @"$work/alice")"
contains "the key is the uploaded one" "$work/body" "$rp"
expect "another user may not" 403 "$(req GET "$keys/$kid?\$select=key" -H @"$work/bob")"

expect "webhook" 202 "$(req POST "$(cat "$SSRP_SIM_WEBHOOK_URL_FILE")" -d '{"hello":"runbook"}')"
job=$(sed -n 's/.*"JobIds":\["\([^"]*\)".*/\1/p' "$work/body")
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
i=0
while [ $i -lt 100 ]; do
	req GET "https://graph.microsoft.com/admin/jobs/$job" -H @"$work/adm" >/dev/null
	grep -q '"status":"completed"' "$work/body" && break
	sleep 0.1
	i=$((i + 1))
done
contains "the job completed" "$work/body" '"status":"completed"'
contains "the job got WebhookData" "$work/body" 'hello'
expect "webhook with a wrong token" 400 "$(req POST "https://$webhook_host/webhooks?token=nope" -d x)"

expect "admin state without the admin token" 401 "$(req GET "https://graph.microsoft.com/admin/state")"
expect "admin state with a user token" 401 "$(req GET "https://graph.microsoft.com/admin/state" -H @"$work/admin")"
expect "admin state" 200 "$(req GET "https://graph.microsoft.com/admin/state" -H @"$work/adm")"
contains "the dump has the new owner" "$work/body" "$alice_id"

expect "set a fault script" 200 "$(req POST "https://graph.microsoft.com/admin/faults" -H @"$work/adm" \
	--data-binary 'GET graph/v1.0/users/*:429:5@1')"
expect "throttled" 429 "$(req GET "$graph/users/$SSRP_SIM_USER_UPN" -H @"$work/app")"
contains "Retry-After" "$work/headers" "Retry-After: 5"
expect "retried at once" 200 "$(req GET "$graph/users/$SSRP_SIM_USER_UPN" -H @"$work/app")"
contains "the early retry is logged" "$SSRP_SIM_LOG" '"early_retry":true'
contains "the fault is logged" "$SSRP_SIM_LOG" '"fault":"429:5"'

# Nothing secret in the log: passwords, app secret, webhook token, tokens, the key.
cat "$SSRP_SIM_APP_SECRET_FILE" "$SSRP_SIM_ADMIN_PASSWORD_FILE" "$SSRP_SIM_USER_PASSWORD_FILE" \
	"$SSRP_SIM_USER2_PASSWORD_FILE" "$SSRP_SIM_ADMIN_TOKEN_FILE" | tr -s '\n' '\n' >"$work/secrets"
echo >>"$work/secrets"
sed -n 's/.*token=//p' "$SSRP_SIM_WEBHOOK_URL_FILE" >>"$work/secrets"
cat "$work/tokens" >>"$work/secrets"
echo "$rp" >>"$work/secrets"
sed -i '/^$/d' "$work/secrets"
if grep -qF -f "$work/secrets" "$SSRP_SIM_LOG"; then fail "a secret is in the request log"; else
	pass "no secret in the request log ($(wc -l <"$SSRP_SIM_LOG") lines)"; fi
grep -q 'token=' "$SSRP_SIM_LOG" && fail "a query string is in the request log"

kill -USR1 "$SSRP_SIM_PID"
i=0
while [ ! -s "$work/dump.json" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
contains "SIGUSR1 dumps the state to --state-out" "$work/dump.json" "$alice_id"
[ "$(stat -c %a "$work/dump.json")" = 600 ] && pass "the dump is 0600" || fail "dump mode"

check_exit() { # check_exit NAME WANT COMMAND...
	n=$1 w=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	expect "$n" "$w" "$?"
}
check_exit "status while running" 0 "$ssrp_sim" cloud status --dir "$work/cloud"
contains "status names the port" "$work/out" "port $SSRP_SIM_PORT"
check_exit "a second start on the same dir" 2 "$ssrp_sim" cloud start --dir "$work/cloud"
check_exit "bad fault script" 2 "$ssrp_sim" cloud start --dir "$work/other" --faults 'x:418'
contains "bad script named" "$work/err" "unknown kind '418'"
check_exit "unknown option" 2 "$ssrp_sim" cloud start --dir "$work/other" --bogus
check_exit "stop" 0 "$ssrp_sim" cloud stop --dir "$work/cloud"
check_exit "status after stop" 3 "$ssrp_sim" cloud status --dir "$work/cloud"
[ ! -e "$env_file" ] && pass "stop removes the env file" || fail "env file left after stop"
check_exit "stop again" 0 "$ssrp_sim" cloud stop --dir "$work/cloud"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all simulated-cloud CLI checks passed"
