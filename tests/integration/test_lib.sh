# Shared by the shell tests of the agent and the association service
# (sourced, not run): the commands, a work directory removed at exit, the
# pass/fail bookkeeping, and the real parts they start (swtpm, the
# simulated cloud, ssrp-assocd).
#
#   . "$(dirname "$0")/test_lib.sh"
#   test_lib_init NAME SSRP_BINARY    # $work, $ssrp, $ssrp_sim, $ssrp_assocd
#   start_swtpm                       # $tpm_spec
#   start_cloud [cloud start options] # the simulator's env file sourced; $ct
#
# A test adds to the exit clean-up by defining test_cleanup(). SSRP_TEST_KEEP
# keeps the work directory.

test_lib_init() { # test_lib_init NAME SSRP_BINARY
	ssrp=$2
	ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
	ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
	command -v jq >/dev/null 2>&1 || { echo "jq is needed"; exit 77; }
	work=$(mktemp -d "${TMPDIR:-/tmp}/ssrp-$1.XXXXXX")
	serve_pid=""
	failures=0
	mkdir -p "$work/log"
	trap test_lib_cleanup EXIT
}

test_lib_cleanup() {
	command -v test_cleanup >/dev/null 2>&1 && test_cleanup
	stop_serve
	stop_cloud
	"$ssrp_sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1
	if [ -n "${SSRP_TEST_KEEP:-}" ]; then echo "files kept in $work"; else rm -rf "$work"; fi
}

pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
run() { # run NAME CMD...: exit status; output in $work/log/NAME.{out,err}
	name=$1
	shift
	"$@" >"$work/log/$name.out" 2>"$work/log/$name.err" </dev/null
	rc=$?
	echo "$work/log/$name" >"$work/last"
	echo $rc
}
L() { cat "$work/last" 2>/dev/null; }
expect() { # expect NAME WANT GOT
	if [ "$3" = "$2" ]; then pass "$1"; else
		fail "$1: got '$3', expected '$2'"
		sed 's/^/  | /' "$(L).out" "$(L).err" 2>/dev/null | head -30
	fi
}
contains() { # contains NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then pass "$1"; else
		fail "$1: '$3' not in $2"; sed 's/^/  | /' "$2" | head -12; fi
}
start_swtpm() {
	command -v swtpm >/dev/null 2>&1 || { echo "swtpm is needed"; exit 77; }
	tpm_spec=$("$ssrp_sim" swtpm start --dir "$work/tpm" 2>"$work/tpm.err") ||
		{ echo "cannot start swtpm:"; cat "$work/tpm.err"; exit 1; }
}

start_cloud() { # start_cloud [cloud start options]: also $ct and the admin header
	env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" "$@" 2>"$work/cloud.err") ||
		{ echo "cannot start the simulated cloud:"; cat "$work/cloud.err"; exit 1; }
	. "$env_file"
	ct=""
	for e in $SSRP_SIM_CONNECT_TO; do ct="$ct --connect-to $e"; done
	(umask 077 && printf 'Authorization: Bearer %s\n' "$(cat "$SSRP_SIM_ADMIN_TOKEN_FILE")" >"$work/adm")
}

stop_cloud() { "$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1; }
demo_tenant() { # demo_tenant [cloud start options]: the demo tenant into $work/demo.json, its configuration $work/demo-config.json
	start_cloud "$@"
	admin GET /admin/state >"$work/demo.json"
	cp "$SSRP_SIM_CONFIG" "$work/demo-config.json"
	stop_cloud
}
demo_app_config() { # demo_app_config OUT: the running cloud's configuration with the demo app's id and secret
	jq --slurpfile old "$work/demo-config.json" \
		'.app_id = $old[0].app_id | .app_secret_file = $old[0].app_secret_file' "$SSRP_SIM_CONFIG" >"$1"
}

start_serve() { # start_serve [ssrp-assocd options]: the association service, until it listens
	: >"$work/log/serve.err"
	"$ssrp_assocd" "$@" >"$work/log/serve.out" 2>>"$work/log/serve.err" &
	serve_pid=$!
	for _ in $(seq 1 50); do grep -q listening "$work/log/serve.err" && return; sleep 0.1; done
	fail "ssrp-assocd did not start"
	cat "$work/log/serve.err"
}
stop_serve() {
	[ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	serve_pid=""
}

admin() { # admin METHOD PATH [BODY]: the simulator's admin API; the body on stdout, a non-2xx fails the test
	st=$(curl -sS $ct --cacert "$SSRP_SIM_CA" -H @"$work/adm" -o "$work/admin.out" \
		-w '%{http_code}' -X "$1" ${3+--data-binary "$3"} "https://graph.microsoft.com$2")
	case $st in 2*) cat "$work/admin.out" ;; *) fail "$1 $2 answered $st" >&2 ;; esac
}
state() { # the tenant as /admin/state has it, into $work/state.json (kept out of the greps)
	admin GET /admin/state >"$work/state.json"
}
faults() { admin POST /admin/faults "$1" >/dev/null; } # the fault script ("" clears it)
kid() { echo "$1" | tr -d '{}' | tr 'A-Z' 'a-z'; }       # a protector id as Entra ID writes it

fresh() { # fresh NAME: a new volume $work/NAME.img, its journal directory $work/NAME (0700)
	"$ssrp_sim" volume create --volume "sim:$work/$1.img" --size 4M >/dev/null 2>&1 ||
		fail "volume create $1"
	mkdir -m 700 "$work/$1"
}
vstatus() { # vstatus IMG FILTER: from `ssrp volume status --json` of a copy
	cp "$1" "$work/peek.img"
	"$ssrp" volume status --volume "bitlk:$work/peek.img?rw" --json 2>/dev/null | jq -r "$2"
}
rp_ids() { vstatus "$1" '.protectors[] | select(.type=="recovery password") | .id'; }
