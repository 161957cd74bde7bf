#!/bin/bash
# Builds the Debian packages from a clean copy of the tree
# (dpkg-buildpackage -us -uc -b), installs them with apt-get, runs the
# installed vmlock (built-in nop driver, and the packaged sanlock.so with no
# daemon), then purges them, so that later steps test the build tree and
# not an installed copy. As root, on Debian 12.
#   scripts/check-debian.sh         (VMLOCK_SKIP_DEPS=1 skips apt-get update)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

if [ "$(id -u)" -ne 0 ]; then
        echo "check-debian: run as root (apt-get needs it)" >&2
        exit 1
fi

packages=(libvmlock0 libvmlock-dev vmlock vmlock-sanlock vmlock-libvirt)
work=$(mktemp -d /tmp/vmlock-deb.XXXXXX)
installed=0
failures=0

cleanup() {
        if [ "$installed" = 1 ]; then
                echo "check-debian: purging ${packages[*]}"
                apt-get purge -y -qq "${packages[@]}" >"$work/purge.log" 2>&1 ||
                        cat "$work/purge.log" >&2
        fi
        rm -rf "$work"
}
trap cleanup EXIT

fail() {
        echo "check-debian: FAIL: $*" >&2
        failures=$((failures + 1))
}

ok() {
        echo "check-debian: ok: $*"
}

# A clean copy: the files git knows (tracked or new, as they are now), never
# build directories or other ignored files.
src=$work/vmlock
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$top" ls-files -z --cached --others --exclude-standard |
                tar -C "$top" --null -T - --ignore-failed-read -cf - 2>/dev/null |
                tar -C "$src" -xf -
else
        tar -C "$top" --exclude='./build*' --exclude='./obj-*' -cf - . | tar -C "$src" -xf -
fi
if ls -d "$src"/build* "$src"/obj-* >/dev/null 2>&1; then
        echo "check-debian: build directories in the source copy" >&2
        exit 1
fi

export DEBIAN_FRONTEND=noninteractive
[ "${VMLOCK_SKIP_DEPS:-0}" = 1 ] || apt-get update -qq
apt-get install -y -qq --no-install-recommends build-essential dpkg-dev debhelper \
        >"$work/deps.log" 2>&1 || { cat "$work/deps.log"; exit 1; }
apt-get build-dep -y -qq "$src" >>"$work/deps.log" 2>&1 || { cat "$work/deps.log"; exit 1; }

echo "check-debian: dpkg-buildpackage -us -uc -b"
start=$(date +%s)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
        tail -n 80 "$work/build.log"
        echo "check-debian: dpkg-buildpackage failed" >&2
        exit 1
fi
seconds=$(($(date +%s) - start))
grep -E '^(Ok|Fail|Skipped|Expected Fail|Unexpected Pass|Timeout):' "$work/build.log" |
        sed 's/^/check-debian: unit tests in the build: /' || true
ok "dpkg-buildpackage took ${seconds} s"

version=$(cd "$src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
debs=()
for package in "${packages[@]}"; do
        deb=$work/${package}_${version}_$arch.deb
        [ -f "$deb" ] || { fail "no $deb"; continue; }
        debs+=("$deb")
done
[ "$failures" -eq 0 ] || exit 1

# Each file in the package it belongs to.
contains() {
        dpkg-deb -c "$work/${1}_${version}_$arch.deb" | awk '{ print $6 }' | sed 's/^\.//' \
                >"$work/contents"
        shift
        for file in "$@"; do
                grep -qxF -- "$file" "$work/contents" || fail "$file is not in the package"
        done
}
contains libvmlock0 "/usr/lib/$multiarch/libvmlock.so.0"
contains libvmlock-dev /usr/include/vmlock/vmlock.h "/usr/lib/$multiarch/libvmlock.so" \
        "/usr/lib/$multiarch/pkgconfig/vmlock.pc"
contains vmlock /usr/bin/vmlock /etc/vmlock/vmlock.conf /usr/lib/tmpfiles.d/vmlock.conf \
        /usr/share/man/man1/vmlock.1.gz \
        /usr/share/man/man5/vmlock.conf.5.gz
contains vmlock-sanlock "/usr/lib/$multiarch/vmlock/lock-driver/sanlock.so" \
        /usr/sbin/vmlock-sanlock-cleanup /usr/libexec/vmlock-lockfailure-helper \
        /etc/vmlock/qemu-sanlock.conf /lib/systemd/system/vmlock-sanlock-cleanup.service \
        /lib/systemd/system/vmlock-sanlock-cleanup.timer /usr/share/augeas/lenses/vmlock.aug \
        /usr/share/man/man5/qemu-sanlock.conf.5.gz /usr/share/man/man8/vmlock-sanlock-cleanup.8.gz
contains vmlock-libvirt "/usr/lib/$multiarch/libvirt/lock-driver/vmlock.so" \
        /etc/libvirt/qemu-vmlock.conf
dpkg-deb -f "$work/vmlock-sanlock_${version}_$arch.deb" Depends | grep -qw sanlock ||
        fail "vmlock-sanlock does not depend on sanlock"
[ "$failures" -eq 0 ] && ok "packages: $(cd "$work" && echo *.deb)"

echo "check-debian: apt-get install ${debs[*]##*/}"
installed=1
apt-get install -y -qq --no-install-recommends "${debs[@]}" >"$work/install.log" 2>&1 ||
        { cat "$work/install.log"; exit 1; }

# --- the installed packages ---------------------------------------------
unset VMLOCK_CONFIG_DIR VMLOCK_PLUGIN_DIR LD_LIBRARY_PATH
export VMLOCK_STATE_DIR=$work/state
export SANLOCK_RUN_DIR=$work/no-daemon   # no sanlock daemon listens here
mkdir -p "$SANLOCK_RUN_DIR" "$work/sanlock"
cat >"$work/guest.xml" <<EOF
<domain type='kvm'>
  <name>check-debian</name>
  <uuid>0e4a1c57-3b7d-4f1e-a8c2-6d5b9e2f7a10</uuid>
  <devices>
    <disk type='file' device='disk'>
      <source file='$work/disk.img'/>
      <target dev='vda'/>
    </disk>
  </devices>
</domain>
EOF
echo 'lock_manager = "sanlock"' >"$work/sanlock/vmlock.conf"
printf 'auto_disk_leases = 1\nhost_id = 1\ndisk_lease_dir = "%s"\n' "$work" \
        >"$work/sanlock/qemu-sanlock.conf"

run() {
        status=0
        "$@" >"$work/out" 2>"$work/err" || status=$?
}

[ "$(command -v vmlock)" = /usr/bin/vmlock ] || fail "vmlock is not /usr/bin/vmlock"
run vmlock --version
upstream=${version%-*}
if [ "$status" -eq 0 ] && [ "$(cat "$work/out")" = "vmlock $upstream (libvmlock $upstream)" ]; then
        ok "installed vmlock --version: $(cat "$work/out")"
else
        fail "vmlock --version: status $status: $(cat "$work/out" "$work/err")"
fi
ldd /usr/bin/vmlock | grep -E "libvmlock.so.0 => (/usr)?/lib/$multiarch/libvmlock.so.0 " >/dev/null ||
        fail "vmlock does not use /usr/lib/$multiarch/libvmlock.so.0"

# /etc/vmlock/vmlock.conf as shipped: the nop driver.
run vmlock start "$work/guest.xml" -- /bin/true
[ "$status" -eq 0 ] && ok "vmlock start with /etc/vmlock (nop) -- /bin/true: 0" ||
        fail "vmlock start (shipped config) -- /bin/true: status $status: $(cat "$work/err")"

# The packaged plugin, from its compiled-in directory, finds no daemon.
run vmlock start --config "$work/sanlock" "$work/guest.xml" -- /bin/true
if [ "$status" -eq 125 ] &&
   grep -q "cannot reach the sanlock daemon: is it running? nothing listens on $SANLOCK_RUN_DIR/sanlock.sock" "$work/err"; then
        ok "/usr/lib/$multiarch/vmlock/lock-driver/sanlock.so loads, reports no daemon (125)"
else
        fail "vmlock start (sanlock, no daemon): status $status: $(cat "$work/err")"
fi

# The packaged vmlock.so, as libvirtd loads it from its lock-driver dir.
run python3 -c '
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW | os.RTLD_LOCAL)
print(ctypes.c_uint.in_dll(lib, "virLockDriverImpl").value)
' "/usr/lib/$multiarch/libvirt/lock-driver/vmlock.so"
[ "$status" -eq 0 ] && [ "$(cat "$work/out")" = 1000000 ] &&
        ok "/usr/lib/$multiarch/libvirt/lock-driver/vmlock.so loads: libvirt lock driver ABI 1000000" ||
        fail "vmlock.so for libvirt: status $status: $(cat "$work/out" "$work/err")"

run vmlock-sanlock-cleanup --version
[ "$status" -eq 0 ] && ok "installed $(cat "$work/out")" ||
        fail "vmlock-sanlock-cleanup --version: status $status"
if command -v augparse >/dev/null; then
        augparse /usr/share/augeas/lenses/tests/test_vmlock.aug &&
                ok "installed lens passes its installed test" ||
                fail "the installed lens fails its test"
fi
[ ! -e /etc/systemd/system/timers.target.wants/vmlock-sanlock-cleanup.timer ] ||
        fail "the cleanup timer was enabled at install"

if [ "$failures" -ne 0 ]; then
        echo "check-debian: $failures failure(s)" >&2
        exit 1
fi
echo "check-debian: the packages build, install and work"
