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
# With REPORTS, the devices' reports as ssrp-assocd keeps them: device i
# reported when i % 4 == 2, its protectors the ids of its first (up to 3)
# keys, and when i % 8 == 6 one more that Entra lacks (state "not-yet");
# plus 3 reports of devices not in the directory and 2 entries that are
# not reports. With AUDIT, an audit log for the last 30 days seen from
# NOW (Unix seconds): "Read BitLocker key" entries in Graph's
# directoryAudit shape 1 to 28 days old (one per device i % 9 == 4) and 31
# to 60 days old (i % 13 == 5), the simulated tenant's shape for i % 50 ==
# 7 (10 days old), other activities, and lines that are not entries.
# usage: make_report_tenant.sh DEMO N [REPORTS [AUDIT NOW]]
set -eu
demo=$1
N=$2
reports=${3:-}
audit=${4:-}
now=${5:-0}
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

[ -n "$reports" ] && awk -v n="$N" '
function id(i, j) { return sprintf("{%08X-%04X-4000-8000-00000000C0DE}", i + 1, j) }
BEGIN {
	printf "{\"version\":1,\"devices\":["
	m = 0
	for (i = 0; i < n; i++) {
		if (i % 4 != 2) continue
		nkeys = i % 7 == 0 ? 0 : i % 200 == 1 ? 150 + i % 3 : 1 + i % 3
		p = ""
		for (j = 0; j < nkeys && j < 3; j++) p = p (j ? "," : "") "\"" id(i, j) "\""
		if (i % 8 == 6) p = p (p != "" ? "," : "") sprintf("\"{%08X-FFFF-4000-8000-00000000DEAD}\"", i + 1)
		printf "%s{\"deviceId\":\"%08x-d000-4000-8000-000000000000\",\"state\":\"%s\",\"verifiedAt\":1764900000,\"receivedAt\":1764900100,\"protectors\":[%s]}", m++ ? "," : "", i + 1, i % 8 == 6 ? "not-yet" : "compliant", p
	}
	for (k = 1; k <= 3; k++)
		printf ",{\"deviceId\":\"%08x-dead-4000-8000-000000000000\",\"state\":\"compliant\",\"verifiedAt\":0,\"receivedAt\":1764900100,\"protectors\":[]}", k
	printf ",{\"deviceId\":\"not-a-device\",\"state\":\"compliant\",\"receivedAt\":1,\"protectors\":[]}"
	printf ",{\"deviceId\":\"00000001-d000-4000-8000-000000000000\",\"state\":\"compliant\",\"receivedAt\":1,\"protectors\":[\"{1234}\"]}"
	printf "]}\n"
}' >"$reports"
[ -n "$audit" ] && awk -v n="$N" -v now="$now" '
function iso(t,   cmd, s) { cmd = "date -u -d @" t " +%Y-%m-%dT%H:%M:%SZ"; cmd | getline s; close(cmd); return s }
BEGIN {
	day = 86400
	for (i = 0; i < n; i++) {
		dev = sprintf("%08x-d000-4000-8000-000000000000", i + 1)
		if (i % 9 == 4)
			printf "{\"id\":\"a%d\",\"category\":\"KeyManagement\",\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"%s\",\"result\":\"success\",\"targetResources\":[{\"id\":\"%s\"}]}\n", i, iso(now - (1 + i % 28) * day + 3600), dev
		if (i % 13 == 5)
			printf "{\"id\":\"b%d\",\"category\":\"KeyManagement\",\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"%s\"}\n", i, iso(now - (31 + i % 30) * day)
		if (i % 50 == 7)
			printf "{\"time\":\"%s\",\"actor\":\"alice@contoso.example\",\"action\":\"Read BitLocker key\",\"target\":\"k\",\"deviceId\":\"%s\"}\n", iso(now - 10 * day), dev
		if (i % 17 == 3)
			printf "{\"activityDisplayName\":\"Delete BitLocker key\",\"activityDateTime\":\"%s\"}\n", iso(now - 2 * day)
		if (i % 100 == 11)
			printf "not json at all\n[1,2]\n{\"activityDisplayName\":\"Read BitLocker key\",\"activityDateTime\":\"yesterday\"}\n\n"
	}
}' >"$audit"
exit 0
