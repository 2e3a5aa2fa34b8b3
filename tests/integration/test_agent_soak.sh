#!/bin/sh
# The device agent under a storm of faults: 30 simulated devices x 10
# `ssrp agent run` each (300 runs), against the simulated cloud answering
# about 30% of the requests to the Device Registration Service, the token
# endpoint and Graph (which the association service calls) with a fault
# from a fixed-seed script: 429 with Retry-After 0.3 s, 500/502/503/504,
# connection resets, truncated bodies.
#
# Each device has its own volume image (created with data, protection off,
# as a newly encrypted volume is before the agent), journal and
# configuration (DIR/devices/<deviceId>.json from `ssrp sim cloud start
# --device-certs 30`, with its primary user added). Devices are split over
# a few workers running side by side, each with its own software TPM (swtpm
# serves one client at a time). In its sequence each device's runs are:
# run 0 the first run; run 6 with --force-association; run 4 after a
# recovery: the volume is unlocked with its escrowed recovery password, so
# the runs from then on must rotate it. A run that exits 11 (not yet) is
# simply followed by the device's next run; after the 300 runs, a device not
# yet compliant is run again (faults still on) at most 10 times.
# At the end:
#   - every device is compliant (`ssrp agent status`: no network), its
#     volume protected with one TPM protector and exactly one recovery
#     password, that password escrowed for the device (GET /admin/state)
#     and unlocking the volume with its data intact;
#   - every rotated device no longer has its used recovery password;
#   - every device has exactly its primary user as registered owner;
#   - faults did fire, the request log has no early retry, no run exited
#     with anything but 0 or 11, and no recovery password appears in any
#     output, the request log or the service's audit trail.
# usage: test_agent_soak.sh SSRP_BINARY. SSRP_SOAK_FAULTS replaces the fault
# script, SSRP_SOAK_WORKERS (6) the parallelism, SSRP_TEST_KEEP=1 keeps the
# files. Needs swtpm and jq (skipped with 77 otherwise).
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
command -v jq >/dev/null 2>&1 || { echo "jq is needed"; exit 77; }
command -v swtpm >/dev/null 2>&1 || { echo "swtpm is needed"; exit 77; }
"$ssrp" agent --help >/dev/null 2>&1 || { echo "this ssrp has no agent command"; exit 1; }

N=30
RUNS=10
W=${SSRP_SOAK_WORKERS:-6}
TENANT_ID=5a5a5a5a-0000-4000-8000-00000000a9e7
DOMAIN=contoso.example
APP_ID=5b5b5b5b-0000-4000-8000-0000000a9e71
PUBLIC_ID=5b5b5b5b-0000-4000-8000-0000000a9e72
SVC_ID=5c5c5c5c-0000-4000-9000-0000000a9e71
SKU=078d2b04-f1bd-4111-bbd4-b4b1b354cef4
PLAN=41781fb2-bc02-4b7c-bd55-b576c07bb09d
uid() { printf '5c5c5c5c-0000-4000-8000-%012d' "$1"; }
oid() { printf '5d5d5d5d-0000-4000-8000-%012d' "$1"; }
did() { printf '5e5e5e5e-0000-4000-8000-%012d' "$1"; }
# About 30% of each service's requests get a fault (the first rule that
# fires decides: 1 - 0.92*0.95*0.96*0.97*0.97*0.96*0.96 = 0.30 for DRS).
FAULTS=${SSRP_SOAK_FAULTS:-"drs/*:429:0.3@rate=0.08,seed=31;drs/*:503:0.3@rate=0.05,seed=32;\
drs/*:500@rate=0.04,seed=33;drs/*:502@rate=0.03,seed=34;drs/*:504@rate=0.03,seed=35;\
drs/*:reset@rate=0.04,seed=36;drs/*:truncate@rate=0.04,seed=37;\
graph/*:429:0.3@rate=0.06,seed=11;graph/*:503:0.3@rate=0.05,seed=12;graph/*:500@rate=0.04,seed=13;\
graph/*:502@rate=0.03,seed=14;graph/*:504@rate=0.03,seed=15;graph/*:reset@rate=0.05,seed=16;\
graph/*:truncate@rate=0.05,seed=17;\
login/*:429:0.3@rate=0.07,seed=21;login/*:503@rate=0.07,seed=22;login/*:500@rate=0.06,seed=23;\
login/*:reset@rate=0.06,seed=24;login/*:truncate@rate=0.07,seed=25"}

work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-agent-soak.XXXXXX")
serve_pid=""
cleanup() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1
	w=0
	while [ $w -lt "$W" ]; do "$ssrp_sim" swtpm stop --dir "$work/tpm$w" >/dev/null 2>&1; w=$((w + 1)); done
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
failures=0
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
show() { for f in "$@"; do [ -s "$f" ] && sed 's/^/  | /' "$f" | head -12; done; }
start=$(date +%s)

# ---- the tenant: a service account, 30 devices, one primary user each -------
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/app-secret"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/svc-password"
app_hex=$(sha256sum <"$work/app-secret" | cut -d' ' -f1)
svc_hex=$(sha256sum <"$work/svc-password" | cut -d' ' -f1)
{
	printf '{"tenant":{"id":"%s","domain":"%s"},\n' "$TENANT_ID" "$DOMAIN"
	printf '"skus":[{"skuId":"%s","skuPartNumber":"AAD_PREMIUM","servicePlans":[{"servicePlanId":"%s","servicePlanName":"AAD_PREMIUM"}]}],\n' "$SKU" "$PLAN"
	printf '"apps":[{"appId":"%s","displayName":"ssrp association","secretSha256":"%s","roles":["User.Read.All","Device.Read.All","LicenseAssignment.Read.All"]},' "$APP_ID" "$app_hex"
	printf '{"appId":"%s","displayName":"ssrp public client","publicClient":true}],\n' "$PUBLIC_ID"
	printf '"users":[{"id":"%s","userPrincipalName":"ssrp-svc@%s","displayName":"ssrp service","passwordSha256":"%s","roles":["Intune Administrator","License Administrator"]}\n' "$SVC_ID" "$DOMAIN" "$svc_hex"
	i=0
	while [ $i -lt $N ]; do
		printf ',{"id":"%s","userPrincipalName":"user%d@%s","displayName":"User %d","onPremisesSamAccountName":"user%d","onPremisesDomainName":"corp.contoso.example","usageLocation":"US","assignedLicenses":["%s"]}\n' \
			"$(uid $i)" $i "$DOMAIN" $i $i "$SKU"
		i=$((i + 1))
	done
	printf '],\n"devices":[\n'
	i=0
	while [ $i -lt $N ]; do
		[ $i -gt 0 ] && printf ','
		printf '{"id":"%s","deviceId":"%s","displayName":"PC-%04d","accountEnabled":true}\n' "$(oid $i)" "$(did $i)" $i
		i=$((i + 1))
	done
	printf ']}\n'
} >"$work/tenant.json"
umask 022

env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" --state "$work/tenant.json" --device-certs $N \
	2>"$work/sim-start.err") || { echo "cannot start the simulated cloud:"; cat "$work/sim-start.err"; exit 1; }
. "$env_file"
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
req() { # req METHOD URL [curl args...]: the HTTP status; body in $work/body
	m=$1 u=$2
	shift 2
	curl -sS $ct --cacert "$SSRP_SIM_CA" -o "$work/body" -w '%{http_code}' -X "$m" "$@" "$u" 2>"$work/curlerr"
}

# The service account's refresh token (as `ssrp assoc login` would write it), before any fault.
st=$(req POST "https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token" -d grant_type=password \
	-d "client_id=$PUBLIC_ID" --data-urlencode "username=ssrp-svc@$DOMAIN" \
	--data-urlencode "password@$work/svc-password" \
	--data-urlencode "scope=https://graph.microsoft.com/.default offline_access")
[ "$st" = 200 ] || { echo "the service account's sign-in answered $st"; show "$work/body" "$work/curlerr"; exit 1; }
(umask 077 && jq -r .refresh_token "$work/body" >"$work/service-refresh-token")
rm -f "$work/body"
jq --arg app "$APP_ID" --arg sf "$work/app-secret" --arg pub "$PUBLIC_ID" \
	--arg rt "$work/service-refresh-token" --arg audit "$work/assoc-audit.jsonl" \
	'.app_id=$app | .app_secret_file=$sf | .public_client_id=$pub | .refresh_token_file=$rt |
	 .assoc.domains={"CONTOSO":"contoso.example"} | .assoc.licence="check" | .assoc.audit=$audit' \
	"$SSRP_SIM_CONFIG" >"$work/service.json" || { echo "cannot write the service's configuration"; exit 1; }
# The service's workers share each credential, so their token requests go
# one at a time and none lands inside another's Retry-After.
"$ssrp_assocd" --config "$work/service.json" --port-file "$work/assoc.port" \
	>"$work/assoc.out" 2>"$work/assoc.err" &
serve_pid=$!
i=0
while [ ! -s "$work/assoc.port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$work/assoc.port" ] || { echo "ssrp assoc serve did not start:"; cat "$work/assoc.err"; exit 1; }

# ---- the devices: configuration, volume with data, journal; the TPMs --------
head -c 32768 /dev/urandom >"$work/data"
"$ssrp_sim" volume create --volume "sim:$work/template.img" --size 4M 2>"$work/err" &&
	"$ssrp" volume write --volume "bitlk:$work/template.img?rw" --offset 512K --in "$work/data" 2>"$work/err" ||
	{ echo "cannot make the volume:"; cat "$work/err"; exit 1; }
i=0
while [ $i -lt $N ]; do
	d=$work/dev$i
	mkdir -p "$d"
	if [ $((i % 2)) -eq 0 ]; then user="CONTOSO\\user$i"; else user="user$i@$DOMAIN"; fi
	jq --arg u "$user" '.device.primary_users=[$u]' "$SSRP_SIM_DEVICE_CERT_DIR/$(did $i).json" \
		>"$d/config.json" 2>"$work/err" || { echo "no configuration for device $i:"; cat "$work/err"; exit 1; }
	cp "$work/template.img" "$d/os.img"
	i=$((i + 1))
done
w=0
while [ $w -lt "$W" ]; do
	"$ssrp_sim" swtpm start --dir "$work/tpm$w" >"$work/tpm$w.spec" 2>"$work/err" ||
		{ echo "cannot start swtpm:"; cat "$work/err"; exit 1; }
	w=$((w + 1))
done

st=$(req POST https://graph.microsoft.com/admin/faults -H @"$work/adm" --data-binary "$FAULTS")
case $st in 200 | 204) ;; *) echo "POST /admin/faults answered $st"; show "$work/body"; exit 1 ;; esac

# ---- the runs -----------------------------------------------------------------
# escrowed_pw I ID: the password the cloud holds for device I's protector ID.
escrowed_pw() {
	curl -sS -f $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" https://graph.microsoft.com/admin/state 2>/dev/null |
		jq -r --arg d "$(did "$1")" --arg id "$2" \
			'.recoveryKeys[] | select((.deviceId|ascii_downcase)==$d and
			 (.id|ascii_upcase|ltrimstr("{")|rtrimstr("}"))==($id|ascii_upcase|ltrimstr("{")|rtrimstr("}"))) | .key' |
		head -n 1
}
rp_ids() { # rp_ids IMG: the recovery protectors' ids
	"$ssrp" volume status --volume "bitlk:$1?rw" --json 2>/dev/null |
		jq -r '.protectors[] | select(.type=="recovery password") | .id|ascii_upcase|ltrimstr("{")|rtrimstr("}")'
}
# run_device I R TPM LOG: one run of device I (run number R).
run_device() {
	i=$1 r=$2 tpm=$3 log=$4
	d=$work/dev$i
	force=""
	[ "$r" -eq 6 ] && force=--force-association
	if [ "$r" -eq 4 ]; then # a recovery: the user typed the escrowed password
		id=$(rp_ids "$d/os.img" | head -n 1)
		pw=$([ -n "$id" ] && escrowed_pw "$i" "$id")
		if [ -n "$pw" ]; then
			(umask 077 && printf '%s\n' "$pw" >"$d/pw")
			if "$ssrp" volume unlock --tpm "$tpm" --volume "bitlk:$d/os.img?rw" \
				--recovery-password-file "$d/pw" >/dev/null 2>"$d/unlock.err"; then
				echo "$id" >"$d/used"
			else
				echo "device $i: recovery unlock failed: $(cat "$d/unlock.err")" >>"$log"
			fi
			rm -f "$d/pw"
		fi
	fi
	"$ssrp" agent run --config "$d/config.json" --volume "bitlk:$d/os.img?rw" --tpm "$tpm" \
		--journal "$d/journal" --json $force >"$d/report.json" 2>"$d/agent.err" </dev/null
	rc=$?
	cat "$d/report.json" "$d/agent.err" >>"$d/all.out"
	echo "$i $r $rc $(jq -r '.run.httpRequests // "?"' "$d/report.json" 2>/dev/null)" >>"$log"
	echo "$rc" >"$d/last"
}
worker() { # worker W: the devices i with i % W == w, RUNS rounds
	w=$1
	tpm=$(cat "$work/tpm$w.spec")
	r=0
	while [ $r -lt $RUNS ]; do
		i=$w
		while [ $i -lt $N ]; do
			run_device $i $r "$tpm" "$work/runs$w.log"
			i=$((i + W))
		done
		r=$((r + 1))
	done
	# not yet compliant: run again (faults still on), at most 10 times
	i=$w
	while [ $i -lt $N ]; do
		extra=0
		while [ "$(cat "$work/dev$i/last")" != 0 ] && [ $extra -lt 10 ]; do
			run_device $i $((RUNS + extra)) "$tpm" "$work/extra$w.log"
			extra=$((extra + 1))
		done
		i=$((i + W))
	done
}
pids=""
w=0
while [ $w -lt "$W" ]; do
	: >"$work/runs$w.log"
	: >"$work/extra$w.log"
	worker $w &
	pids="$pids $!"
	w=$((w + 1))
done
for p in $pids; do wait "$p"; done
req POST https://graph.microsoft.com/admin/faults -H @"$work/adm" --data-binary "" >/dev/null
runs_end=$(date +%s)

cat "$work"/runs*.log >"$work/runs.log"
cat "$work"/extra*.log >"$work/extra.log"
total=$(grep -c '^[0-9]' "$work/runs.log")
extra=$(grep -c '^[0-9]' "$work/extra.log")
ok=$(awk '$3 == 0' "$work/runs.log" | wc -l | tr -d ' ')
notyet=$(awk '$3 == 11' "$work/runs.log" | wc -l | tr -d ' ')
other=$(cat "$work/runs.log" "$work/extra.log" | awk '/^[0-9]/ && $3 != 0 && $3 != 11' | wc -l | tr -d ' ')
echo "$total runs: $ok compliant, $notyet not yet, $other other; $extra extra run(s) to converge;" \
	"$((runs_end - start)) s"
[ "$total" -eq $((N * RUNS)) ] || fail "$total runs made, not $((N * RUNS))"
if [ "$other" -ne 0 ]; then
	fail "$other run(s) exited with something other than 0 or 11"
	cat "$work/runs.log" "$work/extra.log" | awk '/^[0-9]/ && $3 != 0 && $3 != 11' | head -5
	grep -v '^[0-9]' "$work/runs.log" "$work/extra.log" | head -5
	first=$(cat "$work/runs.log" "$work/extra.log" | awk '/^[0-9]/ && $3 != 0 && $3 != 11 {print $1; exit}')
	show "$work/dev$first/agent.err"
fi

# ---- the end state ------------------------------------------------------------
curl -sS -f $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/state.json" \
	https://graph.microsoft.com/admin/state 2>"$work/curlerr" || { fail "GET /admin/state"; show "$work/curlerr"; }
chmod 600 "$work/state.json"
bad=0
rotated=0
i=0
while [ $i -lt $N ]; do
	d=$work/dev$i
	tpm=$(cat "$work/tpm$((i % W)).spec")
	why=""
	"$ssrp" agent status --config "$d/config.json" --volume "bitlk:$d/os.img?rw" --journal "$d/journal" --json \
		>"$d/status.json" 2>"$d/status.err"
	sst=$?
	state=$(jq -r .state "$d/status.json" 2>/dev/null)
	[ "$sst" = 0 ] && [ "$state" = compliant ] || why="$why status $sst/$state;"
	"$ssrp" volume status --volume "bitlk:$d/os.img?rw" --json >"$d/volume.json" 2>/dev/null
	[ "$(jq -r .protection "$d/volume.json")" = on ] || why="$why protection off;"
	n_tpm=$(jq '[.protectors[]|select(.type=="TPM")]|length' "$d/volume.json")
	n_rp=$(jq '[.protectors[]|select(.type=="recovery password")]|length' "$d/volume.json")
	[ "$n_tpm" = 1 ] && [ "$n_rp" = 1 ] || why="$why $n_tpm TPM and $n_rp recovery protectors;"
	[ "$(jq -r .last_unlock_recovery "$d/volume.json")" = false ] || why="$why rotation still pending;"
	id=$(jq -r '.protectors[]|select(.type=="recovery password")|.id|ascii_upcase|ltrimstr("{")|rtrimstr("}")' \
		"$d/volume.json" | head -n 1)
	pw=$(jq -r --arg d "$(did $i)" --arg id "$id" '.recoveryKeys[] | select((.deviceId|ascii_downcase)==$d and
		(.id|ascii_upcase|ltrimstr("{")|rtrimstr("}"))==$id) | .key' "$work/state.json" | head -n 1)
	if [ -z "$pw" ]; then why="$why recovery password {$id} not escrowed;"; else
		(umask 077 && printf '%s\n' "$pw" >"$d/pw")
		cp "$d/os.img" "$d/check.img"
		"$ssrp" volume read --volume "bitlk:$d/check.img?rw" --recovery-password-file "$d/pw" --offset 512K \
			--length 32K --out "$d/read" >/dev/null 2>"$d/read.err" && cmp -s "$d/read" "$work/data" ||
			why="$why the escrowed password does not open the volume with its data;"
		rm -f "$d/pw" "$d/check.img" "$d/read"
	fi
	if [ -s "$d/used" ]; then
		rotated=$((rotated + 1))
		[ "$(cat "$d/used")" != "$id" ] || why="$why the used recovery password is still there;"
	fi
	owners=$(jq -r --arg d "$(did $i)" '[.devices[]|select(.deviceId==$d)|.registeredOwners // []|.[]]|sort|join(",")' \
		"$work/state.json")
	[ "$owners" = "$(uid $i)" ] || why="$why owners '$owners', not $(uid $i);"
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		[ $bad -le 5 ] && { echo "device $i:$why"; show "$d/status.json" "$d/agent.err"; }
	fi
	i=$((i + 1))
done
[ $bad -eq 0 ] || fail "$bad of $N devices are not where they should be"
echo "$rotated device(s) rotated a used recovery password"
[ $rotated -ge $((N / 2)) ] || fail "only $rotated devices went through a rotation"

faults=$(grep -v '"path":"/admin/' "$SSRP_SIM_LOG" | grep -c '"fault":"')
early=$(grep -c '"early_retry":true' "$SSRP_SIM_LOG")
reqs=$(grep -vc '"path":"/admin/' "$SSRP_SIM_LOG")
drs_faults=$(grep '"host":"enterpriseregistration' "$SSRP_SIM_LOG" | grep -c '"fault":"')
echo "request log: $reqs requests, $faults faults ($drs_faults on DRS), $early early retries"
[ "$faults" -gt 0 ] && [ "$drs_faults" -gt 0 ] || fail "no fault fired"
[ "$early" -eq 0 ] || { fail "$early early retries"; grep '"early_retry":true' "$SSRP_SIM_LOG" | head -3; }

# No recovery password (any key the cloud holds) in any output.
jq -r '.recoveryKeys[].key' "$work/state.json" >"$work/keys"
cat "$work"/dev*/all.out "$work/assoc.out" "$work/assoc.err" "$SSRP_SIM_LOG" "$work/runs.log" \
	"$work/extra.log" "$work/assoc-audit.jsonl" >"$work/everything" 2>/dev/null
if grep -qF -f "$work/keys" "$work/everything"; then fail "a recovery password is in an output"; fi
for s in "$work/app-secret" "$work/svc-password" "$work/service-refresh-token"; do
	grep -qF -- "$(cat "$s")" "$work/everything" && fail "the secret of $(basename "$s") is in an output"
done
rm -f "$work/keys" "$work/state.json"
echo "$(($(date +%s) - start)) s in all"
echo "$failures failure(s)"
[ "$failures" -eq 0 ]
