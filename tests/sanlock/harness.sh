#!/bin/bash
# vmlock tests: two sanlock daemons as two simulated hosts sharing one lease dir.
#
# Usage:
#   harness.sh run WORKDIR -- CMD [ARG...]   start, run CMD, always stop; exits with CMD's status
#   harness.sh start WORKDIR                  start and leave running (interactive use)
#   harness.sh stop WORKDIR                   stop the daemons of WORKDIR, remove its short dir
#   harness.sh status WORKDIR                 show what runs
#
# start wipes WORKDIR (only if it is empty or was made by this script), makes a
# short dir outside it for sockets and what other users must reach (see
# make_short_dir), starts one daemon per host with its own SANLOCK_RUN_DIR,
# initialises the lockspaces __LIBVIRT__DISKS__ (in the disk lease dir) and
# TESTLS (for explicit <lease> tests), has both hosts join both in parallel (one
# ~21 s wait), waits until each host has seen the other renew (~21 s more:
# before that, refusing a lease the other host holds would wait for it) and
# writes WORKDIR/harness.env, a sourceable file describing all of it. CMD gets
# its path in VMLOCK_SANLOCK_HARNESS_ENV (tests/sanlock/sanlock-test-util.c
# reads it). run and stop remove the short dir with the daemons.
#
# Environment:
#   VMLOCK_SANLOCK_SHIM   the setrlimit shim (LD_PRELOADed into the daemons); required
#   SANLOCK               the sanlock binary (default: sanlock in PATH or /usr/sbin)
#   VMLOCK_HARNESS_ALLOW_TMPFS=1   accept a WORKDIR on tmpfs

set -u
shopt -s nullglob

readonly N_HOSTS=2
readonly DISK_LOCKSPACE=__LIBVIRT__DISKS__
readonly TEST_LOCKSPACE=TESTLS
readonly MARKER=.vmlock-sanlock-harness
# WORKDIR/$SHORT_LINK -> the short dir of this work dir, made in $SHORT_BASE.
readonly SHORT_LINK=short-dir
readonly SHORT_BASE=/var/tmp
readonly SHORT_PREFIX=vmlock-harness.
readonly JOIN_TIMEOUT=180
readonly STOP_TIMEOUT=20

prog=${0##*/}
workdir=
short_dir=
sanlock_bin=

log() {
        printf '%s: %s\n' "$prog" "$*" >&2
}

die() {
        log "error: $*"
        exit 1
}

usage() {
        sed -n '4,8s/^# \{0,1\}//p' "$0" >&2
        exit 2
}

find_sanlock() {
        if [ -n "${SANLOCK:-}" ]; then
                sanlock_bin=$SANLOCK
        else
                sanlock_bin=$(PATH=$PATH:/usr/sbin:/sbin command -v sanlock) ||
                        die "the sanlock binary is not installed (Debian package 'sanlock')"
        fi
        [ -x "$sanlock_bin" ] || die "$sanlock_bin is not executable"
}

host_dir() { echo "$workdir/host$1"; }
# What must have a short path (sanlock.sock, guests' control sockets) is in the short dir.
run_dir() { echo "$short_dir/host$1/run"; }
state_dir() { echo "$short_dir/host$1/state"; }
host_name() { echo "vmlock-test-host$1"; }

# Runs the sanlock client as host $1.
client() {
        local host=$1
        shift
        SANLOCK_RUN_DIR=$(run_dir "$host") "$sanlock_bin" client "$@"
}

# True when $1 is a live (not zombie) sanlock daemon serving run dir $2. The
# environment check makes sure we never touch a daemon we did not start, such
# as the system's own or another build dir's.
is_our_daemon() {
        local pid=$1 dir=$2 state exe
        [[ $pid =~ ^[0-9]+$ ]] || return 1
        [ -r "/proc/$pid/stat" ] || return 1
        state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
        case $state in Z|X|x) return 1 ;; esac
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
        [ "${exe##*/}" = sanlock ] || return 1
        tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -Fqx "SANLOCK_RUN_DIR=$dir"
}

# Prints the pid of host $1's daemon, if one runs.
daemon_pid() {
        local host=$1 dir pid
        dir=$(run_dir "$host")
        for pid in $(cat "$(host_dir "$host")/daemon.pid" "$dir/sanlock.pid" 2>/dev/null); do
                if is_our_daemon "$pid" "$dir"; then
                        echo "$pid"
                        return 0
                fi
        done
        return 1
}

stop_host() {
        local host=$1 dir pid child i
        dir=$(run_dir "$host")
        pid=$(daemon_pid "$host") || return 0
        log "stopping host $host (daemon pid $pid)"
        client "$host" shutdown -f 1 >> "$(host_dir "$host")/daemon-stop.log" 2>&1 &
        local shutdown_pid=$!
        for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
                is_our_daemon "$pid" "$dir" || break
                sleep 0.1
        done
        if is_our_daemon "$pid" "$dir"; then
                log "host $host: daemon $pid ignored shutdown for ${STOP_TIMEOUT}s; killing it"
                for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
                        kill -9 "$child" 2>/dev/null
                done
                kill -9 "$pid" 2>/dev/null
        fi
        kill "$shutdown_pid" 2>/dev/null
        wait "$shutdown_pid" 2>/dev/null
        return 0
}

# Both at once: each shutdown takes 2-3 s.
stop_all() {
        local host pids=()
        for ((host = 1; host <= N_HOSTS; host++)); do
                stop_host "$host" &
                pids+=($!)
        done
        wait "${pids[@]}"
        # Reap the daemons this shell started, now gone.
        for ((host = 1; host <= N_HOSTS; host++)); do
                wait "$(cat "$(host_dir "$host")/daemon.pid" 2>/dev/null)" 2>/dev/null
        done
        return 0
}

set_workdir() {
        [ -n "${1:-}" ] || usage
        workdir=$(realpath -m -- "$1") || die "bad work dir '$1'"
        case $workdir in
        /|/bin|/boot|/dev|/etc|/home|/lib*|/proc|/root|/run|/sbin|/sys|/tmp|/usr|/var)
                die "refusing to use $workdir as work dir" ;;
        esac
        load_short_dir
}

# Sets short_dir from WORKDIR's link, if it names one this script makes.
load_short_dir() {
        local target
        short_dir=
        target=$(readlink -- "$workdir/$SHORT_LINK" 2>/dev/null) || return 0
        case $target in
        "$SHORT_BASE/$SHORT_PREFIX"??????) short_dir=$target ;;
        *) log "ignoring $workdir/$SHORT_LINK: $prog does not make $target" ;;
        esac
        return 0
}

# A build dir may sit where a socket path overflows sun_path (108 bytes) and
# under a home dir other users cannot enter (the attack tests' unprivileged
# user must reach its lease dirs). What needs either goes to a short dir of
# our own, mode 0711, on a disk file system like the work dir: the hosts' run
# and state dirs, and the tests' short scratch dirs.
make_short_dir() {
        local host sock
        short_dir=$(mktemp -d "$SHORT_BASE/${SHORT_PREFIX}XXXXXX") ||
                die "cannot create a directory in $SHORT_BASE"
        ln -s -- "$short_dir" "$workdir/$SHORT_LINK" || die "cannot link $workdir/$SHORT_LINK"
        chmod 0711 "$short_dir" || die "cannot chmod $short_dir"
        check_not_tmpfs "$short_dir" "the tests' lease dirs there need a disk file system"
        mkdir -m 0711 "$short_dir/scratch" || die "cannot create $short_dir/scratch"
        for ((host = 1; host <= N_HOSTS; host++)); do
                mkdir -p "$(run_dir "$host")" "$(state_dir "$host")" ||
                        die "cannot create the run and state dirs of host $host in $short_dir"
                sock="$(run_dir "$host")/sanlock.sock"
                [ ${#sock} -lt 108 ] || die "socket path $sock is too long for a unix socket"
        done
}

remove_short_dir() {
        [ -n "$short_dir" ] || return 0
        # /var/tmp is sticky: a dir of ours there stays ours
        if [ -d "$short_dir" ] && [ ! -L "$short_dir" ] && [ -O "$short_dir" ]; then
                rm -rf -- "$short_dir" || log "cannot remove $short_dir"
        fi
        rm -f -- "$workdir/$SHORT_LINK"
        short_dir=
}

# Stops the daemons and removes what the work dir keeps outside itself.
stop_and_clean() {
        stop_all
        remove_short_dir
}

# Dies unless $1 is on a disk file system; $2 says what to do instead.
check_not_tmpfs() {
        local dir=$1 fix=$2 fstype
        fstype=$(stat -f -c %T "$dir") || die "cannot stat the file system of $dir"
        case $fstype in
        tmpfs|ramfs)
                # sanlock opens leases O_DIRECT, which tmpfs refuses on older kernels;
                # users keep leases on real storage, so do the tests.
                [ "${VMLOCK_HARNESS_ALLOW_TMPFS:-0}" = 1 ] || die "$dir is on $fstype; $fix" ;;
        esac
}

# A fresh work dir for every start: stale lease files from an earlier run would
# make the joins wait for their old delta leases to expire (140 s or more).
prepare_workdir() {
        local host
        if [ -e "$workdir" ]; then
                [ -d "$workdir" ] || die "$workdir exists and is not a directory"
                if [ ! -e "$workdir/$MARKER" ] && [ -n "$(ls -A "$workdir")" ]; then
                        die "$workdir is not empty and was not made by $prog; refusing to wipe it"
                fi
                stop_and_clean
                rm -rf -- "$workdir" || die "cannot remove $workdir"
        fi
        mkdir -p -- "$workdir" || die "cannot create $workdir"
        touch "$workdir/$MARKER"
        check_not_tmpfs "$workdir" "use a work dir on a disk file system (e.g. in the build dir)"
        mkdir -p "$workdir/leases" "$workdir/explicit" "$workdir/scratch" "$workdir/logs"
        for ((host = 1; host <= N_HOSTS; host++)); do
                mkdir -p "$(host_dir "$host")/etc"
        done
        make_short_dir
}

write_host_config() {
        local host=$1 etc
        etc="$(host_dir "$host")/etc"
        cat > "$etc/qemu-sanlock.conf" <<EOF
# Simulated host $host of the vmlock sanlock test harness.
auto_disk_leases = 1
disk_lease_dir = "$workdir/leases"
host_id = $host
EOF
        cat > "$etc/vmlock.conf" <<EOF
# Simulated host $host of the vmlock sanlock test harness.
lock_manager = "sanlock"
EOF
}

start_daemon() {
        local host=$1 hdir dir pid
        hdir=$(host_dir "$host")
        dir=$(run_dir "$host")
        # -w 0: no watchdog; -l 0: no mlockall; -L/-S -1: no log file or syslog
        # (-D sends everything to stderr, i.e. daemon.log). The shim lets the
        # daemon start without CAP_SYS_RESOURCE. The daemon stays in our
        # process group, so a test runner that kills the group kills it too.
        # VMLOCK_STATE_DIR: the lock-failure helper, run by the daemon, finds
        # this host's guest records there.
        (
                cd "$hdir" || exit 1
                SANLOCK_RUN_DIR=$dir VMLOCK_STATE_DIR=$(state_dir "$host") LD_PRELOAD=$shim \
                        exec "$sanlock_bin" daemon -D \
                        -w 0 -l 0 -U "$(id -un)" -G "$(id -gn)" -e "$(host_name "$host")" \
                        -L -1 -S -1
        ) < /dev/null > "$hdir/daemon.log" 2>&1 &
        pid=$!
        echo "$pid" > "$hdir/daemon.pid"
}

wait_daemon() {
        local host=$1 pid i
        pid=$(cat "$(host_dir "$host")/daemon.pid")
        for ((i = 0; i < 100; i++)); do
                if client "$host" status > /dev/null 2>&1; then
                        return 0
                fi
                if ! kill -0 "$pid" 2>/dev/null; then
                        log "host $host: the daemon exited at start; its log:"
                        sed 's/^/    /' "$(host_dir "$host")/daemon.log" >&2
                        return 1
                fi
                sleep 0.1
        done
        log "host $host: the daemon does not answer 'sanlock client status' after 10 s"
        return 1
}

# Creates and initialises lockspace $1 in file $2 through host 1's daemon.
init_lockspace() {
        local name=$1 path=$2 out
        : > "$path" || return 1
        chmod 0600 "$path"
        if ! out=$(client 1 init -s "$name:0:$path:0" 2>&1) ||
           ! grep -q '^init done 0$' <<< "$out"; then
                log "cannot initialise lockspace $name in $path: $out"
                return 1
        fi
}

# Has every host join both lockspaces at once: each join waits ~21 s.
join_all() {
        local host name path spec pids=() specs=() logs=() i rc=0 start
        start=$SECONDS
        for ((host = 1; host <= N_HOSTS; host++)); do
                for name in "$DISK_LOCKSPACE" "$TEST_LOCKSPACE"; do
                        path=$(lockspace_path "$name")
                        spec="$name:$host:$path:0"
                        logs+=("$(host_dir "$host")/join-$name.log")
                        specs+=("host $host: $spec")
                        timeout "$JOIN_TIMEOUT" env SANLOCK_RUN_DIR="$(run_dir "$host")" \
                                "$sanlock_bin" client add_lockspace -s "$spec" \
                                > "${logs[-1]}" 2>&1 &
                        pids+=($!)
                done
        done
        log "joining ${#pids[@]} lockspaces in parallel (about 21 s)"
        for i in "${!pids[@]}"; do
                if ! wait "${pids[$i]}" || ! grep -q '^add_lockspace done 0$' "${logs[$i]}"; then
                        log "cannot join ${specs[$i]}: $(tr '\n' ' ' < "${logs[$i]}")"
                        rc=1
                fi
        done
        [ $rc = 0 ] || return 1
        for ((host = 1; host <= N_HOSTS; host++)); do
                for name in "$DISK_LOCKSPACE" "$TEST_LOCKSPACE"; do
                        path=$(lockspace_path "$name")
                        if ! client "$host" inq_lockspace -s "$name:$host:$path:0" > /dev/null 2>&1; then
                                log "host $host did not join $name"
                                return 1
                        fi
                done
        done
        log "joined in $((SECONDS - start)) s"
}

# A host sees another as alive only once it has watched that host renew its
# delta lease (every 20 s); until then, refusing a lease held by it waits for
# liveness. Pay that once here, not in the first test that is refused.
wait_live() {
        local host live want=$((2 * N_HOSTS)) start=$SECONDS i
        log "waiting until every host sees every host alive (about 20 s)"
        for ((host = 1; host <= N_HOSTS; host++)); do
                for ((i = 0; ; i++)); do
                        live=$(client "$host" gets -h 1 2>/dev/null | grep -c '^h [0-9]* .* LIVE$')
                        [ "$live" -ge "$want" ] && break
                        if [ $i -ge $((JOIN_TIMEOUT * 2)) ]; then
                                log "host $host sees only $live of $want host records alive:"
                                client "$host" gets -h 1 2>&1 | sed 's/^/    /' >&2
                                return 1
                        fi
                        sleep 0.5
                done
        done
        log "all alive after $((SECONDS - start)) s more"
}

lockspace_path() {
        case $1 in
        "$DISK_LOCKSPACE") echo "$workdir/leases/$1" ;;
        *) echo "$workdir/explicit/$1" ;;
        esac
}

# Quotes $1 for the shell (and for g_shell_unquote()).
shquote() {
        printf "'%s'" "${1//\'/\'\\\'\'}"
}

write_env() {
        local host env tmp
        env="$workdir/harness.env"
        tmp="$env.tmp"
        {
                echo "# Written by $prog: the sanlock test hosts. Sourceable; read by sanlock-test-util.c."
                echo "VMLOCK_HARNESS_WORKDIR=$(shquote "$workdir")"
                echo "VMLOCK_HARNESS_SANLOCK=$(shquote "$sanlock_bin")"
                echo "VMLOCK_HARNESS_LEASE_DIR=$(shquote "$workdir/leases")"
                echo "VMLOCK_HARNESS_DISK_LOCKSPACE=$(shquote "$DISK_LOCKSPACE")"
                echo "VMLOCK_HARNESS_DISK_LOCKSPACE_PATH=$(shquote "$(lockspace_path "$DISK_LOCKSPACE")")"
                echo "VMLOCK_HARNESS_TEST_LOCKSPACE=$(shquote "$TEST_LOCKSPACE")"
                echo "VMLOCK_HARNESS_TEST_LOCKSPACE_PATH=$(shquote "$(lockspace_path "$TEST_LOCKSPACE")")"
                echo "VMLOCK_HARNESS_EXPLICIT_DIR=$(shquote "$workdir/explicit")"
                echo "VMLOCK_HARNESS_SCRATCH_DIR=$(shquote "$workdir/scratch")"
                echo "VMLOCK_HARNESS_SHORT_SCRATCH_DIR=$(shquote "$short_dir/scratch")"
                echo "VMLOCK_HARNESS_LOG_DIR=$(shquote "$workdir/logs")"
                echo "VMLOCK_HARNESS_N_HOSTS=$N_HOSTS"
                for ((host = 1; host <= N_HOSTS; host++)); do
                        echo "VMLOCK_HARNESS_HOST${host}_ID=$host"
                        echo "VMLOCK_HARNESS_HOST${host}_NAME=$(shquote "$(host_name "$host")")"
                        echo "VMLOCK_HARNESS_HOST${host}_RUN_DIR=$(shquote "$(run_dir "$host")")"
                        echo "VMLOCK_HARNESS_HOST${host}_CONFIG_DIR=$(shquote "$(host_dir "$host")/etc")"
                        echo "VMLOCK_HARNESS_HOST${host}_STATE_DIR=$(shquote "$(state_dir "$host")")"
                        echo "VMLOCK_HARNESS_HOST${host}_PID=$(cat "$(host_dir "$host")/daemon.pid")"
                done
        } > "$tmp" && mv -f "$tmp" "$env"
}

do_start() {
        local host start=$SECONDS
        shim=${VMLOCK_SANLOCK_SHIM:-}
        [ -n "$shim" ] || die "VMLOCK_SANLOCK_SHIM must name the setrlimit shim (build dir: tests/sanlock/)"
        [ -r "$shim" ] || die "the setrlimit shim $shim does not exist; build it first"
        shim=$(realpath -- "$shim")
        find_sanlock
        prepare_workdir
        for ((host = 1; host <= N_HOSTS; host++)); do
                write_host_config "$host"
                start_daemon "$host"
        done
        for ((host = 1; host <= N_HOSTS; host++)); do
                wait_daemon "$host" || return 1
        done
        init_lockspace "$DISK_LOCKSPACE" "$(lockspace_path "$DISK_LOCKSPACE")" || return 1
        init_lockspace "$TEST_LOCKSPACE" "$(lockspace_path "$TEST_LOCKSPACE")" || return 1
        join_all || return 1
        wait_live || return 1
        write_env || return 1
        log "ready in $((SECONDS - start)) s: $workdir/harness.env"
}

do_status() {
        local host pid
        for ((host = 1; host <= N_HOSTS; host++)); do
                if pid=$(daemon_pid "$host"); then
                        echo "host $host: daemon $pid, SANLOCK_RUN_DIR=$(run_dir "$host")"
                        client "$host" status 2>&1 | sed 's/^/    /'
                else
                        echo "host $host: not running"
                fi
        done
}

child=

# Asks the test command to stop; kills it if it has not after 10 s.
stop_child() {
        local i
        kill -TERM "$child" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
                kill -0 "$child" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$child" 2>/dev/null
        wait "$child" 2>/dev/null
        child=
}

on_signal() {
        local sig=$1 code=$2
        trap - "$sig"
        log "caught SIG$sig; stopping"
        exit "$code"
}

on_exit() {
        local rc=$?
        trap - EXIT INT TERM HUP
        if [ -n "$child" ]; then
                stop_child
        fi
        local start=$SECONDS
        stop_and_clean
        log "daemons stopped in $((SECONDS - start)) s"
        exit $rc
}

do_run() {
        local rc
        [ $# -gt 0 ] || usage
        trap on_exit EXIT
        trap 'on_signal INT 130' INT
        trap 'on_signal TERM 143' TERM
        trap 'on_signal HUP 129' HUP
        do_start || exit 1
        export VMLOCK_SANLOCK_HARNESS_ENV="$workdir/harness.env"
        # A test must say which host it acts as; one that forgets talks to no daemon.
        export SANLOCK_RUN_DIR="$workdir/no-host-chosen"
        # In the background, so that a signal interrupts 'wait' at once.
        "$@" &
        child=$!
        wait "$child"
        rc=$?
        child=
        exit $rc
}

cmd=${1:-}
[ $# -ge 2 ] || usage
set_workdir "$2"
shift 2
case $cmd in
start)
        [ $# = 0 ] || usage
        trap 'rc=$?; [ $rc = 0 ] || stop_and_clean; exit $rc' EXIT
        do_start || exit 1
        echo "$workdir/harness.env"
        ;;
stop)
        [ $# = 0 ] || usage
        find_sanlock
        stop_and_clean
        ;;
status)
        [ $# = 0 ] || usage
        find_sanlock
        do_status
        ;;
run)
        [ "${1:-}" = -- ] && shift
        do_run "$@"
        ;;
*)
        usage
        ;;
esac
