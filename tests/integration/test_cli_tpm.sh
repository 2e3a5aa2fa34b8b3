#!/bin/sh
# `ssrp tpm` and `ssrp sim swtpm` as a user runs them: outputs, files, and
# the documented exit codes.
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
work=$(mktemp -d)
trap '"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1; rm -rf "$work"' EXIT
failures=0
check() { # check NAME EXPECTED_EXIT COMMAND...
	name=$1 want=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL $name: exit $got, expected $want"; sed 's/^/  | /' "$work/err"
		failures=$((failures + 1))
	else
		echo "ok   $name"
	fi
}
contains() { # contains NAME FILE TEXT
	if grep -q -- "$3" "$2"; then echo "ok   $1"; else
		echo "FAIL $1: '$3' not in $2:"; sed 's/^/  | /' "$2"; failures=$((failures + 1)); fi
}

tpm=$("$ssrp_sim" swtpm start --dir "$work/tpm") || { echo "cannot start swtpm"; exit 1; }
case "$tpm" in tss2:swtpm:host=127.0.0.1,port=*) echo "ok   start prints the spec" ;;
	*) echo "FAIL start printed '$tpm'"; failures=$((failures + 1)) ;; esac

check "info" 0 "$ssrp" tpm info --tpm "$tpm"
contains "info names the family" "$work/out" "family:        2.0"
check "info --json" 0 "$ssrp" tpm info --tpm "$tpm" --json
contains "json has the lockout" "$work/out" '"max_tries":'
check "random" 0 "$ssrp" tpm random --tpm "$tpm" 16
[ "$(tr -d '\n' <"$work/out" | wc -c)" -eq 32 ] && echo "ok   random prints 32 hex digits" ||
	{ echo "FAIL random output"; failures=$((failures + 1)); }
check "pcr-read" 0 "$ssrp" tpm pcr-read --tpm "$tpm" --pcrs 7,11
contains "pcr-read shows PCR 11" "$work/out" "sha256:11 0000000000000000"
check "pcr-extend" 0 "$ssrp" tpm pcr-extend --tpm "$tpm" 11 --data "boot"
check "pcr-read --json" 0 "$ssrp" tpm pcr-read --tpm "$tpm" --pcrs 11 --json
contains "PCR 11 changed" "$work/out" '"11":'

printf 'correct horse battery staple' >"$work/secret"
check "seal" 0 "$ssrp" tpm seal --tpm "$tpm" --pcrs 7,11 --in "$work/secret" --out "$work/blob"
check "unseal" 0 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out "$work/plain"
cmp -s "$work/secret" "$work/plain" && echo "ok   unsealed equals sealed" ||
	{ echo "FAIL unsealed differs"; failures=$((failures + 1)); }
[ "$(stat -c %a "$work/plain")" = 600 ] && echo "ok   unsealed file is 0600" ||
	{ echo "FAIL unsealed file mode"; failures=$((failures + 1)); }
check "unseal to stdout" 0 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out -
contains "stdout has the secret" "$work/out" "correct horse"
if grep -rq "correct horse" "$work/err"; then echo "FAIL secret on stderr"; failures=$((failures + 1)); fi

printf 'precious' >"$work/target"
ln -s "$work/target" "$work/link"
check "unseal to a symbolic link: refused" 10 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out "$work/link"
contains "  says why" "$work/err" "symbolic link"
[ -L "$work/link" ] && [ "$(cat "$work/target")" = precious ] && echo "ok   link and target untouched" ||
	{ echo "FAIL the link or its target changed"; failures=$((failures + 1)); }
check "unseal through the link when asked" 0 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out "$work/link" \
	--follow-symlink
cmp -s "$work/secret" "$work/target" && [ -L "$work/link" ] && echo "ok   the target has the secret" ||
	{ echo "FAIL --follow-symlink"; failures=$((failures + 1)); }
mkfifo "$work/fifo"
check "seal --in FIFO: refused at once" 2 timeout 20 "$ssrp" tpm seal --tpm "$tpm" --in "$work/fifo" --out "$work/b2"
contains "  says it is a FIFO" "$work/err" "is a FIFO"
check "random 2^64+1 refused" 2 "$ssrp" tpm random --tpm "$tpm" 18446744073709551617
check "pcr-extend 4294967307 (11 mod 2^32) refused" 2 "$ssrp" tpm pcr-extend --tpm "$tpm" 4294967307 --data x
check "pcr-extend ' 11' refused" 2 "$ssrp" tpm pcr-extend --tpm "$tpm" " 11" --data x

check "pcr change" 0 "$ssrp" tpm pcr-extend --tpm "$tpm" 11 --data "firmware update"
check "unseal refused: exit 4" 4 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out "$work/plain2"
contains "refusal names the cause" "$work/err" "firmware update"
[ ! -e "$work/plain2" ] && echo "ok   nothing written on refusal" ||
	{ echo "FAIL file written on refusal"; failures=$((failures + 1)); }

head -c 100 "$work/blob" >"$work/short"
check "truncated blob: exit 6" 6 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/short" --out "$work/x"
contains "truncation named" "$work/err" "truncated"
check "missing file: exit 1" 1 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/none" --out "$work/x"
check "bad TCTI: exit 2" 2 "$ssrp" tpm info --tpm "nosuchtcti:x"
check "unknown option: exit 2" 2 "$ssrp" tpm info --tpm "$tpm" --bogus
check "bad PCR list: exit 2" 2 "$ssrp" tpm pcr-read --tpm "$tpm" --pcrs 7,99
check "seal without --in: exit 2" 2 "$ssrp" tpm seal --tpm "$tpm" --out "$work/b"
tbs=$(. "$work/tpm/swtpm.env"; echo "$SSRP_TPM_TBS")
check "tbs seals (ESAPI over the TBS core): exit 0" 0 "$ssrp_sim" tpm seal --pcrs 7 --in "$work/secret" \
	--out "$work/b" --tpm "$tbs"
check "tss2 unseals what tbs sealed: exit 0" 0 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/b" --out "$work/plain3"
cmp -s "$work/secret" "$work/plain3" && echo "ok   the same secret back" ||
	{ echo "FAIL tss2 unsealed other bytes than tbs sealed"; failures=$((failures + 1)); }
check "tbs cannot extend: exit 7" 7 "$ssrp_sim" tpm pcr-extend 16 --data x --tpm "$tbs"

tpm=$("$ssrp_sim" swtpm restart --dir "$work/tpm")
check "after restart PCR 11 is zero again" 0 "$ssrp" tpm pcr-read --tpm "$tpm" --pcrs 11
contains "PCR 11 reset" "$work/out" "sha256:11 0000000000000000000000000000000000000000000000000000000000000000"
check "sealed before boot measured: still refused" 4 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out "$work/x"
check "re-measure boot" 0 "$ssrp" tpm pcr-extend --tpm "$tpm" 11 --data "boot"
check "unseal after restart" 0 "$ssrp" tpm unseal --tpm "$tpm" --in "$work/blob" --out "$work/plain3"
cmp -s "$work/secret" "$work/plain3" && echo "ok   same secret after restart" ||
	{ echo "FAIL secret differs after restart"; failures=$((failures + 1)); }
check "status" 0 "$ssrp_sim" swtpm status --dir "$work/tpm"
check "stop" 0 "$ssrp_sim" swtpm stop --dir "$work/tpm"
check "no TPM: exit 3" 3 "$ssrp" tpm info --tpm "$tpm"
check "help" 0 "$ssrp" help
contains "help lists exit code 4" "$work/out" "4 unseal refused"

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
echo "all CLI checks passed"
