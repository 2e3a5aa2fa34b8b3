#!/bin/sh
# The simulated cloud's server process under valgrind memcheck: started with
# `ssrp sim cloud run` (foreground) under valgrind, given one request of each
# kind (token, Graph, DRS with a device certificate, a webhook with a job,
# admin endpoints, and the faults that take other code paths: 429, reset,
# truncate, slow body), then stopped with SIGTERM. Any memory error or
# definite leak makes valgrind exit 99.
# With VALGRIND '-' the server runs as it is: in the ASan + UBSan build
# that checks its exit status (a sanitizer report or a leak fails it).
# usage: test_cloud_valgrind.sh SSRP VALGRIND|-
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
valgrind=$2
work=$(mktemp -d)
vg_pid=
trap '[ -n "$vg_pid" ] && kill "$vg_pid" 2>/dev/null; rm -rf "$work"' EXIT
printf '#!/bin/sh\ncat\n' >"$work/job.sh"
chmod 700 "$work/job.sh"

if [ "$valgrind" = - ]; then
	: >"$work/valgrind.log"
	"$ssrp_sim" cloud run --dir "$work/cloud" --job-command "$work/job.sh" \
		--state-out "$work/dump.json" >"$work/out" 2>"$work/err" &
else
	"$valgrind" --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--log-file="$work/valgrind.log" \
		"$ssrp_sim" cloud run --dir "$work/cloud" --job-command "$work/job.sh" \
		--state-out "$work/dump.json" >"$work/out" 2>"$work/err" &
fi
vg_pid=$!
i=0
while [ ! -s "$work/out" ] && [ $i -lt 3000 ]; do
	kill -0 "$vg_pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
[ -s "$work/out" ] || { echo "the server did not start under valgrind"; cat "$work/err" "$work/valgrind.log"; exit 1; }
. "$work/cloud/cloud.env"
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
req() { curl -s $ct --cacert "$SSRP_SIM_CA" -o /dev/null -w '%{http_code} ' -m 60 "$@"; }
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
login="https://login.microsoftonline.com/$SSRP_SIM_TENANT_ID/oauth2/v2.0/token"
curl -s $ct --cacert "$SSRP_SIM_CA" -m 60 "$login" -d grant_type=client_credentials \
	-d "client_id=$SSRP_SIM_APP_ID" --data-urlencode "client_secret@$SSRP_SIM_APP_SECRET_FILE" \
	-d scope=https://graph.microsoft.com/.default >"$work/token"
tok=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$work/token")
(umask 077 && printf 'Authorization: Bearer %s\n' "$tok" >"$work/app")
g="https://graph.microsoft.com/v1.0/users/$SSRP_SIM_USER_UPN"
codes=$(
	req -H @"$work/app" "$g"
	req "https://enterpriseregistration.windows.net/manage/$SSRP_SIM_TENANT_ID/device/$SSRP_SIM_DEVICE_ID?api-version=1.0" \
		--cert "$SSRP_SIM_DEVICE_CERT" --key "$SSRP_SIM_DEVICE_KEY" \
		-d '{"key":"111111-222222-333333-444444-555555-666666-000011-123453","kid":"6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","vol":"OSV"}'
	req -X POST "$(cat "$SSRP_SIM_WEBHOOK_URL_FILE")" -d '{"x":1}'
	req -H @"$work/adm" https://graph.microsoft.com/admin/state
	req -H @"$work/adm" https://graph.microsoft.com/admin/faults \
		--data-binary 'graph/*:429:1@1; graph/*:reset@2; graph/*:truncate@3; graph/*:slowbody:200@4'
	req -H @"$work/app" "$g"
	req -H @"$work/app" "$g"
	req -H @"$work/app" "$g"
	req -H @"$work/app" "$g"
	req "https://unknown.azure-automation.net/webhooks" --connect-to "unknown.azure-automation.net:443:127.0.0.1:$SSRP_SIM_PORT" -d x
)
echo "statuses: $codes"
sleep 1 # let the webhook job finish
kill -TERM "$vg_pid"
wait "$vg_pid"
rc=$?
vg_pid=
expected="200 200 202 200 200 429 000 200 200 404 "
failed=0
[ "$codes" = "$expected" ] || { echo "FAIL statuses: expected $expected"; failed=1; }
[ -s "$work/dump.json" ] || { echo "FAIL no state dump at exit"; failed=1; }
if [ "$rc" -ne 0 ]; then
	echo "FAIL the server exited with $rc:"
	cat "$work/valgrind.log" "$work/err"
	failed=1
fi
[ "$failed" -eq 0 ] || exit 1
echo "the simulated cloud server exited cleanly"
