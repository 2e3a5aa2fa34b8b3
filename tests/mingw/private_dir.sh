#!/bin/sh
# private_dir.sh DIR: prints a new directory for files whose ACLs a Windows
# test checks under Wine: below DIR when no directory above it may be written
# by others, else below $HOME/.cache/ssrp-wine. Wine shows a sticky
# world-writable directory (/tmp) as one Everyone may empty, which the trust
# check rightly refuses, and a clone may well live below one. The caller
# removes the directory.
set -eu
other_writable_above() {
	d=$1
	while [ "$d" != / ]; do
		[ -n "$(find "$d" -maxdepth 0 -perm -o+w)" ] && return 0
		d=$(dirname "$d")
	done
	return 1
}
for base in "$1" "${HOME:-/root}/.cache/ssrp-wine"; do
	mkdir -p "$base" 2>/dev/null || continue
	base=$(cd "$base" && pwd)
	other_writable_above "$base" && continue
	d=$(mktemp -d "$base/private.XXXXXX") && chmod 755 "$d" && echo "$d" && exit 0
done
echo "private_dir.sh: no directory without a world-writable one above it (tried $1 and \$HOME/.cache/ssrp-wine)" >&2
exit 1
