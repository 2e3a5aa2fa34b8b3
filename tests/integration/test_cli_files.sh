#!/bin/sh
# The files a user names on the command line, as an attacker or a careless
# admin would name them: outputs that are devices, FIFOs or symbolic links;
# inputs that are FIFOs; configurations others could have written; numbers
# past 2^64. Nothing may hang, nothing that is not a regular file may be
# replaced, and every refusal says what was wrong.
set -u
ssrp=$1
ssrp_sim="$(dirname "$ssrp")/ssrp-sim"   # the simulator's command
ssrp_assocd="$(dirname "$ssrp")/ssrp-assocd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { # check NAME EXPECTED_EXIT COMMAND...  (never more than 20 s)
	name=$1 want=$2
	shift 2
	timeout 20 "$@" >"$work/out" 2>"$work/err" </dev/null
	got=$?
	if [ "$got" -eq 124 ]; then
		fail "$name: still waiting after 20 s"
	elif [ "$got" -ne "$want" ]; then
		fail "$name: exit $got, expected $want"; sed 's/^/  | /' "$work/err"
	else
		echo "ok   $name"
	fi
}
contains() { # contains NAME FILE TEXT
	if grep -q -- "$3" "$2"; then echo "ok   $1"; else
		fail "$1: '$3' not in $2:"; sed 's/^/  | /' "$2"; fi
}
same_node() { # same_node NAME PATH TYPE-LETTER  (stat %F-based check)
	t=$(stat -c %F "$2" 2>/dev/null)
	case "$3:$t" in
	c:"character special file" | p:fifo | l:"symbolic link") echo "ok   $1" ;;
	*) fail "$1: $2 is now '$t'" ;;
	esac
}

vol="bitlk:$work/v.img?rw"
check "volume create" 0 "$ssrp_sim" volume create --volume "sim:$work/v.img" --size 4M
printf 'document' >"$work/doc"
check "volume write" 0 "$ssrp" volume write --volume "$vol" --offset 4K --in "$work/doc"

# ---- outputs ---------------------------------------------------------------
# A character device of our own (as /dev/null): written in place, never
# replaced by a regular file.
if [ "$(id -u)" -eq 0 ] && mknod "$work/null" c 1 3 2>/dev/null; then
	check "read to a character device" 0 "$ssrp" volume read --volume "$vol" --offset 4K \
		--length 8 --out "$work/null"
	same_node "the device is still a device" "$work/null" c
else
	echo "skip character device (not root)"
fi
mkfifo "$work/out.fifo"
(timeout 20 cat "$work/out.fifo" >"$work/fifo.got") &
reader=$!
check "read to a FIFO with a reader" 0 "$ssrp" volume read --volume "$vol" --offset 4K \
	--length 8 --out "$work/out.fifo"
wait $reader
same_node "the FIFO is still a FIFO" "$work/out.fifo" p
[ "$(cat "$work/fifo.got")" = document ] && echo "ok   the reader got the data" ||
	fail "the FIFO's reader got '$(cat "$work/fifo.got")'"
check "read to a FIFO without a reader: refused at once" 1 "$ssrp" volume read --volume "$vol" \
	--offset 4K --length 8 --out "$work/out.fifo"
contains "  says why" "$work/err" "no reader"

printf 'precious' >"$work/target"
ln -s "$work/target" "$work/link"
check "read to a symbolic link: refused" 10 "$ssrp" volume read --volume "$vol" --offset 4K \
	--length 8 --out "$work/link"
contains "  says why" "$work/err" "symbolic link"
same_node "  the link is still a link" "$work/link" l
[ "$(cat "$work/target")" = precious ] && echo "ok   its target is untouched" ||
	fail "the link's target was changed"
check "read through a link when asked" 0 "$ssrp" volume read --volume "$vol" --offset 4K \
	--length 8 --out "$work/link" --follow-symlink
[ "$(cat "$work/target")" = document ] && echo "ok   the target has the data" ||
	fail "--follow-symlink did not write the target"
same_node "  the link is still a link" "$work/link" l
check "read to a directory: refused" 10 "$ssrp" volume read --volume "$vol" --offset 4K \
	--length 8 --out "$work"
check "read to -" 0 "$ssrp" volume read --volume "$vol" --offset 4K --length 8 --out -
contains "  standard output has it" "$work/out" document

# ---- inputs ------------------------------------------------------------------
mkfifo "$work/in.fifo"
check "write --in FIFO: refused at once" 2 "$ssrp" volume write --volume "$vol" --offset 4K \
	--in "$work/in.fifo"
contains "  says it is a FIFO" "$work/err" "is a FIFO"
check "unlock --recovery-password-file FIFO: refused at once" 2 "$ssrp" volume unlock \
	--volume "$vol" --recovery-password-file "$work/in.fifo"
contains "  says it is a FIFO" "$work/err" "is a FIFO"
check "add-recovery --password-file FIFO: refused at once" 2 "$ssrp" volume add-recovery \
	--volume "$vol" --password-file "$work/in.fifo"
check "write --in /dev/zero: refused" 2 "$ssrp" volume write --volume "$vol" --offset 4K \
	--in /dev/zero
contains "  says it is a device" "$work/err" "character device"
check "write --in a directory: refused" 2 "$ssrp" volume write --volume "$vol" --offset 4K \
	--in "$work"

# ---- numbers -----------------------------------------------------------------
check "offset 2^64 refused" 2 "$ssrp" volume read --volume "$vol" --offset 18446744073709551616 \
	--length 1 --out "$work/x"
contains "  says it is too large" "$work/err" "too large"
check "offset 2^64-1 is a number (then out of the volume)" 2 "$ssrp" volume read --volume "$vol" \
	--offset 18446744073709551615 --length 1 --out "$work/x"
check "offset 16E refused" 2 "$ssrp" volume read --volume "$vol" --offset 17179869184G \
	--length 1 --out "$work/x"
check "negative offset refused" 2 "$ssrp" volume read --volume "$vol" --offset -1 --length 1 \
	--out "$work/x"
check "offset with blanks refused" 2 "$ssrp" volume read --volume "$vol" --offset " 1" --length 1 \
	--out "$work/x"

# ---- configurations ------------------------------------------------------------
mkdir -m 700 "$work/etc"
printf '{}\n' >"$work/etc/config.json"
chmod 644 "$work/etc/config.json"
check "a private configuration is read" 1 "$ssrp" agent status --config "$work/etc/config.json"
if grep -q "writable by group or others" "$work/err"; then fail "  refused a private file"; fi
chmod 666 "$work/etc/config.json"
check "a world-writable configuration: refused" 1 "$ssrp" agent status \
	--config "$work/etc/config.json"
contains "  says why and how to fix it" "$work/err" "chmod go-w"
chmod 644 "$work/etc/config.json"
chmod 777 "$work/etc"
check "a configuration in a world-writable directory: refused" 1 "$ssrp" agent status \
	--config "$work/etc/config.json"
contains "  names the directory" "$work/err" "directory $work/etc"
chmod 1777 "$work/etc"
check "... with the sticky bit it is read" 1 "$ssrp" agent status --config "$work/etc/config.json"
if grep -q "writable by group or others" "$work/err"; then fail "  refused under a sticky bit"; fi
chmod 700 "$work/etc"
mkfifo "$work/etc/fifo.json"
check "a FIFO as the configuration: refused at once" 1 "$ssrp" agent status \
	--config "$work/etc/fifo.json"

[ "$failures" -eq 0 ] && echo "all passed" || echo "$failures failed"
exit "$failures"
