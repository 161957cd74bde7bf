# vmlock tests: a private libvirtd for the libvirt suite, sourced by
# test-libvirt.sh.
#
# Runs inside a private mount namespace (unshare --mount --propagation
# private): scratch directories under the harness work dir are bind-mounted
# over /etc/libvirt, /run, /var/lib/libvirt, /var/log/libvirt and
# /var/cache/libvirt, so the machine's own libvirt config and state are
# never touched, and virsh in the same namespace finds this libvirtd at its
# usual socket. libvirtd loads vmlock.so from LIBVIRT_LOCK_MANAGER_PLUGIN_DIR
# (the build dir) and talks to simulated host 1's sanlock daemon.
#
# Needs: VMLOCK_SANLOCK_HARNESS_ENV sourced, VMLOCK_LIBVIRT_PLUGIN_DIR.

readonly LIBVIRTD_START_TIMEOUT=120

libvirt_scratch=
libvirt_helper=

# The directories libvirtd may write, each a fresh scratch dir.
libvirt_mount_scratch() {
        local dir
        libvirt_scratch=$VMLOCK_HARNESS_WORKDIR/libvirt
        mkdir -p "$libvirt_scratch" || return 1
        for dir in /etc/libvirt /run /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
                mkdir -p "$libvirt_scratch/root$dir" || return 1
                [ -d "$dir" ] || { echo "# $dir does not exist" >&2; return 1; }
                mount --bind "$libvirt_scratch/root$dir" "$dir" || return 1
        done
        mkdir -p /run/libvirt /var/log/libvirt/qemu /var/lib/libvirt/qemu
}

libvirt_write_config() {
        cat > /etc/libvirt/libvirtd.conf <<EOC
# vmlock test libvirtd: logs what the lock manager does.
log_filters = "1:locking 1:qemu.qemu_process 3:*"
log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
EOC
        # What this machine lacks (KVM, cgroups, a security driver,
        # virtlogd) is turned off; the lock manager is the one under test.
        cat > /etc/libvirt/qemu.conf <<EOC
lock_manager = "vmlock"
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
user = "root"
group = "root"
EOC
        cat > /etc/libvirt/qemu-vmlock.conf <<EOC
auto_disk_leases = 1
disk_lease_dir = "$VMLOCK_HARNESS_LEASE_DIR"
host_id = $VMLOCK_HARNESS_HOST1_ID
EOC
}

libvirtd_pid=

libvirtd_start() {
        local i
        # libvirt's lock-failure helper: $libvirt_helper, else one that is
        # not installed, whether the machine has libvirt-sanlock or not
        # (in the short dir: sanlock takes a helper path of 127 bytes at most).
        SANLOCK_RUN_DIR=$VMLOCK_HARNESS_HOST1_RUN_DIR \
        VMLOCK_LIBVIRT_LOCKFAILURE_HELPER=${libvirt_helper:-$VMLOCK_HARNESS_SHORT_SCRATCH_DIR/no-lockfailure-helper} \
        LIBVIRT_LOCK_MANAGER_PLUGIN_DIR=$VMLOCK_LIBVIRT_PLUGIN_DIR \
                libvirtd --config /etc/libvirt/libvirtd.conf \
                < /dev/null > "$libvirt_scratch/libvirtd.out" 2>&1 &
        libvirtd_pid=$!
        # Until it answers: the first start probes QEMU's capabilities.
        for ((i = 0; i < LIBVIRTD_START_TIMEOUT * 10; i++)); do
                if virsh -q -c qemu:///system uri > /dev/null 2>&1; then
                        return 0
                fi
                if ! kill -0 "$libvirtd_pid" 2>/dev/null; then
                        echo "# libvirtd exited at start:" >&2
                        sed 's/^/#   /' "$libvirt_scratch/libvirtd.out" >&2
                        return 1
                fi
                sleep 0.1
        done
        echo "# libvirtd does not answer after ${LIBVIRTD_START_TIMEOUT} s" >&2
        return 1
}

libvirtd_stop() {
        local i
        [ -n "$libvirtd_pid" ] || return 0
        kill -TERM "$libvirtd_pid" 2>/dev/null
        for ((i = 0; i < 300; i++)); do
                kill -0 "$libvirtd_pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$libvirtd_pid" 2>/dev/null
        wait "$libvirtd_pid" 2>/dev/null
        libvirtd_pid=
}

# ---- a second libvirtd, simulated host 2 (migration) ----------------------
#
# In a mount and UTS namespace of its own, nested in the test's: its scratch
# dirs over libvirt's, its own host name and host_uuid (libvirt refuses to
# migrate to "the same host"), host 2's sanlock daemon. Reached at its socket
# through the scratch path, from any namespace.

libvirtd2_pid=
libvirtd2_root=

libvirtd2_uri() {
        echo "qemu+unix:///system?socket=$libvirtd2_root/run/libvirt/libvirt-sock"
}

libvirtd2_start() {
        local i dir
        # Short: its socket is reached by path (108 bytes at most).
        libvirtd2_root=$VMLOCK_HARNESS_SHORT_SCRATCH_DIR/libvirt2/root
        for dir in /etc/libvirt /run /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
                mkdir -p "$libvirtd2_root$dir" || return 1
        done
        mkdir -p "$libvirtd2_root/run/libvirt" "$libvirtd2_root/var/log/libvirt/qemu" \
                "$libvirtd2_root/var/lib/libvirt/qemu"
        cp /etc/libvirt/qemu.conf "$libvirtd2_root/etc/libvirt/"
        cat > "$libvirtd2_root/etc/libvirt/libvirtd.conf" <<EOC
log_filters = "1:locking 1:qemu.qemu_process 1:qemu.qemu_migration 3:*"
log_outputs = "1:file:/var/log/libvirt/libvirtd.log"
host_uuid = "2b0c1d4e-9a8f-4e3d-8c7b-000000000002"
EOC
        cat > "$libvirtd2_root/etc/libvirt/qemu-vmlock.conf" <<EOC
auto_disk_leases = 1
disk_lease_dir = "$VMLOCK_HARNESS_LEASE_DIR"
host_id = $VMLOCK_HARNESS_HOST2_ID
EOC
        LIBVIRTD2_ROOT=$libvirtd2_root \
        SANLOCK_RUN_DIR=$VMLOCK_HARNESS_HOST2_RUN_DIR \
        VMLOCK_LIBVIRT_LOCKFAILURE_HELPER=$VMLOCK_HARNESS_SHORT_SCRATCH_DIR/no-lockfailure-helper \
        LIBVIRT_LOCK_MANAGER_PLUGIN_DIR=$VMLOCK_LIBVIRT_PLUGIN_DIR \
                unshare --mount --uts --propagation private bash -c '
                        for dir in /etc/libvirt /run /var/lib/libvirt /var/log/libvirt \
                                   /var/cache/libvirt; do
                                mount --bind "$LIBVIRTD2_ROOT$dir" "$dir" || exit 1
                        done
                        hostname vmlock-test-libvirt2 || exit 1
                        exec libvirtd --config /etc/libvirt/libvirtd.conf' \
                < /dev/null > "$libvirtd2_root/libvirtd.out" 2>&1 &
        libvirtd2_pid=$!
        for ((i = 0; i < LIBVIRTD_START_TIMEOUT * 10; i++)); do
                if virsh -q -c "$(libvirtd2_uri)" uri > /dev/null 2>&1; then
                        return 0
                fi
                if ! kill -0 "$libvirtd2_pid" 2>/dev/null; then
                        echo "# the second libvirtd exited at start:" >&2
                        sed 's/^/#   /' "$libvirtd2_root/libvirtd.out" >&2
                        return 1
                fi
                sleep 0.1
        done
        echo "# the second libvirtd does not answer after ${LIBVIRTD_START_TIMEOUT} s" >&2
        return 1
}

libvirtd2_stop() {
        local i
        [ -n "$libvirtd2_pid" ] || return 0
        kill -TERM "$libvirtd2_pid" 2>/dev/null
        for ((i = 0; i < 300; i++)); do
                kill -0 "$libvirtd2_pid" 2>/dev/null || break
                sleep 0.1
        done
        kill -KILL "$libvirtd2_pid" 2>/dev/null
        wait "$libvirtd2_pid" 2>/dev/null
        libvirtd2_pid=
}
