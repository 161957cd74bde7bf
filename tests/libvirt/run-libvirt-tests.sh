#!/bin/bash
# vmlock tests: the libvirt suite's entry point (meson test --suite libvirt).
#
# Skips (TAP) when libvirt is not installed, or when vmlock.so was not built
# (libvirt was not installed when the build was set up). Otherwise starts the
# sanlock hosts with tests/sanlock/harness.sh and runs test-libvirt.sh under
# them in a private mount namespace (the scratch mounts over libvirt's dirs
# vanish with it).
#   run-libvirt-tests.sh WORKDIR
set -u

here=$(dirname "$0")

skip() {
        echo "1..0 # SKIP $*"
        exit 0
}

PATH=$PATH:/usr/sbin:/sbin
command -v libvirtd > /dev/null && command -v virsh > /dev/null ||
        skip "libvirt is not installed (Debian: libvirt-daemon-system, libvirt-clients)"
[ -n "${VMLOCK_LIBVIRT_PLUGIN_DIR:-}" ] && [ -e "$VMLOCK_LIBVIRT_PLUGIN_DIR/vmlock.so" ] ||
        skip "vmlock.so was not built: libvirt was not installed when the build dir was set up (meson setup --reconfigure)"

# libvirtd's system instance and the mount namespace need root; the tests
# do not run without them.
if [ "$(id -u)" != 0 ]; then
        echo "Bail out! the libvirt suite needs root (libvirtd, mount namespace)"
        exit 1
fi

exec "$here/../sanlock/harness.sh" run "$1" -- \
        unshare --mount --propagation private "$here/test-libvirt.sh"
