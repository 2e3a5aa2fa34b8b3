#!/bin/sh
# No secret of the server and user side shows in `ps`, in a process's
# command line or environment, or in any log or output that is not the one
# the user asked for. While `ssrp assoc serve`, a device-code `ssrp recover`
# (waiting for its sign-in) and a slowed `ssrp assoc batch` are running, the
# process table and /proc/PID/{cmdline,environ} of every ssrp process are
# searched for every secret the simulator wrote (client secret, passwords,
# the service account's refresh token, the webhook token, the admin bearer)
# and for any JWT; afterwards the request log, the audit trail and every
# captured output are searched the same way, and the recovery password is
# allowed only in the one stdout of `ssrp recover` that asked for it.
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

# Graph answers slowly, so the batch below is still running when ps looks.
env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" --faults 'graph*:latency:400' 2>"$work/err") ||
	{ echo "cannot start the simulated cloud:"; cat "$work/err"; exit 1; }
. "$env_file"
cfg=$SSRP_SIM_CONFIG

# The secrets, as the files the simulator wrote hold them.
secrets="$work/secrets"
: >"$secrets"
for f in "$SSRP_SIM_APP_SECRET_FILE" "$SSRP_SIM_ADMIN_PASSWORD_FILE" "$SSRP_SIM_USER_PASSWORD_FILE" \
	"$SSRP_SIM_USER2_PASSWORD_FILE" "$SSRP_SIM_SERVICE_PASSWORD_FILE" \
	"$SSRP_SIM_SERVICE_REFRESH_TOKEN_FILE" "$SSRP_SIM_ADMIN_TOKEN_FILE"; do
	cat "$f" >>"$secrets"
	echo >>"$secrets"
done
sed -n 's/.*token=\([^&]*\).*/\1/p' "$SSRP_SIM_WEBHOOK_URL_FILE" >>"$secrets"
[ "$(grep -c . "$secrets")" -ge 8 ] && pass "eight secrets to look for" || fail "secrets collected"

# search NAME FILE: no secret and no JWT in FILE
search() {
	if grep -qF -f "$secrets" "$2" 2>/dev/null; then fail "$1: a secret is in it"
	elif grep -qE 'eyJ[A-Za-z0-9_-]{10,}\.' "$2" 2>/dev/null; then fail "$1: a token is in it"
	else pass "$1"; fi
}

# --- long-running commands
"$ssrp_assocd" --config "$cfg" --listen 127.0.0.1:0 --port-file "$work/port" \
	>"$work/serve.out" 2>"$work/serve.err" &
pids="$pids $!"
"$ssrp" recover --config "$cfg" --list >"$work/dc.out" 2>"$work/dc.err" </dev/null &
pids="$pids $!"
i=0
while [ $i -lt 100 ] && ! { [ -s "$work/port" ] && grep -q "enter the code" "$work/dc.err"; }; do
	sleep 0.1
	i=$((i + 1))
done
[ -s "$work/port" ] && pass "serve is listening" || fail "serve did not start"
grep -q "enter the code" "$work/dc.err" && pass "recover waits for its sign-in" || fail "no device-code prompt"
printf '{"deviceId":"%s","users":["CONTOSO\\\\alice","%s"]}\n' "$SSRP_SIM_DEVICE_ID" \
	"$SSRP_SIM_USER2_UPN" >"$work/batch.jsonl"
"$ssrp" assoc batch --config "$cfg" --in "$work/batch.jsonl" >"$work/batch.out" 2>"$work/batch.err" &
batch=$!
pids="$pids $batch"
sleep 0.3

ps -eo pid,args >"$work/ps.txt"
search "ps -eo args" "$work/ps.txt"
: >"$work/proc.txt"
for p in $(pgrep -f "$ssrp"); do
	tr '\0' '\n' <"/proc/$p/cmdline" >>"$work/proc.txt" 2>/dev/null
	tr '\0' '\n' <"/proc/$p/environ" >>"$work/proc.txt" 2>/dev/null
done
[ -s "$work/proc.txt" ] && pass "read the ssrp processes' command lines and environments" ||
	fail "no ssrp process found"
search "/proc/PID/cmdline and environ" "$work/proc.txt"

wait "$batch"
[ $? -eq 0 ] && pass "batch run" || { fail "batch run"; sed 's/^/  | /' "$work/batch.err"; }

# --- a recovery password the user then asks for
rp=111111-222222-333333-444444-555555-666666-000011-123453
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
(umask 077 && printf '{"key":"%s","kid":"{1a2b3c4d-0000-4000-8000-00000000000a}","vol":"OSV"}' "$rp" \
	>"$work/upload")
status=$(curl -sS $ct --cacert "$SSRP_SIM_CA" --cert "$SSRP_SIM_DEVICE_CERT" --key "$SSRP_SIM_DEVICE_KEY" \
	-o /dev/null -w '%{http_code}' --data-binary @"$work/upload" \
	"https://enterpriseregistration.windows.net/manage/$SSRP_SIM_TENANT_ID/device/$SSRP_SIM_DEVICE_ID?api-version=1.0")
rm -f "$work/upload"
[ "$status" = 200 ] && pass "key escrowed" || fail "DRS upload: $status"
"$ssrp" recover --config "$cfg" --username "$SSRP_SIM_USER_UPN" --password-file "$SSRP_SIM_USER_PASSWORD_FILE" \
	--key-id 1A2B3C4D >"$work/recover.out" 2>"$work/recover.err" </dev/null
[ $? -eq 0 ] && pass "the owner reads the key" || { fail "recover"; sed 's/^/  | /' "$work/recover.err"; }
grep -qF "$rp" "$work/recover.out" && pass "the password is on the stdout that asked for it" ||
	fail "password not printed"
echo "$rp" >>"$secrets"

for p in $pids; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
pids=""
search "serve stdout/stderr" "$work/serve.err"
search "device-code recover stderr" "$work/dc.err"
search "batch output" "$work/batch.out"
search "batch stderr" "$work/batch.err"
search "recover stderr" "$work/recover.err"
search "audit trail" "$(sed -n 's/.*"audit":[^"]*"\([^"]*\)".*/\1/p' "$cfg")"
search "request log" "$SSRP_SIM_LOG"
search "simulator log" "$SSRP_SIM_DIR/cloud.log"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
