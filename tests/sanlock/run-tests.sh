#!/bin/bash
# vmlock tests: runs GTest programs in parallel and merges their TAP into one stream.
#
# Usage: run-tests.sh PROGRAM...
#
# Meant to run under harness.sh, so that every program shares the same two
# sanlock daemons (joining a lockspace costs ~21 s, once per run). Each program
# runs with --tap; its results come out renumbered, in the order the programs
# were given, each case named "PROGRAM: /gtest/path". A program that crashes,
# times out or stops before its plan is complete is reported as a failure.
# Its stderr is shown when it failed, and kept in $VMLOCK_HARNESS_LOG_DIR.
#
# Environment:
#   VMLOCK_SANLOCK_TEST_JOBS     programs run at once (default: all)
#   VMLOCK_SANLOCK_TEST_TIMEOUT  seconds per program (default: 900)

set -u

[ $# -gt 0 ] || { echo "usage: ${0##*/} PROGRAM..." >&2; exit 2; }

jobs=${VMLOCK_SANLOCK_TEST_JOBS:-$#}
timeout_s=${VMLOCK_SANLOCK_TEST_TIMEOUT:-900}
logdir=${VMLOCK_HARNESS_LOG_DIR:-}
if [ -z "$logdir" ] && [ -n "${VMLOCK_SANLOCK_HARNESS_ENV:-}" ]; then
        logdir=$(. "$VMLOCK_SANLOCK_HARNESS_ENV" && echo "$VMLOCK_HARNESS_LOG_DIR")
fi
[ -n "$logdir" ] || logdir=$(mktemp -d)
mkdir -p "$logdir"

progs=("$@")
pids=()
total=0
failed=0

on_signal() {
        local pid
        trap - INT TERM
        for pid in "${pids[@]}"; do
                [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
        done
        exit 143
}
trap on_signal INT TERM

start_prog() {
        local i=$1 name
        name=${progs[$i]##*/}
        # --foreground: stay in our process group, so that whoever kills the
        # group (meson on a timeout) reaches the programs too; their guests
        # exit when the program dies (their stdin closes).
        timeout --foreground --kill-after=10 "$timeout_s" "${progs[$i]}" --tap \
                > "$logdir/$name.tap" 2> "$logdir/$name.stderr" < /dev/null &
        pids[$i]=$!
        echo "# started $name (pid ${pids[$i]})"
}

# Prints the program's TAP renumbered and prefixed; counts its results.
emit() {
        local i=$1 status=$2 name line result desc n_seen=0 n_failed=0 plan= skip_all=
        name=${progs[$i]##*/}
        while IFS= read -r line; do
                if [[ $line =~ ^(not\ ok|ok)([[:space:]]+[0-9]+)?([[:space:]]+-)?[[:space:]]*(.*)$ ]]; then
                        result=${BASH_REMATCH[1]}
                        desc=${BASH_REMATCH[4]}
                        total=$((total + 1))
                        n_seen=$((n_seen + 1))
                        if [ "$result" = "not ok" ] &&
                           ! [[ $desc =~ \#[[:space:]]*[Tt][Oo][Dd][Oo] ]]; then
                                n_failed=$((n_failed + 1))
                        fi
                        echo "$result $total - $name: $desc"
                elif [[ $line =~ ^1\.\.([0-9]+)(.*)$ ]]; then
                        plan=${BASH_REMATCH[1]}
                        [ "$plan" = 0 ] && skip_all=${BASH_REMATCH[2]}
                elif [[ $line =~ ^Bail\ out!(.*)$ ]]; then
                        total=$((total + 1))
                        n_failed=$((n_failed + 1))
                        echo "not ok $total - $name: bailed out:${BASH_REMATCH[1]}"
                elif [[ $line =~ ^# ]]; then
                        echo "# $name: ${line#\#}"
                elif [ -n "$line" ]; then
                        echo "# $name: $line"
                fi
        done < "$logdir/$name.tap"

        if [ -n "$skip_all" ] || { [ "$status" = 77 ] && [ $n_seen = 0 ]; }; then
                total=$((total + 1))
                echo "ok $total - $name # SKIP${skip_all#*# SKIP}"
                return
        fi
        if [ "$status" != 0 ] && [ $n_failed = 0 ]; then
                total=$((total + 1))
                n_failed=1
                case $status in
                124|137) echo "not ok $total - $name: timed out after $timeout_s s" ;;
                *) echo "not ok $total - $name: exited with status $status" ;;
                esac
        elif [ -n "$plan" ] && [ "$n_seen" -lt "$plan" ] && [ $n_failed = 0 ]; then
                total=$((total + 1))
                n_failed=1
                echo "not ok $total - $name: only $n_seen of $plan test cases ran"
        fi
        if [ $n_failed != 0 ]; then
                failed=$((failed + n_failed))
                {
                        echo "=== $name (exit status $status): stderr, kept in $logdir/$name.stderr"
                        cat "$logdir/$name.stderr"
                } >&2
        fi
}

next=0
for ((i = 0; i < ${#progs[@]}; i++)); do
        # Keep at most $jobs running; results are printed in the given order.
        while [ $next -lt ${#progs[@]} ] && [ $((next - i)) -lt "$jobs" ]; do
                start_prog $next
                next=$((next + 1))
        done
        wait "${pids[$i]}"
        status=$?
        pids[$i]=
        emit "$i" "$status"
done

echo "1..$total"
[ $failed = 0 ]
