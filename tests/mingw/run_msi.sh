#!/bin/sh
# run_msi.sh SOURCE_DIR WINDOWS_BUILD OUT_DIR
# ssrp.msi as the Windows build makes it (cmake/windows.cmake: wixl over
# packaging/ssrp.wxs), read back and installed under Wine:
#   - msiextract gives back ssrp.exe, libssrp.dll, libcurl.dll, libcjson.dll
#     byte for byte, and the scheduled task's definition (UTF-16) as
#     packaging/ssrp-task.xml says it: at start-up and hourly, as SYSTEM,
#     never two runs at once, running ssrp.exe agent run;
#   - msiinfo: the custom actions are deferred and run as SYSTEM (no
#     impersonation); the state directory is locked to SYSTEM and
#     Administrators right after it is made and before the configuration
#     is copied into it; the task is registered after the files and removed
#     before them;
#   - msiexec under Wine: without a configuration the installation fails
#     and leaves nothing; with CONFIGFILE=PATH that file becomes
#     %ProgramData%\ssrp\config.json (over a ssrp-config.json next to the
#     MSI); the files land under Program Files\ssrp; the task "ssrp agent"
#     and the Event Log source ssrp-assoc are registered; msiexec /x removes
#     the files and the task. Then
#     ssrp-config.json next to the MSI is taken when no property names one.
# Wine's icacls.exe is a dummy and its Task Scheduler keeps neither the
# triggers, the principal nor the action of a task: those are checked in
# the MSI's tables and the task file, not in the installed system.
set -u
. "$(dirname "$0")/wine_lib.sh"
src=$1
build=$2
out=$3

for t in msiinfo msiextract python3 iconv; do
	command -v $t >/dev/null 2>&1 || die "$t is not installed (scripts/bootstrap: msitools)"
done
need_wine
msi="$build/ssrp.msi"
[ -s "$msi" ] || die "$msi is missing: the Windows build makes it with wixl (scripts/bootstrap: wixl)"
absolute_dirs
msi="$build/ssrp.msi"

# --- read back
rm -rf "$out/extract" && mkdir -p "$out/extract"
(cd "$out/extract" && msiextract "$msi" >"$out/msiextract.out" 2>&1) || die "msiextract failed on $msi"
files=$(find "$out/extract" -type f | sed "s|^$out/extract/||" | sort | tr '\n' ' ')
same=1
for f in ssrp.exe libssrp.dll libcurl.dll libcjson.dll; do
	got=$(find "$out/extract" -type f -name "$f" | head -1)
	[ -n "$got" ] && cmp -s "$got" "$build/$f" || { same=0; fail "$f in the MSI differs from the build's (or is missing)"; }
done
[ $same = 1 ] && pass "msiextract: ssrp.exe and its DLLs as built ($files)"
task=$(find "$out/extract" -type f -name ssrp-task.xml | head -1)
if [ -n "$task" ] && iconv -f UTF-16 -t UTF-8 "$task" | cmp -s - "$src/packaging/ssrp-task.xml"; then
	pass "the task definition is packaging/ssrp-task.xml in UTF-16"
else
	fail "the task definition in the MSI is not packaging/ssrp-task.xml in UTF-16"
fi
task_check=$(iconv -f UTF-16 -t UTF-8 "$task" | python3 -c '
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
r = ET.fromstring(sys.stdin.read().replace("encoding=\"UTF-16\"", ""))
f = lambda p: (r.find(p, ns).text or "").strip() if r.find(p, ns) is not None else ""
bad = []
if r.find("t:Triggers/t:BootTrigger", ns) is None: bad.append("no start-up trigger")
if f("t:Triggers/t:TimeTrigger/t:Repetition/t:Interval") != "PT1H": bad.append("not hourly")
if f("t:Principals/t:Principal/t:UserId") != "S-1-5-18": bad.append("not SYSTEM")
if f("t:Settings/t:MultipleInstancesPolicy") != "IgnoreNew": bad.append("runs may overlap")
if not f("t:Actions/t:Exec/t:Command").endswith("\\ssrp\\ssrp.exe\""): bad.append("not ssrp.exe")
if not f("t:Actions/t:Exec/t:Arguments").startswith("agent run "): bad.append("not agent run")
print("; ".join(bad) or "ok")')
[ "$task_check" = ok ] && pass "the task: at start-up and hourly, as SYSTEM, IgnoreNew, ssrp.exe agent run" ||
	fail "the task: $task_check"

msiinfo export "$msi" CustomAction | tr -d '\r' >"$out/CustomAction.idt"
msiinfo export "$msi" InstallExecuteSequence | tr -d '\r' >"$out/Sequence.idt"
ca() { awk -F'\t' -v a="$1" '$1 == a { print $2 "\t" $3 "\t" $4 }' "$out/CustomAction.idt"; }
seq() { awk -F'\t' -v a="$1" '$1 == a { print $3 }' "$out/Sequence.idt"; }
lock=$(ca LockStateDir)
case $lock in
"3122	ICACLS	\"[STATEDIR].\" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F")
	pass "LockStateDir: deferred, as SYSTEM, icacls leaves SYSTEM and Administrators only" ;;
*) fail "LockStateDir: $lock" ;;
esac
for a in CopyConfig RegisterTask RemoveTask; do
	case $(ca $a | cut -f1) in 3122 | 3186) ;; *) fail "$a is not a deferred action run as SYSTEM: $(ca $a)" ;; esac
done
if [ "$(seq CreateFolders)" -lt "$(seq LockStateDir)" ] && [ "$(seq LockStateDir)" -lt "$(seq CopyConfig)" ] &&
	[ "$(seq CopyConfig)" -lt "$(seq InstallFiles)" ] && [ "$(seq InstallFiles)" -lt "$(seq RegisterTask)" ] &&
	[ "$(seq RemoveTask)" -lt "$(seq RemoveFiles)" ] && [ "$(seq SetSchtasks)" -lt "$(seq InstallInitialize)" ]; then
	pass "sequence: CreateFolders, LockStateDir, CopyConfig, InstallFiles, RegisterTask; RemoveTask before RemoveFiles"
else
	fail "sequence: $(tr '\t\n' ' ;' <"$out/Sequence.idt")"
fi

reg=$(msiinfo export "$msi" Registry | tr -d '\r' | awk -F'\t' '$2 == 2 { print $3 "|" $4 "|" $5 }' | sort | tr '\n' ' ')
want='SYSTEM\CurrentControlSet\Services\EventLog\Application\ssrp-assoc|EventMessageFile|[System64Folder]EventCreate.exe '
want="${want}SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\ssrp-assoc|TypesSupported|#7 "
[ "$reg" = "$want" ] && pass "the Event Log source ssrp-assoc: EventCreate.exe's messages, types 7" ||
	fail "the Registry table: $reg"

# --- installed under Wine
wine_session "$out/wineprefix"
media="$out/media"
rm -rf "$media" && mkdir -p "$media" && cp "$msi" "$media/ssrp.msi"
drive="$WINEPREFIX/drive_c"
msiexec() { # msiexec NAME ARGS...: exit status in $got
	name=$1
	shift
	(cd "$media" && "$wine" msiexec "$@" /qn /l*v "Z:$out/$name.log") >/dev/null 2>&1 </dev/null
	got=$?
}
installed() { [ -f "$drive/Program Files/ssrp/ssrp.exe" ]; }
task_file="$drive/windows/system32/tasks/ssrp agent"
# What a run before may have left: the product, and the configuration
# (which msiexec /x keeps, as it keeps the journal).
"$wine" msiexec /x "Z:$media/ssrp.msi" /qn >/dev/null 2>&1 </dev/null
rm -f "$drive/ProgramData/ssrp/config.json"
printf '{"from": "property"}\n' >"$out/config.json"
printf '{"from": "next to the MSI"}\n' >"$out/other.json"

msiexec no_config /i "Z:$media/ssrp.msi"
if [ "$got" != 0 ] && ! installed && [ ! -f "$drive/ProgramData/ssrp/config.json" ]; then
	pass "no configuration anywhere: msiexec fails (exit $got) and installs nothing"
else
	fail "no configuration anywhere: msiexec exit $got, installed: $(installed && echo yes || echo no)"
fi
cp "$out/other.json" "$media/ssrp-config.json"
msiexec with_property /i "Z:$media/ssrp.msi" "CONFIGFILE=Z:$out/config.json"
if [ "$got" = 0 ] && installed && cmp -s "$drive/ProgramData/ssrp/config.json" "$out/config.json"; then
	pass "CONFIGFILE=PATH: installed, and that file is %ProgramData%\\ssrp\\config.json"
else
	fail "CONFIGFILE=PATH: exit $got, config $(cat "$drive/ProgramData/ssrp/config.json" 2>&1)"
fi
same=1
for f in ssrp.exe libssrp.dll libcurl.dll libcjson.dll; do
	cmp -s "$drive/Program Files/ssrp/$f" "$build/$f" || same=0
done
[ $same = 1 ] && pass "Program Files\\ssrp holds the build's ssrp.exe and DLLs" ||
	fail "Program Files\\ssrp: $(ls "$drive/Program Files/ssrp" 2>&1 | tr '\n' ' ')"
evreg=$("$wine" reg query 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\ssrp-assoc' \
	/v EventMessageFile 2>/dev/null </dev/null | tr -d '\r' | sed -n 's/^ *EventMessageFile *REG_SZ *//p')
case $evreg in
?:\\windows\\system32\\EventCreate.exe | ?:\\windows\\system32\\eventcreate.exe)
	pass "the Event Log source is registered: EventMessageFile $evreg" ;;
*) fail "the Event Log source: EventMessageFile \"$evreg\"" ;;
esac
if [ -f "$task_file" ] && python3 -c 'import sys; t = open(sys.argv[1], "rb").read().decode("utf-8-sig")
sys.exit(0 if "IgnoreNew" in t and "BitLocker recovery password" in t else 1)' "$task_file"; then
	pass "the task \"ssrp agent\" is registered (Wine keeps its description and IgnoreNew; not its triggers, principal or action)"
else
	fail "no task \"ssrp agent\" registered"
fi
msiexec uninstall /x "Z:$media/ssrp.msi"
if [ "$got" = 0 ] && ! installed && [ ! -f "$task_file" ]; then
	pass "msiexec /x removes the files and the task"
else
	fail "msiexec /x: exit $got, files $(installed && echo left || echo removed), task $([ -f "$task_file" ] && echo left || echo removed)"
fi
rm -f "$drive/ProgramData/ssrp/config.json"
msiexec next_to_msi /i "Z:$media/ssrp.msi"
if [ "$got" = 0 ] && cmp -s "$drive/ProgramData/ssrp/config.json" "$out/other.json"; then
	pass "no property: ssrp-config.json next to the MSI is the configuration"
else
	fail "no property: exit $got, config $(cat "$drive/ProgramData/ssrp/config.json" 2>&1)"
fi
"$wine" msiexec /x "Z:$media/ssrp.msi" /qn >/dev/null 2>&1 </dev/null

finish
