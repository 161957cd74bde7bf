#!/bin/bash
# vmlock's bash completion (data/vmlock.bash-completion): commands, options
# from each command's --help, values, and the names of running guests (a
# guest started with the nop driver, stopped with vmlock stop). TAP output.
set -u

completion=$VMLOCK_SOURCE_ROOT/data/vmlock.bash-completion
vmlock=$VMLOCK_TEST_VMLOCK
guest=$VMLOCK_TEST_GUEST
work=$(mktemp -d /tmp/vmlock-completion.XXXXXX)
trap 'rm -rf "$work"' EXIT
export VMLOCK_STATE_DIR=$work/state VMLOCK_CONFIG_DIR=$work/config
mkdir -m 0700 "$VMLOCK_STATE_DIR" "$VMLOCK_CONFIG_DIR"

# shellcheck source=/dev/null
source "$completion"

n=0
failed=0
# complete WORD... : COMPREPLY for the last word, one per line, sorted.
complete_words()
{
        COMP_WORDS=("$vmlock" "$@")
        COMP_CWORD=$#
        COMPREPLY=()
        _vmlock
        printf '%s\n' "${COMPREPLY[@]}" | sort
}
# check NAME EXPECTED WORD...: EXPECTED (a line) is among the completions.
check()
{
        local name=$1 expected=$2 got
        shift 2
        got=$(complete_words "$@")
        n=$((n + 1))
        if grep -qxF -- "$expected" <<<"$got"; then
                echo "ok $n - $name"
        else
                echo "not ok $n - $name: '$expected' not in: $(tr '\n' ' ' <<<"$got")"
                failed=1
        fi
}
# check_not NAME UNEXPECTED WORD...
check_not()
{
        local name=$1 unexpected=$2 got
        shift 2
        got=$(complete_words "$@")
        n=$((n + 1))
        if grep -qxF -- "$unexpected" <<<"$got"; then
                echo "not ok $n - $name: '$unexpected' offered"
                failed=1
        else
                echo "ok $n - $name"
        fi
}

check "commands" stop "st"
check "commands: status" status "st"
check_not "commands: only matching" list "st"
check "options of stop" --timeout stop --t
check "options of attach-disk" --cache attach-disk web --c
check "cache modes" writethrough attach-disk web --cache w
check "buses" scsi attach-disk web --bus ""
check "lockspace subcommands" join lockspace ""
check "start's --" -- start --
check "options of start" --name start --n
cat >"$work/web.xml" <<XML
<domain type='kvm'><name>web-completion</name><devices></devices></domain>
XML
check_not "start --name takes a name, not a file" "$work/web.xml" start --name "$work/w"
check "start takes DOMAIN.xml" "$work/web.xml" start "$work/w"
check "help COMMAND" migrate help mig

"$vmlock" start --detach "$work/web.xml" -- "$guest" --hold >"$work/pid" 2>"$work/err" ||
        { echo "Bail out! vmlock start failed: $(cat "$work/err")"; exit 1; }
check "guest names" web-completion stop w
check "guest names after options" web-completion stop --timeout 5 ""
check_not "no guest after NAME" web-completion pause web-completion ""
"$vmlock" stop web-completion >/dev/null 2>&1
check_not "stopped guests are gone" web-completion stop w

echo "1..$n"
exit $failed
