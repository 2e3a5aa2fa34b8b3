#!/bin/sh
# A simulated tenant for the escrow report (tests/integration/
# test_assoc_report.sh, bench/verify.sh) on standard output: the users and
# apps of DEMO (a state from GET /admin/state of the demo tenant), the app
# with a secret holding only Device.Read.All, User.Read.All (to see owners
# beyond id: "limited information") and BitLockerKey.ReadBasic.All,
# and N devices in mixed states, by device number i:
#   trustType AzureAd, ServerAd, Workplace by i % 3; disabled when i % 11 == 0;
#   no owner when i % 5 == 0, two when i % 10 == 1, else one;
#   no key when i % 7 == 0, 150 + i % 3 keys when i % 200 == 1, else 1 + i % 3;
#   device 3's display name needs escaping (a CSV formula, HTML markup).
# usage: make_report_tenant.sh DEMO N
set -eu
demo=$1
N=$2
t=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-tenant.XXXXXX")
trap 'rm -rf "$t"' EXIT
jq -r '.users[].id' "$demo" >"$t/users"
awk -v n="$N" -v users="$(tr '\n' ' ' <"$t/users")" '
function pw(   k, s) { s = ""; for (k = 0; k < 8; k++) s = s (k ? "-" : "") sprintf("%06d", 11 * int(rand() * 65535)); return s }
function key(dev, j, idx) {
	printf "%s{\"id\":\"%08x-%04x-4000-8000-00000000c0de\",\"deviceId\":\"%s\",\"key\":\"%s\",\"volumeType\":1,\"createdDateTime\":\"2026-%02d-%02dT%02d:%02d:00Z\"}", nk++ ? "," : "", idx, j, dev, pw(), 1 + j % 12, 1 + j % 28, j % 24, j % 60 > "/dev/stderr"
}
BEGIN {
	srand(7); nu = split(users, u, " ")
	printf "["
	for (i = 0; i < n; i++) {
		dev = sprintf("%08x-d000-4000-8000-000000000000", i + 1)
		trust = i % 3 == 0 ? "AzureAd" : i % 3 == 1 ? "ServerAd" : "Workplace"
		name = i == 3 ? "=1+1 \\\"<b>quoted</b>\\\", x" : sprintf("PC-%04d", i)
		owners = i % 5 == 0 ? "" : i % 10 == 1 ? sprintf("\"%s\",\"%s\"", u[1 + i % nu], u[1 + (i + 1) % nu]) : sprintf("\"%s\"", u[1 + i % nu])
		printf "%s{\"id\":\"%08x-0b00-4000-8000-000000000000\",\"deviceId\":\"%s\",\"displayName\":\"%s\",\"trustType\":\"%s\",\"accountEnabled\":%s,\"registeredOwners\":[%s],\"registeredUsers\":[]}", i ? "," : "", i + 1, dev, name, trust, i % 11 == 0 ? "false" : "true", owners
		nkeys = i % 7 == 0 ? 0 : i % 200 == 1 ? 150 + i % 3 : 1 + i % 3
		for (j = 0; j < nkeys; j++) key(dev, j, i + 1)
	}
	printf "]"
}' >"$t/devices.json" 2>"$t/keys.part"
printf '[%s]' "$(cat "$t/keys.part")" >"$t/keys.json"
jq --slurpfile d "$t/devices.json" --slurpfile k "$t/keys.json" '
	.devices = $d[0] | .recoveryKeys = $k[0] | .audit = [] |
	(.apps[] | select(.secretSha256 != null) | .roles) = ["Device.Read.All", "User.Read.All", "BitLockerKey.ReadBasic.All"]' \
	"$demo"
