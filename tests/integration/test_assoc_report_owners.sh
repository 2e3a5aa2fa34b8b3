#!/bin/sh
# `ssrp assoc report` and Graph's "limited information": an app that may
# read devices but not users gets each owner as id and @odata.type only.
# The report then fails naming the permission it lacks (User.Read.All),
# instead of listing devices with nameless owners; with User.Read.All it
# names the owner. The simulator serves owners as Graph does.
# usage: test_assoc_report_owners.sh SSRP_BINARY
set -u
. "$(dirname "$0")/test_lib.sh"
test_lib_init report-owners "$1"
demo_tenant --device-certs 0
upn=$(jq -r '.users[] | select(.assignedLicenses | length > 0) | .userPrincipalName' "$work/demo.json" | head -n 1)

# tenant ROLES...: the demo tenant, its device owned by $upn, the app holding ROLES
report() {
	roles=$(printf '%s\n' "$@" | jq -R . | jq -s -c .)
	jq --arg upn "$upn" --argjson roles "$roles" '
		.devices[0].registeredOwners = [.users[] | select(.userPrincipalName == $upn) | .id] |
		(.apps[] | select(.secretSha256 != null) | .roles) = $roles' \
		"$work/demo.json" >"$work/tenant.json"
	start_cloud --state "$work/tenant.json" --device-certs 0
	demo_app_config "$work/config.json"
	"$ssrp" assoc report --config "$work/config.json" --json >"$work/report.json" 2>"$work/report.err"
	rc=$?
	stop_cloud
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
