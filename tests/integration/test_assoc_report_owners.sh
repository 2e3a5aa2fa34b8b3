#!/bin/sh
# `ssrp assoc report` and Graph's "limited information": an app that may
# read devices but not users gets each owner as id and @odata.type only.
# The report then fails naming the permission it lacks (User.Read.All),
# instead of listing devices with nameless owners; with User.Read.All it
# names the owner. The simulator serves owners as Graph does.
# usage: test_assoc_report_owners.sh SSRP_BINARY
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"
command -v jq >/dev/null 2>&1 || { echo "jq is needed"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-report-owners.XXXXXX")
cleanup() {
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

start_cloud() {
	env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" "$@" 2>"$work/cloud.err") ||
		{ echo "cannot start the simulated cloud:"; cat "$work/cloud.err"; exit 1; }
	. "$env_file"
	ct=""
	for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
}
start_cloud --device-certs 0
curl -sS $ct --cacert "$SSRP_SIM_CA" -H "Authorization: Bearer $(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" \
	https://graph.microsoft.com/admin/state >"$work/demo.json" || { echo "no state"; exit 1; }
cp "$SSRP_SIM_CONFIG" "$work/demo-config.json"
"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
upn=$(jq -r '.users[] | select(.assignedLicenses | length > 0) | .userPrincipalName' "$work/demo.json" | head -n 1)

# tenant ROLES...: the demo tenant, its device owned by $upn, the app holding ROLES
report() {
	roles=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	jq --arg upn "$upn" --argjson roles "$roles" '
		.devices[0].registeredOwners = [.users[] | select(.userPrincipalName == $upn) | .id] |
		(.apps[] | select(.secretSha256 != null) | .roles) = $roles' \
		"$work/demo.json" >"$work/tenant.json"
	start_cloud --state "$work/tenant.json" --device-certs 0
	jq --slurpfile old "$work/demo-config.json" \
		'.app_id = $old[0].app_id | .app_secret_file = $old[0].app_secret_file' \
		"$SSRP_SIM_CONFIG" >"$work/config.json"
	"$ssrp" assoc report --config "$work/config.json" --json >"$work/report.json" 2>"$work/report.err"
	rc=$?
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	return $rc
}

if report Device.Read.All BitLockerKey.ReadBasic.All; then
	fail "without User.Read.All the report succeeds: $(cat "$work/report.json")"
elif grep -q "User.Read.All" "$work/report.err"; then
	pass "without User.Read.All: refused, naming it ($(head -c 300 "$work/report.err"))"
else
	fail "without User.Read.All: the error does not name it: $(cat "$work/report.err")"
fi
if report Device.Read.All User.Read.All BitLockerKey.ReadBasic.All &&
	grep -q "\"$upn\"" "$work/report.json"; then
	pass "with User.Read.All the owner $upn is listed"
else
	fail "with User.Read.All: $(cat "$work/report.err" "$work/report.json")"
fi
[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
