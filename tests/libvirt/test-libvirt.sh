#!/bin/bash
# vmlock tests: the real libvirtd loads vmlock.so (suite 'libvirt').
#
# Run by run-libvirt-tests.sh under tests/sanlock/harness.sh (two simulated
# hosts, lockspaces joined once), inside a private mount namespace where
# libvirtd-env.sh bind-mounts scratch dirs over libvirt's own. libvirtd is
# simulated host 1 (lock_manager = "vmlock"); simulated host 2 runs guests
# with the vmlock command, and for migration a second libvirtd. Guests are
# tiny TCG PCs with no OS (the BIOS finds nothing to boot and waits). Prints
# TAP.
#
# Environment (from meson): VMLOCK_SANLOCK_HARNESS_ENV, VMLOCK_LIBVIRT_PLUGIN_DIR,
# VMLOCK_SANLOCK_PLUGIN_DIR, VMLOCK_BIN, VMLOCK_CLEANUP_BIN, VMLOCK_NO_IMAGE_LOCKS.

set -u

# shellcheck source=/dev/null
. "$VMLOCK_SANLOCK_HARNESS_ENV"
# shellcheck source=tests/libvirt/libvirtd-env.sh
. "$(dirname "$0")/libvirtd-env.sh"

readonly WAIT_TIMEOUT=30
readonly QEMU=/usr/bin/qemu-system-x86_64

n_tests=0
n_failed=0
images=$VMLOCK_HARNESS_SCRATCH_DIR/libvirt-images
host2_logs=$VMLOCK_HARNESS_LOG_DIR/libvirt-host2

diag() {
        sed 's/^/# /' >&2
}

ok() {
        n_tests=$((n_tests + 1))
        echo "ok $n_tests - $1"
}

not_ok() {
        n_tests=$((n_tests + 1))
        n_failed=$((n_failed + 1))
        echo "not ok $n_tests - $1"
        [ -z "${2:-}" ] || diag <<< "$2"
}

virsh_() {
        virsh -q -c qemu:///system "$@"
}

image() {
        local path=$images/$1.img
        [ -e "$path" ] || truncate -s 1M "$path"
        echo "$path"
}

# The lease name of a disk: md5 of its path, as libvirt's plugin names it.
lease_of() {
        printf '%s' "$1" | md5sum | cut -c1-32
}

# The lease names host $1's daemon says pid $2 holds.
leases_of_pid() {
        SANLOCK_RUN_DIR=$(host_run_dir "$1") "$VMLOCK_HARNESS_SANLOCK" client status 2>/dev/null |
                awk -v pid="$2" '$1 == "r" && $NF == pid { split($2, f, ":"); print f[2] }'
}

host_run_dir() {
        local var=VMLOCK_HARNESS_HOST$1_RUN_DIR
        echo "${!var}"
}

domain_pid() {
        cat "/run/libvirt/qemu/$1.pid" 2>/dev/null
}

# Waits until command "$@" succeeds, up to WAIT_TIMEOUT seconds.
wait_for() {
        local i
        for ((i = 0; i < WAIT_TIMEOUT * 10; i++)); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}

holds() {
        leases_of_pid 1 "$(domain_pid "$1")" | grep -qx "$(lease_of "$2")"
}

holds_not() {
        ! holds "$@"
}

# A domain XML: name, then disk images (vda, vdb, ...).
domain_xml() {
        local name=$1 i=0 path letters=abcdefghijklmnopqrstuvwxyz
        shift
        cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$name</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <on_lockfailure>${on_lockfailure:-poweroff}</on_lockfailure>
  <devices>
    <emulator>$QEMU</emulator>
EOF
        for path in "$@"; do
                cat <<EOF
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$path'/>
      <target dev='vd${letters:$i:1}' bus='virtio'/>
    </disk>
EOF
                i=$((i + 1))
        done
        cat <<EOF
    <controller type='scsi' model='virtio-scsi'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:env name='LD_PRELOAD' value='$VMLOCK_NO_IMAGE_LOCKS'/>
  </qemu:commandline>
</domain>
EOF
}

# virsh create NAME IMAGE...; output in $out.
create() {
        local name=$1
        domain_xml "$@" > "$images/$name.xml"
        out=$(virsh_ create "$images/$name.xml" 2>&1)
}

destroy() {
        virsh_ destroy "$1" > /dev/null 2>&1
}

# ---- host 2: guests started by the vmlock command ------------------------

vmlock2() {
        SANLOCK_RUN_DIR=$VMLOCK_HARNESS_HOST2_RUN_DIR \
        VMLOCK_PLUGIN_DIR=$VMLOCK_SANLOCK_PLUGIN_DIR \
        VMLOCK_CONFIG_DIR=$VMLOCK_HARNESS_HOST2_CONFIG_DIR \
        VMLOCK_STATE_DIR=$VMLOCK_HARNESS_HOST2_STATE_DIR \
                "$VMLOCK_BIN" "$@"
}

# vmlock start --detach on host 2, a QEMU with the disk in the XML only
# (leases are by path); QEMU's pid in $host2_pid, output in $out.
host2_start() {
        local name=$1 path=$2
        cat > "$images/host2-$name.xml" <<EOF
<domain type='kvm'>
  <name>$name</name>
  <devices>
    <disk type='file' device='disk'><source file='$path'/><target dev='vda'/></disk>
  </devices>
</domain>
EOF
        mkdir -p "$host2_logs"
        out=$(vmlock2 start --detach --log "$host2_logs/$name.log" "$images/host2-$name.xml" -- \
                "$QEMU" -machine none -display none -nodefaults 2>&1)
        local rc=$?
        host2_pid=$(tail -n 1 <<< "$out")
        return $rc
}

# True when the lease of disk $1 is free on the lease storage (a holder's
# daemon forgets it a moment before its release is written).
disk_free() {
        vmlock2 status --disk "$1" 2>/dev/null | grep -q ": free (lease file"
}

host2_gone() {
        ! vmlock2 list 2>/dev/null | grep -qw "$1"
}

# Kills host 2's guest; its supervisor ends once the release is on disk.
host2_stop() {
        kill "$host2_pid" 2>/dev/null
        wait_for host2_gone "$1"
}

# ---- the tests -------------------------------------------------------------

test_start_takes_leases() {
        local a b
        a=$(image start-a)
        b=$(image start-b)
        if ! create start "$a" "$b"; then
                not_ok "virsh start takes the leases through vmlock.so" "$out"
                return
        fi
        if holds start "$a" && holds start "$b"; then
                ok "virsh start takes the leases through vmlock.so"
        else
                not_ok "virsh start takes the leases through vmlock.so" \
                        "$(SANLOCK_RUN_DIR=$VMLOCK_HARNESS_HOST1_RUN_DIR "$VMLOCK_HARNESS_SANLOCK" client status)"
        fi

        # The same disk for a second domain: refused when libvirt resumes it
        # (start), in libvirtd, with vmlock's words, not "unknown cause".
        if create start-again "$(image start-other)" "$b"; then
                not_ok "a second domain on the same disk is refused" "it started: $out"
                destroy start-again
        elif grep -q "disk $b is in use by" <<< "$out"; then
                ok "a second domain on the same disk is refused: $(tail -n 1 <<< "$out")"
        else
                not_ok "a second domain on the same disk is refused, naming the disk" "$out"
        fi
        destroy start
}

test_twelve_disks() {
        local disks=() i ok_count
        for ((i = 0; i < 12; i++)); do
                disks+=("$(image twelve-$i)")
        done
        if ! create twelve "${disks[@]}"; then
                not_ok "a domain with 12 disks starts (libvirt's own plugin stops at 8)" "$out"
                return
        fi
        ok_count=$(leases_of_pid 1 "$(domain_pid twelve)" | wc -l)
        if [ "$ok_count" = 12 ]; then
                ok "a domain with 12 disks starts (libvirt's own plugin stops at 8)"
        else
                not_ok "a domain with 12 disks holds 12 leases" "it holds $ok_count"
        fi
        destroy twelve
}

test_suspend_resume() {
        local a
        a=$(image pause-a)
        if ! create pause "$a"; then
                not_ok "suspend/resume: start" "$out"
                return
        fi
        # libvirt releases on every pause and takes them back on resume.
        if ! out=$(virsh_ suspend pause 2>&1) || ! holds_not pause "$a"; then
                not_ok "virsh suspend releases the leases" "$out"
        else
                ok "virsh suspend releases the leases"
        fi
        if ! out=$(virsh_ resume pause 2>&1) || ! holds pause "$a"; then
                not_ok "virsh resume takes them back" "$out"
        else
                ok "virsh resume takes them back"
        fi

        # Another host may take the disk of a paused domain (libvirt
        # released it): resume is refused naming that host, and works once
        # it has let go. (libvirt 9.0 releases twice on a pause, the second
        # time from its STOP event handler, and keeps the second, empty,
        # state: a resume after a pause passes no state to check.)
        virsh_ suspend pause > /dev/null 2>&1
        if ! host2_start pause-thief "$a"; then
                not_ok "host 2 takes the disk of a paused domain" "$out"
                destroy pause
                return
        fi
        out=$(virsh_ resume pause 2>&1)
        if [ $? = 0 ]; then
                not_ok "resume is refused while host 2 holds the disk" "it resumed"
        elif grep -q "is in use by host 2 ($VMLOCK_HARNESS_HOST2_NAME)" <<< "$out"; then
                ok "resume is refused while host 2 holds the disk: $(tail -n 1 <<< "$out")"
        else
                not_ok "resume is refused naming host 2" "$out"
        fi
        host2_stop pause-thief
        if ! out=$(virsh_ resume pause 2>&1) || ! holds pause "$a"; then
                not_ok "resume works once host 2 let go" "$out"
        else
                ok "resume works once host 2 let go"
        fi
        destroy pause
}

test_hotplug() {
        local a extra busy
        a=$(image hotplug-a)
        extra=$(image hotplug-extra)
        busy=$(image hotplug-busy)
        if ! create hotplug "$a"; then
                not_ok "hotplug: start" "$out"
                return
        fi
        if ! out=$(virsh_ attach-disk hotplug "$extra" sda --targetbus scsi --live 2>&1) ||
           ! holds hotplug "$extra"; then
                not_ok "attach-disk takes the disk's lease" "$out"
        else
                ok "attach-disk takes the disk's lease"
        fi
        if ! out=$(virsh_ detach-disk hotplug sda --live 2>&1) ||
           ! wait_for holds_not hotplug "$extra"; then
                not_ok "detach-disk releases it" "$out"
        else
                ok "detach-disk releases it"
        fi

        # A disk another host's guest holds: libvirtd reports vmlock's error.
        if ! host2_start hotplug-holder "$busy"; then
                not_ok "hotplug: host 2 starts a guest" "$out"
                destroy hotplug
                return
        fi
        out=$(virsh_ attach-disk hotplug "$busy" sdb --targetbus scsi --live 2>&1)
        if [ $? = 0 ]; then
                not_ok "attach-disk of a disk host 2 uses is refused" "it attached"
        elif grep -q "disk $busy is in use by host 2" <<< "$out"; then
                ok "attach-disk of a disk host 2 uses is refused: $(tail -n 1 <<< "$out")"
        else
                not_ok "attach-disk of a disk host 2 uses is refused, naming host 2" "$out"
        fi
        host2_stop hotplug-holder
        destroy hotplug
}

test_mixed_hosts() {
        local mine theirs
        mine=$(image mixed-libvirt)
        theirs=$(image mixed-vmlock)
        if ! host2_start mixed "$theirs"; then
                not_ok "mixed hosts: host 2 starts a guest" "$out"
                return
        fi
        if create mixed-libvirt "$theirs"; then
                not_ok "libvirt refuses the disk of a guest of the vmlock command" "it started"
                destroy mixed-libvirt
        elif grep -q "disk $theirs is in use by host 2 ($VMLOCK_HARNESS_HOST2_NAME)" <<< "$out"; then
                ok "libvirt refuses the disk of a guest of the vmlock command"
        else
                not_ok "libvirt refuses the disk of a guest of the vmlock command, naming host 2" "$out"
        fi
        host2_stop mixed

        if ! create mixed-libvirt "$mine"; then
                not_ok "mixed hosts: libvirt starts a guest" "$out"
                return
        fi
        if host2_start mixed-2 "$mine"; then
                not_ok "the vmlock command refuses the disk of a libvirt guest" "it started"
                host2_stop mixed-2
        elif grep -q "is in use by host 1 ($VMLOCK_HARNESS_HOST1_NAME)" <<< "$out"; then
                ok "the vmlock command refuses the disk of a libvirt guest"
        else
                not_ok "the vmlock command refuses the disk of a libvirt guest, naming host 1" "$out"
        fi
        destroy mixed-libvirt
}

test_cleanup_keeps_held() {
        local held unused host
        held=$(image cleanup-held)
        unused=$(image cleanup-unused)
        # A lease file nobody holds: made by a guest that has gone.
        if ! create cleanup-gone "$unused"; then
                not_ok "cleanup: start" "$out"
                return
        fi
        destroy cleanup-gone
        if ! wait_for disk_free "$unused"; then
                not_ok "cleanup: the lease of a destroyed guest is released" \
                        "$(vmlock2 status --disk "$unused" 2>&1)"
                return
        fi
        if ! create cleanup "$held"; then
                not_ok "cleanup: start" "$out"
                return
        fi
        for host in 2 1; do
                local var=VMLOCK_HARNESS_HOST${host}_CONFIG_DIR
                out=$(SANLOCK_RUN_DIR=$(host_run_dir "$host") \
                        "$VMLOCK_CLEANUP_BIN" -c "${!var}" 2>&1)
                if [ -e "$VMLOCK_HARNESS_LEASE_DIR/$(lease_of "$held")" ] && holds cleanup "$held"; then
                        ok "the cleanup tool on host $host keeps the lease libvirt holds"
                else
                        not_ok "the cleanup tool on host $host keeps the lease libvirt holds" "$out"
                fi
        done
        if [ ! -e "$VMLOCK_HARNESS_LEASE_DIR/$(lease_of "$unused")" ]; then
                ok "the cleanup tool removes the unused one"
        else
                not_ok "the cleanup tool removes the unused one" "$out"
        fi
        destroy cleanup
}

test_lockfailure() {
        local a log
        a=$(image lockfailure-a)
        # Refused in the child that starts QEMU, before any lease is taken:
        # libvirt shows what it reported.
        if on_lockfailure=restart create lockfailure "$a"; then
                not_ok "<on_lockfailure>restart is refused at start" "it started"
                destroy lockfailure
        elif grep -q "<on_lockfailure>restart</on_lockfailure> is not supported by vmlock" <<< "$out"; then
                ok "<on_lockfailure>restart is refused at start: $(tr '\n' ' ' <<< "$out")"
        else
                not_ok "<on_lockfailure>restart is refused at start, saying so" "$out"
        fi

        # libvirt's helper is not installed here (VMLOCK_LIBVIRT_LOCKFAILURE_HELPER
        # names a missing one): the guest runs, the domain's log says what
        # a lock failure will do instead.
        log=/var/log/libvirt/qemu/lockfailure.log
        if ! on_lockfailure=pause create lockfailure "$a"; then
                not_ok "<on_lockfailure>pause without libvirt's helper: start" "$out"
        elif grep -Eq "cmd_killpath [0-9]+,[0-9]+,$(domain_pid lockfailure) " \
                "$VMLOCK_HARNESS_WORKDIR/host1/daemon.log"; then
                not_ok "<on_lockfailure>pause without libvirt's helper: no killpath registered" \
                        "sanlock would run a missing program"
        elif grep -q "is not installed .*: if the lockspace fails, sanlock kills guest .* instead of <on_lockfailure> pause" "$log"; then
                ok "<on_lockfailure>pause without libvirt's helper: the domain's log says what happens"
        else
                not_ok "<on_lockfailure>pause without libvirt's helper: warned in the domain's log" \
                        "$(cat "$log")"
        fi
        destroy lockfailure
}

# libvirtd restarts while a guest runs: the guest keeps its leases (sanlock
# holds them for QEMU), and the new libvirtd releases and takes them.
test_libvirtd_restart() {
        local a
        a=$(image restart-a)
        if ! create restart "$a"; then
                not_ok "libvirtd restart: start" "$out"
                return
        fi
        libvirtd_stop
        if ! libvirtd_start; then
                not_ok "libvirtd restarts with a guest running"
                return
        fi
        if ! holds restart "$a"; then
                not_ok "a guest keeps its leases across a libvirtd restart"
        elif ! out=$(virsh_ suspend restart 2>&1) || ! holds_not restart "$a" ||
             ! out=$(virsh_ resume restart 2>&1) || ! holds restart "$a"; then
                not_ok "after a libvirtd restart, suspend and resume release and take the leases" "$out"
        else
                ok "a guest keeps its leases across a libvirtd restart; suspend/resume go on"
        fi
        destroy restart
}

# A config vmlock refuses stops libvirtd's QEMU driver, saying why.
test_bad_config() {
        local good=/etc/libvirt/qemu-vmlock.conf
        cp "$good" "$good.good"
        printf 'auto_disk_leases = 1\n' > "$good"
        if libvirtd_start 2> /dev/null; then
                not_ok "libvirtd does not start with a broken qemu-vmlock.conf" "it started"
                libvirtd_stop
        elif grep -q "qemu-vmlock.conf: auto_disk_leases = 1 needs host_id" \
                /var/log/libvirt/libvirtd.log; then
                ok "libvirtd does not start with a broken qemu-vmlock.conf, and logs why"
        else
                not_ok "libvirtd does not start with a broken qemu-vmlock.conf, logging why" \
                        "$(tail -n 5 /var/log/libvirt/libvirtd.log)"
        fi
        libvirtd_pid=
        mv "$good.good" "$good"
}

# Live migration between two libvirtds with vmlock.so, simulated hosts 1
# and 2: the source inquires the state, the destination starts QEMU paused
# (registered only) and takes the leases with that state (their versions
# checked), the source releases when its QEMU stops. And back again.
test_migration() {
        local a uri2
        a=$(image migrate-a)
        if ! libvirtd2_start; then
                not_ok "migration: a second libvirtd (host 2) starts"
                return
        fi
        uri2=$(libvirtd2_uri)
        if ! create migrate "$a"; then
                not_ok "migration: start" "$out"
                return
        fi
        if ! out=$(virsh_ migrate --live --unsafe migrate "$uri2" --migrateuri tcp:127.0.0.1 2>&1); then
                not_ok "virsh migrate --live to host 2 takes the leases there" "$out"
                destroy migrate
                return
        fi
        local pid2
        pid2=$(cat "$libvirtd2_root/run/libvirt/qemu/migrate.pid" 2>/dev/null)
        if leases_of_pid 2 "$pid2" | grep -qx "$(lease_of "$a")" &&
           ! leases_of_pid 1 "$(domain_pid migrate)" | grep -q .; then
                ok "virsh migrate --live to host 2 takes the leases there, host 1 lets go"
        else
                not_ok "virsh migrate --live to host 2 takes the leases there, host 1 lets go" \
                        "host 2 pid $pid2: $(leases_of_pid 2 "$pid2")"
        fi
        if ! out=$(virsh -q -c "$uri2" migrate --live --unsafe migrate qemu:///system \
                        --migrateuri tcp:127.0.0.1 2>&1) || ! holds migrate "$a"; then
                not_ok "and back to host 1" "$out"
        else
                ok "and back to host 1"
        fi
        destroy migrate
        virsh -q -c "$uri2" destroy migrate > /dev/null 2>&1
}

# With libvirt's helper installed (a stand-in here), the start registers it
# with sanlock as the guest's killpath, without the pid argument (libvirt's
# helper takes exactly URI UUID ACTION; the unit test checks those). What
# sanlock received shows in host 1's daemon log (-D); a lockspace that
# fails for real takes 80 s to be declared failed, too long for this suite.
test_killpath_registered() {
        local a pid helper=$VMLOCK_HARNESS_SHORT_SCRATCH_DIR/lockfailure-helper
        a=$(image killpath-a)
        printf '#!/bin/sh\nexit 1\n' > "$helper"
        chmod +x "$helper"
        libvirtd_stop
        libvirt_helper=$helper
        if ! libvirtd_start || ! on_lockfailure=pause create killpath "$a"; then
                not_ok "<on_lockfailure>: start with libvirt's helper installed" "$out"
                return
        fi
        pid=$(domain_pid killpath)
        if grep -Eq "cmd_killpath [0-9]+,[0-9]+,$pid flags 0\$" \
                "$VMLOCK_HARNESS_WORKDIR/host1/daemon.log"; then
                ok "<on_lockfailure>: libvirt's helper is the guest's killpath in sanlock"
        else
                not_ok "<on_lockfailure>: libvirt's helper is the guest's killpath in sanlock" \
                        "$(grep cmd_killpath "$VMLOCK_HARNESS_WORKDIR/host1/daemon.log")"
        fi
        destroy killpath
}

# ---- main ------------------------------------------------------------------

on_exit() {
        local name
        for name in $(virsh_ list --name 2>/dev/null); do
                destroy "$name"
        done
        libvirtd_stop
        if [ -n "$libvirtd2_pid" ]; then
                for name in $(virsh -q -c "$(libvirtd2_uri)" list --name 2>/dev/null); do
                        virsh -q -c "$(libvirtd2_uri)" destroy "$name" > /dev/null 2>&1
                done
                libvirtd2_stop
        fi
        for pid in $(vmlock2 list 2>/dev/null | awk 'NR > 1 { print $2 }'); do
                kill "$pid" 2>/dev/null
        done
        if [ "$n_failed" != 0 ]; then
                echo "libvirtd's log: $libvirt_scratch/root/var/log/libvirt" | diag
        fi
}

if ! libvirt_mount_scratch || ! libvirt_write_config; then
        echo "Bail out! cannot set up libvirt's scratch dirs"
        exit 1
fi
mkdir -p "$images"
trap on_exit EXIT
# harness.sh stops a test that runs too long with SIGTERM: still clean up.
trap 'exit 143' TERM
trap 'exit 130' INT
test_bad_config
if ! libvirtd_start; then
        echo "Bail out! libvirtd does not start with vmlock.so"
        exit 1
fi
ok "libvirtd loads vmlock.so (lock_manager = \"vmlock\")"

test_start_takes_leases
test_twelve_disks
test_suspend_resume
test_hotplug
test_mixed_hosts
test_cleanup_keeps_held
test_lockfailure
test_migration
test_libvirtd_restart
test_killpath_registered

echo "1..$n_tests"
[ "$n_failed" = 0 ]
