#!/bin/bash
# The main job, on a fresh Debian 12 machine, as root:
#   - installs the packages and builds vmlock (build/);
#   - starts two private sanlock daemons standing for two hosts that share a
#     lease directory (build/demo/), and has both join the disk lockspace;
#   - starts a QEMU guest under disk-lease protection on host 1;
#   - tries the same disk again, from host 2 and from host 1: refused, with the reason;
#   - shows `vmlock status`, stops the guest, and shows host 2 can now take the disk.
# Everything is stopped at the end. VMLOCK_SKIP_DEPS=1 skips apt-get.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

[ "${VMLOCK_SKIP_DEPS:-0}" = 1 ] || scripts/install-deps.sh

[ -f build/build.ninja ] || meson setup build -Dsanlock=enabled
meson compile -C build

work=$top/build/demo
harness=$top/tests/sanlock/harness.sh
export VMLOCK_SANLOCK_SHIM=$top/build/tests/sanlock/libsetrlimit-shim.so

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Starting two sanlock daemons (hosts 1 and 2) and joining the disk lockspace (~45 s)"
"$harness" stop "$work" >/dev/null 2>&1 || true
"$harness" start "$work"
trap '"$harness" stop "$work" >/dev/null 2>&1 || true' EXIT
# shellcheck disable=SC1091
. "$work/harness.env"

mkdir -p "$work/images" "$work/xml"
disk=$work/images/demo.img
truncate -s 64M "$disk"

# A domain description as libvirt writes it (only the parts vmlock reads matter).
domain_xml() { # NAME
        cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$disk'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
EOF
}
domain_xml demo > "$work/xml/demo.xml"
domain_xml demo-copy > "$work/xml/demo-copy.xml"

# vmlock as host N: its sanlock daemon, its config (lock_manager = "sanlock",
# auto_disk_leases = 1, host_id = N), its own record of running guests.
vmlock_on() { # HOST ARGS...
        local host=$1 run cfg state
        shift
        run=VMLOCK_HARNESS_HOST${host}_RUN_DIR
        cfg=VMLOCK_HARNESS_HOST${host}_CONFIG_DIR
        state=VMLOCK_HARNESS_HOST${host}_STATE_DIR
        SANLOCK_RUN_DIR=${!run} VMLOCK_CONFIG_DIR=${!cfg} VMLOCK_STATE_DIR=${!state} \
                VMLOCK_PLUGIN_DIR=$top/build/src/drivers/sanlock \
                VMLOCK_LOCKFAILURE_HELPER=$top/build/tools/vmlock-lockfailure-helper \
                "$top/build/tools/vmlock" "$@"
}

qemu() {
        echo qemu-system-x86_64 -machine accel=tcg -nographic -nodefaults -display none \
                -m 64 -drive "file=$disk,format=raw,if=virtio,cache=none"
}

say "Host 1: vmlock start --detach demo (QEMU on $disk, under its disk lease)"
# shellcheck disable=SC2046
pid=$(vmlock_on 1 start --detach --log "$work/demo.log" "$work/xml/demo.xml" -- $(qemu))
echo "guest demo runs as pid $pid; vmlock supervises it (its only QMP client)"

say "Host 2: vmlock start demo-copy on the same disk"
set +e
# shellcheck disable=SC2046
vmlock_on 2 start "$work/xml/demo-copy.xml" -- $(qemu)
status=$?
set -e
echo "(exit status $status: 124 means the leases could not be had; QEMU never ran)"

say "Host 1: vmlock start demo-copy on the same disk"
set +e
# shellcheck disable=SC2046
vmlock_on 1 start "$work/xml/demo-copy.xml" -- $(qemu)
status=$?
set -e
echo "(exit status $status)"

say "Host 1: vmlock status demo"
vmlock_on 1 status demo

say "Host 1: vmlock pause demo / resume demo (QMP stop and cont; the lease stays held)"
vmlock_on 1 pause demo
vmlock_on 1 status demo | grep -E '^state|held'
vmlock_on 1 resume demo
vmlock_on 1 status demo | grep -E '^state'

say "Host 1: stopping the guest releases its lease"
kill "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done

say "Host 2: vmlock start --detach demo-copy now succeeds"
# shellcheck disable=SC2046
pid=$(vmlock_on 2 start --detach "$work/xml/demo-copy.xml" -- $(qemu))
vmlock_on 2 status demo-copy
kill "$pid"
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done

say "Done: the daemons are stopped. The tests: scripts/test.sh"
