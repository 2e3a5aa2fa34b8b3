#!/bin/sh
# Microsoft's own client libraries (MSAL Node, @azure/identity, the Graph JS
# SDK, jose) against `ssrp sim cloud`, reached by the real host names on port
# 443 as in production. The suite runs in its own user, network and mount
# namespace (unshare): there the simulator listens on 127.0.0.1:443, and
# /etc/hosts (bind-mounted over, for this namespace only) names
# login.microsoftonline.com and graph.microsoft.com as 127.0.0.1; the
# libraries resolve and connect as they always do, and nothing can reach the
# real services. The simulator's CA is trusted through NODE_EXTRA_CA_CERTS.
# Usage: run.sh SSRP_BINARY   (node_modules installed by scripts/bootstrap)
set -u
here=$(cd "$(dirname "$0")" && pwd)
ssrp=${1:?usage: run.sh SSRP_BINARY}
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"

if [ -z "${SSRP_COMPAT_IN_NS:-}" ]; then
	command -v node >/dev/null || { echo "FAIL node is not installed: run scripts/bootstrap"; exit 1; }
	for p in @azure/msal-node @azure/identity @microsoft/microsoft-graph-client jose; do
		[ -f "$here/node_modules/$p/package.json" ] ||
			{ echo "FAIL $here/node_modules lacks $p: run scripts/bootstrap"; exit 1; }
	done
	SSRP_COMPAT_IN_NS=1 exec unshare --user --map-root-user --net --mount sh "$0" "$@"
fi

work=$(mktemp -d)
trap '"$ssrp_sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1; rm -rf "$work"' EXIT
ip link set lo up || { echo "FAIL cannot bring up loopback in the namespace"; exit 1; }
printf '127.0.0.1 localhost login.microsoftonline.com graph.microsoft.com\n::1 localhost\n' >"$work/hosts"
mount --bind "$work/hosts" /etc/hosts || { echo "FAIL cannot mount the namespace's /etc/hosts"; exit 1; }
# Only the namespace's loopback exists; no proxy could be reached anyway.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY

mkdir -m 700 "$work/tenant"
(umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/tenant/app-cert.key" \
	-out "$work/tenant/app-cert.pem" -subj "/CN=ssrp client compatibility" -days 2 2>"$work/err") ||
	{ echo "FAIL cannot make the app certificate:"; cat "$work/err"; exit 1; }
(umask 077 && cat "$work/tenant/app-cert.pem" "$work/tenant/app-cert.key" >"$work/tenant/app-cert-and-key.pem")
node "$here/make-tenant.mjs" "$work/tenant" "$work/tenant/app-cert.pem" ||
	{ echo "FAIL cannot write the tenant"; exit 1; }
env_file=$("$ssrp_sim" cloud start --dir "$work/cloud" --state "$work/tenant/state.json" --port 443 2>"$work/err") ||
	{ echo "FAIL cannot start the simulated cloud on 443:"; cat "$work/err"; exit 1; }
. "$env_file"
export SSRP_SIM_ADMIN_TOKEN_FILE
export NODE_EXTRA_CA_CERTS="$SSRP_SIM_CA"
export SSRP_COMPAT_DIR="$work/tenant"

failures=0
for script in ${SSRP_COMPAT_SCRIPTS:-msal-confidential msal-public identity-graph graph-queries graph-licences jose-tokens}; do
	echo "== $script"
	timeout 180 node "$here/$script.mjs" || { failures=$((failures + 1)); echo "FAIL $script"; }
done
[ "$failures" -eq 0 ] && echo "all client scripts passed"
exit "$failures"
