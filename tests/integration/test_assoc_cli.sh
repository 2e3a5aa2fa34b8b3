#!/bin/sh
# `ssrp assoc handle|run|batch` against the simulated cloud's demo tenant
# (service account with a refresh token, the "assoc" member in config.json):
# the simulator's webhook job (--job-command running `ssrp assoc handle`) and
# a direct `ssrp assoc handle` decide the same; the webhook job adds the
# owners, a second run says already and /admin/state shows each owner once;
# an unknown user is reported while the others are added; dry run; the exit
# codes (0, 1, 2 usage and secrets on the command line, 6 malformed input);
# the audit file. Secrets reach curl from files only (-K, -H @file).
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
command -v jq >/dev/null 2>&1 || { echo "jq is needed"; exit 77; }
work=$(mktemp -d)
trap '"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1; rm -rf "$work"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
expect() { # expect NAME WANT GOT
	if [ "$3" = "$2" ]; then pass "$1"; else fail "$1: got '$3', expected '$2'"; fi
}
contains() { # contains NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then pass "$1"; else
		fail "$1: '$3' not in $2"; sed 's/^/  | /' "$2" | head -8; fi
}

# The runbook: `ssrp assoc handle`, in dry-run mode while $work/dry exists.
cat >"$work/job.sh" <<EOS
#!/bin/sh
if [ -e "$work/dry" ]; then exec "$ssrp" assoc handle --config "$work/cloud/config.json" --json --dry-run
else exec "$ssrp" assoc handle --config "$work/cloud/config.json" --json; fi
EOS
chmod 700 "$work/job.sh"
env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" --job-command "$work/job.sh" 2>"$work/err") ||
	{ echo "cannot start the simulated cloud:"; cat "$work/err"; exit 1; }
. "$env_file"
cfg=$SSRP_SIM_CONFIG
audit=$(jq -r .assoc.audit "$cfg")
ct=""
for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
(umask 077 && printf 'url = "%s"\n' "$(cat "$SSRP_SIM_WEBHOOK_URL_FILE")" >"$work/hook.curl")

body=$(jq -cn --arg d "$SSRP_SIM_DEVICE_ID" \
	'{deviceId:$d,users:["CONTOSO\\alice","bob@contoso.example","nobody@contoso.example"],deviceName:"DESKTOP-SSRP01"}')
webhook_data=$(jq -cn --arg b "$body" '{WebhookName:"ssrp-association",RequestHeader:{},RequestBody:$b}')

# webhook JOB-OUTPUT-FILE: POST the body to the webhook, wait for the job
webhook() {
	code=$(curl -sS $ct --cacert "$SSRP_SIM_CA" -K "$work/hook.curl" -X POST -d "$body" \
		-o "$work/hook.json" -w '%{http_code}')
	[ "$code" = 202 ] || { fail "webhook POST answered $code"; return; }
	job=$(jq -r '.JobIds[0]' "$work/hook.json")
	i=0
	while :; do
		curl -sS $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/job.json" \
			"https://graph.microsoft.com/admin/jobs/$job"
		st=$(jq -r .status "$work/job.json")
		[ "$st" = Completed ] || [ "$st" = Failed ] || [ "$st" = completed ] || [ "$st" = failed ] && break
		i=$((i + 1))
		[ $i -lt 300 ] || { fail "job $job still $st"; break; }
		sleep 0.1
	done
	jq -r .output "$work/job.json" | grep '^{' >"$1"
}
# the decision without time and requester, one per line, sorted
decisions() { jq -c '{user,upn,relation,outcome,licence,licence_plan,dry_run}' "$1" | sort; }

# 1. dry run: the webhook job and the direct command decide alike
touch "$work/dry"
webhook "$work/job-dry.jsonl"
printf '%s' "$webhook_data" | "$ssrp" assoc handle --config "$cfg" --json --dry-run >"$work/direct-dry.jsonl"
expect "dry run: direct handle exits 1 (an unknown user)" 1 $?
decisions "$work/job-dry.jsonl" >"$work/a"
decisions "$work/direct-dry.jsonl" >"$work/b"
expect "webhook job and direct handle decide the same" "" "$(diff "$work/a" "$work/b")"
expect "three decisions" 3 "$(wc -l <"$work/a" | tr -d ' ')"
contains "dry run would add alice" "$work/direct-dry.jsonl" '"upn":"alice@contoso.example","relation":"registeredOwners","outcome":"would-add"'
curl -sS $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/state.json" "https://graph.microsoft.com/admin/state"
expect "dry run changed nothing" 0 "$(jq --arg d "$SSRP_SIM_DEVICE_ID" '[.devices[]|select(.deviceId==$d)|.registeredOwners // []|length]|add' "$work/state.json")"

# 2. for real through the webhook: alice and bob added, nobody unknown
rm -f "$work/dry"
webhook "$work/job.jsonl"
contains "webhook adds alice" "$work/job.jsonl" '"user":"CONTOSO\\alice","upn":"alice@contoso.example","relation":"registeredOwners","outcome":"added","licence":"ok","licence_plan":"AAD_PREMIUM"'
contains "webhook adds bob" "$work/job.jsonl" '"upn":"bob@contoso.example","relation":"registeredOwners","outcome":"added","licence":"ok","licence_plan":"INTUNE_A"'
contains "unknown user reported" "$work/job.jsonl" '"user":"nobody@contoso.example","upn":"nobody@contoso.example","relation":"registeredOwners","outcome":"unknown-user"'
contains "requester is the webhook" "$audit" '"requester":"webhook:ssrp-association"'

# 3. the direct command now: already, nothing re-added
printf '%s' "$webhook_data" | "$ssrp" assoc handle --config "$cfg" >"$work/direct.txt"
expect "direct handle exits 1 (an unknown user)" 1 $?
contains "human line" "$work/direct.txt" "alice@contoso.example → DESKTOP-SSRP01: already an owner; licence ok (AAD_PREMIUM)"
"$ssrp" assoc run --config "$cfg" --device "$SSRP_SIM_DEVICE_ID" --user 'CONTOSO\alice' --user bob@contoso.example >"$work/run.txt"
expect "run: all already, exit 0" 0 $?
contains "run says already" "$work/run.txt" "bob@contoso.example → DESKTOP-SSRP01: already an owner"
curl -sS $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/state.json" "https://graph.microsoft.com/admin/state"
expect "each owner once" 2 "$(jq --arg d "$SSRP_SIM_DEVICE_ID" '[.devices[]|select(.deviceId==$d)|.registeredOwners|unique|length]|add' "$work/state.json")"
expect "no duplicates" 2 "$(jq --arg d "$SSRP_SIM_DEVICE_ID" '[.devices[]|select(.deviceId==$d)|.registeredOwners|length]|add' "$work/state.json")"

# 4. exit codes and refusals
printf '{"RequestBody":"{\\"deviceId\\":\\"nope\\",\\"users\\":[\\"a@b\\"]}"}' |
	"$ssrp" assoc handle --config "$cfg" >/dev/null 2>"$work/err"
expect "malformed WebhookData exits 6" 6 $?
contains "the member is named" "$work/err" '"deviceId" must be a GUID'
contains "a bad request is audited" "$audit" '"event":"bad-request"'
"$ssrp" assoc run --config "$cfg" --user a@b >/dev/null 2>&1
expect "run without --device exits 2" 2 $?
"$ssrp" assoc run --config "$cfg" --device "$SSRP_SIM_DEVICE_ID" --user a@b --password x >/dev/null 2>"$work/err"
expect "--password refused" 2 $?
contains "secret hint" "$work/err" "never taken on the command line"
# The command reads no environment: SSRP_CONFIG names nothing to it.
SSRP_CONFIG=$cfg "$ssrp" assoc run --device "$SSRP_SIM_DEVICE_ID" --user a@b >/dev/null 2>"$work/err"
expect "no configuration exits 2" 2 $?
contains "no configuration: says how to name one" "$work/err" "give --config FILE"
printf '%s,alice@contoso.example\nnot-a-guid,bob@contoso.example\n' "$SSRP_SIM_DEVICE_ID" >"$work/bad.csv"
"$ssrp" assoc batch --config "$cfg" --in "$work/bad.csv" >/dev/null 2>"$work/err"
expect "malformed batch file exits 6" 6 $?
contains "line number named" "$work/err" "line 2"
printf '{"deviceId":"%s","users":["CONTOSO\\\\bob"]}\n' "$SSRP_SIM_DEVICE_ID" >"$work/ok.jsonl"
"$ssrp" assoc batch --config "$cfg" --in "$work/ok.jsonl" --summary-json >"$work/sum.json" 2>"$work/err"
expect "batch exits 0" 0 $?
expect "summary: already" 1 "$(jq .already "$work/sum.json")"
contains "summary on stderr" "$work/err" "HTTP requests"
contains "batch requester" "$audit" '"requester":"batch:ok.jsonl"'

# 5. nothing secret in the audit trail or the outputs
for f in "$SSRP_SIM_APP_SECRET_FILE" "$SSRP_SIM_SERVICE_PASSWORD_FILE" "$SSRP_SIM_WEBHOOK_URL_FILE"; do
	s=$(cat "$f")
	if grep -qF -- "$s" "$audit" "$work/job.jsonl" "$work/direct.txt"; then fail "a secret of $f leaked"; fi
done
rt=$(cat "$SSRP_SIM_SERVICE_REFRESH_TOKEN_FILE")
if grep -qF -- "$rt" "$audit"; then fail "the refresh token leaked"; fi
expect "refresh token file stays 0600" 600 "$(stat -c %a "$SSRP_SIM_SERVICE_REFRESH_TOKEN_FILE")"
expect "audit file is 0600" 600 "$(stat -c %a "$audit")"

[ $failures -eq 0 ] && echo "all passed" || echo "$failures failed"
[ $failures -eq 0 ]
