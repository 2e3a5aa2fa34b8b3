#!/bin/sh
# The vendor examples (examples/vendor-tpm, examples/vendor-volume) as a
# vendor builds them: install this build into a scratch prefix, build each
# example out of tree with find_package(ssrp COMPONENTS conformance), then,
# on a software TPM and scratch volumes the installed ssrp-sim makes, run
# each backend's conformance test and the device agent on it against the
# simulated cloud. Also: the conformance library through pkg-config, and a
# read-only volume under the "audit" backend must fail the volume suite.
set -eu
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
prefix=$work/prefix
assocd_pid=""
cleanup() {
	[ -n "$assocd_pid" ] && kill "$assocd_pid" 2>/dev/null && wait "$assocd_pid" 2>/dev/null
	"$prefix/bin/ssrp-sim" cloud stop --dir "$work/cloud" >/dev/null 2>&1 || :
	"$prefix/bin/ssrp-sim" swtpm stop --dir "$work/tpm" >/dev/null 2>&1 || :
	rm -rf "$work"
}
trap cleanup EXIT
step() { echo "--- $*"; }

step "conformance/ includes only the public headers"
bad=$(grep -Hn '^#include "' "$top"/conformance/*.c | grep -v '#include "ssrp/[a-z_]*\.h"' || :)
[ -z "$bad" ] || { echo "$bad"; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -n 1)
libdir=${libdir%/}
export PKG_CONFIG_PATH="$libdir/pkgconfig"
sim=$prefix/bin/ssrp-sim

for ex in vendor-tpm vendor-volume vendor-platform; do
	step "building examples/$ex against the installed ssrp"
	cmake -S "$top/examples/$ex" -B "$work/$ex" -DCMAKE_PREFIX_PATH="$prefix" \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/$ex.log" 2>&1 &&
		cmake --build "$work/$ex" >>"$work/$ex.log" 2>&1 ||
		{ cat "$work/$ex.log"; exit 1; }
	# Only the installed headers: no path into the source tree.
	if grep -rq -- "-I$top" "$work/$ex/CMakeFiles"; then
		echo "examples/$ex was compiled with the source tree on its include path"
		exit 1
	fi
done
vt=$work/vendor-tpm
vv=$work/vendor-volume
vp=$work/vendor-platform
# The backends are registered in the shared libssrp the suites call.
for b in "$vt/audit-tpm-conformance" "$vv/audit-volume-agent"; do
	objdump -p "$b" | grep -q 'NEEDED.*libssrp\.so\.0' ||
		{ echo "$b does not use the shared libssrp"; exit 1; }
done

step "the conformance library through pkg-config"
# shellcheck disable=SC2046 # word splitting of pkg-config's flags is meant
cc -std=c11 -Wall -Wextra -Werror -o "$work/audit-tpm-conformance-pc" \
	"$top/examples/vendor-tpm/tpm_conformance_main.c" "$top/examples/vendor-tpm/audit_tpm.c" \
	$(pkg-config --cflags --libs ssrp-conformance) -pthread

step "a software TPM and scratch volumes from the installed ssrp-sim"
tpm_spec=$("$sim" swtpm start --dir "$work/tpm")
"$sim" volume create --volume "sim:$work/suite.img" --size 8M >/dev/null
"$sim" volume create --volume "sim:$work/agent-tpm.img" --size 8M >/dev/null
"$sim" volume create --volume "sim:$work/agent-volume.img" --size 8M >/dev/null
export TSS2_LOG=all+NONE

step "TPM: the installed conformance suite on audit:$tpm_spec"
"$vt/audit-tpm-conformance" "$tpm_spec"
LD_LIBRARY_PATH=$libdir "$work/audit-tpm-conformance-pc" "$tpm_spec" >/dev/null

step "volume: the installed conformance suite on audit:bitlk:IMG?rw"
"$vv/audit-volume-conformance" "bitlk:$work/suite.img?rw" "$tpm_spec"

step "volume: a read-only volume must fail the suite"
if "$vv/audit-volume-conformance" "bitlk:$work/suite.img" >"$work/ro.out" 2>&1; then
	cat "$work/ro.out"
	echo "the volume conformance suite passed a read-only volume"
	exit 1
fi
grep -q "FAILED" "$work/ro.out" || { cat "$work/ro.out"; exit 1; }

step "platform: the installed conformance suite on usersfile:FILE"
printf '# from the MDM\n\n  CONTOSO\\alice  \nCONTOSO\\bob\nCONTOSO\\alice # again\n' >"$work/users.conf"
"$vp/users-file-conformance" "$work/users.conf"
"$vp/users-file-conformance" "$work/no-such-file" >/dev/null

step "the simulated cloud and the association service"
env_file=$("$sim" cloud start --dir "$work/cloud")
. "$env_file"
cfg=$SSRP_SIM_CONFIG
"$prefix/bin/ssrp-assocd" --config "$cfg" >"$work/assocd.out" 2>"$work/assocd.err" &
assocd_pid=$!
for _ in $(seq 50); do grep -q listening "$work/assocd.err" && break; sleep 0.2; done
grep -q listening "$work/assocd.err" || { cat "$work/assocd.err"; exit 1; }

step "the agent on the audit TPM"
"$vt/audit-tpm-agent" "$cfg" "bitlk:$work/agent-tpm.img?rw" "$tpm_spec" "$work/tpm.journal"

step "the agent on the audit volume"
"$vv/audit-volume-agent" "$cfg" "bitlk:$work/agent-volume.img?rw" "$tpm_spec" \
	"$work/volume.journal"
step "the agent on the usersfile platform"
"$sim" volume create --volume "sim:$work/agent-platform.img" --size 8M >/dev/null
printf 'CONTOSO\\alice\nCONTOSO\\bob\n' >"$work/agent-users.conf"
"$vp/users-file-agent" "$cfg" "bitlk:$work/agent-platform.img?rw" "$tpm_spec" \
	"$work/agent-users.conf" "$work/platform.journal"
echo "the vendor examples (TPM, volume, platform) built against the installed ssrp, passed the installed conformance suites and served the agent"
