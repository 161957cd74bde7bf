#!/bin/bash
# Installs vmlock as a distribution would (--prefix=/usr --sysconfdir=/etc,
# into a DESTDIR), checks that every file lands where it belongs and nothing
# else is installed, that the compiled-in paths point into that layout, and
# runs the INSTALLED vmlock against the INSTALLED sanlock plugin.
#   scripts/check-install.sh        (VMLOCK_INSTALL_BUILDDIR: build dir, default build-install)
set -euo pipefail
cd "$(dirname "$0")/.."

builddir=${VMLOCK_INSTALL_BUILDDIR:-build-install}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
staging=$work/staging
failures=0

fail() {
        echo "check-install: FAIL: $*" >&2
        failures=$((failures + 1))
}

ok() {
        echo "check-install: ok: $*"
}

rm -rf "$builddir"
meson setup "$builddir" --prefix=/usr --sysconfdir=/etc -Dsanlock=enabled -Dman=enabled -Dlibvirt=enabled \
        >"$work/setup.log" || { cat "$work/setup.log"; exit 1; }
meson compile -C "$builddir" >"$work/compile.log" || { cat "$work/compile.log"; exit 1; }
DESTDIR=$staging meson install -C "$builddir" --no-rebuild --quiet

# Where meson put libraries (lib/<multiarch> on Debian).
option() {
        meson introspect "$builddir" --buildoptions |
                python3 -c 'import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
libdir=/usr/$(option libdir)
version=$(meson introspect "$builddir" --projectinfo |
          python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
plugindir=$libdir/vmlock/lock-driver
libvirt_plugindir=$libdir/libvirt/lock-driver

# --- the layout ---------------------------------------------------------
expected=(
        /usr/bin/vmlock
        /usr/sbin/vmlock-sanlock-cleanup
        /usr/libexec/vmlock-lockfailure-helper
        "$libdir/libvmlock.so.$version"
        "$libdir/libvmlock.so.0"
        "$libdir/libvmlock.so"
        "$libdir/pkgconfig/vmlock.pc"
        "$plugindir/sanlock.so"
        "$libdir/vmlock/vmlock-daemon.so"
        "$libvirt_plugindir/vmlock.so"
        /etc/libvirt/qemu-vmlock.conf
        /usr/include/vmlock/vmlock.h
        /usr/include/vmlock/vmlock-common.h
        /usr/include/vmlock/error.h
        /usr/include/vmlock/config.h
        /usr/include/vmlock/domain.h
        /usr/include/vmlock/lock-manager.h
        /usr/include/vmlock/domain-lock.h
        /etc/vmlock/vmlock.conf
        /etc/vmlock/qemu-sanlock.conf
        /usr/share/augeas/lenses/vmlock.aug
        /usr/share/augeas/lenses/tests/test_vmlock.aug
        /usr/lib/systemd/system/vmlock-sanlock-cleanup.service
        /usr/lib/systemd/system/vmlock-sanlock-cleanup.timer
        /usr/lib/systemd/system/vmlock-lockspace.service
        /usr/lib/systemd/system/vmlock-metrics.service
        /usr/lib/systemd/system/vmlock-metrics.timer
        /usr/lib/systemd/system/vmlock@.service
        /usr/share/bash-completion/completions/vmlock
        /usr/lib/tmpfiles.d/vmlock.conf
        /usr/share/man/man1/vmlock.1
        /usr/share/man/man5/vmlock.conf.5
        /usr/share/man/man5/qemu-sanlock.conf.5
        /usr/share/man/man8/vmlock-sanlock-cleanup.8
)
for file in "${expected[@]}"; do
        [ -e "$staging$file" ] || fail "missing $file"
done
printf '%s\n' "${expected[@]}" | sort >"$work/expected"
(cd "$staging" && find . ! -type d | sed 's/^\.//' | sort) >"$work/installed"
unexpected=$(comm -13 "$work/expected" "$work/installed")
[ -z "$unexpected" ] || fail "installed but not expected: $(tr "\n" " " <<<"$unexpected")"
[ -L "$staging$libdir/libvmlock.so.0" ] || fail "$libdir/libvmlock.so.0 is not a symlink"
[ -x "$staging/usr/bin/vmlock" ] && [ -x "$staging/usr/sbin/vmlock-sanlock-cleanup" ] &&
        [ -x "$staging/usr/libexec/vmlock-lockfailure-helper" ] || fail "a program is not executable"
[ "$failures" -eq 0 ] && ok "${#expected[@]} files in place, nothing else installed"

# --- compiled-in paths match the layout ---------------------------------
export LD_LIBRARY_PATH=$staging$libdir
if ldd "$staging/usr/bin/vmlock" | grep "libvmlock.so.0 => $staging$libdir/" >/dev/null; then
        ok "installed vmlock links the installed libvmlock"
else
        fail "installed vmlock does not resolve libvmlock.so.0 to $staging$libdir"
fi
help=$("$staging/usr/bin/vmlock" --help)
grep -q "VMLOCK_CONFIG_DIR  configuration directory (default /etc/vmlock)" <<<"$help" ||
        fail "vmlock's default config dir is not /etc/vmlock"
grep -q "VMLOCK_PLUGIN_DIR  lock drivers (default $plugindir)" <<<"$help" ||
        fail "vmlock's default plugin dir is not $plugindir"
grep -qa /usr/libexec/vmlock-lockfailure-helper "$staging$plugindir/sanlock.so" ||
        fail "sanlock.so does not name /usr/libexec/vmlock-lockfailure-helper"
grep -qa /usr/lib/libvirt/libvirt_sanlock_helper "$staging$libvirt_plugindir/vmlock.so" ||
        fail "vmlock.so does not name libvirt's /usr/lib/libvirt/libvirt_sanlock_helper"
grep -q "default: \$VMLOCK_CONFIG_DIR, else /etc/vmlock" \
        <("$staging/usr/sbin/vmlock-sanlock-cleanup" --help) ||
        fail "vmlock-sanlock-cleanup's default config dir is not /etc/vmlock"
unit=$staging/usr/lib/systemd/system/vmlock-sanlock-cleanup.service
grep -qx "ExecStart=/usr/sbin/vmlock-sanlock-cleanup" "$unit" &&
        grep -qx "ConditionPathExists=/etc/vmlock/qemu-sanlock.conf" "$unit" ||
        fail "the service unit does not name /usr/sbin and /etc/vmlock"
unit=$staging/usr/lib/systemd/system/vmlock-lockspace.service
grep -qx "ExecStart=/usr/bin/vmlock lockspace join" "$unit" &&
        grep -qx "After=sanlock.service" "$unit" && grep -qx "Type=oneshot" "$unit" &&
        grep -qx "RemainAfterExit=yes" "$unit" &&
        grep -qx "ConditionPathExists=/etc/vmlock/qemu-sanlock.conf" "$unit" ||
        fail "the lockspace unit does not join with /usr/bin/vmlock after sanlock.service"
grep -q "^ExecStart=/usr/bin/vmlock metrics --output " \
        "$staging/usr/lib/systemd/system/vmlock-metrics.service" ||
        fail "the metrics unit does not run /usr/bin/vmlock metrics --output"
unit=$staging/usr/lib/systemd/system/vmlock@.service
grep -qx "Type=notify" "$unit" &&
        grep -qx 'ExecStart=/usr/bin/vmlock start $START_OPTIONS /etc/vmlock/guests/%i.xml -- $GUEST_COMMAND' "$unit" &&
        grep -qx 'ExecStop=/usr/bin/vmlock stop --timeout ${STOP_TIMEOUT} %i' "$unit" ||
        fail "the guest unit does not run /usr/bin/vmlock start/stop on /etc/vmlock/guests (Type=notify)"
[ -d "$staging/etc/vmlock/guests" ] || fail "missing the directory /etc/vmlock/guests"
grep -Eqx 'd /run/vmlock 0700 root root -' "$staging/usr/lib/tmpfiles.d/vmlock.conf" ||
        fail "the tmpfiles.d entry does not make /run/vmlock 0700 root"
if command -v systemd-tmpfiles >/dev/null; then
        # what boot would do, into a scratch root
        mkdir -p "$work/tmpfiles-root/run"
        systemd-tmpfiles --create --root="$work/tmpfiles-root" \
                "$staging/usr/lib/tmpfiles.d/vmlock.conf" 2>"$work/tmpfiles.log" &&
                [ "$(stat -c '%a %U %G' "$work/tmpfiles-root/run/vmlock")" = "700 root root" ] ||
                fail "systemd-tmpfiles does not make /run/vmlock 0700 root: $(cat "$work/tmpfiles.log")"
fi
grep -qx "prefix=/usr" "$staging$libdir/pkgconfig/vmlock.pc" ||
        fail "vmlock.pc has the wrong prefix"
sed 's/\\&//g' "$staging/usr/share/man/man1/vmlock.1" | grep /etc/vmlock/vmlock.conf >/dev/null ||
        fail "vmlock(1) does not name /etc/vmlock/vmlock.conf"
if command -v augparse >/dev/null; then
        augparse -I "$staging/usr/share/augeas/lenses" \
                "$staging/usr/share/augeas/lenses/tests/test_vmlock.aug" ||
                fail "the installed lens fails its installed test"
fi
[ "$failures" -eq 0 ] && ok "compiled-in paths: /etc/vmlock, $plugindir, /usr/libexec"

# --- the installed programs ---------------------------------------------
vmlock=$staging/usr/bin/vmlock
export VMLOCK_PLUGIN_DIR=$staging$plugindir
export VMLOCK_STATE_DIR=$work/state
export SANLOCK_RUN_DIR=$work/no-daemon   # no sanlock daemon listens here
mkdir -p "$work/nop" "$work/sanlock" "$work/bad" "$work/leases" "$SANLOCK_RUN_DIR"
cat >"$work/guest.xml" <<EOF
<domain type='kvm'>
  <name>check-install</name>
  <uuid>5d3c3b0e-7f4a-4e55-9c1d-2a9c8e1f6b01</uuid>
  <devices>
    <disk type='file' device='disk'>
      <source file='$work/disk.img'/>
      <target dev='vda'/>
    </disk>
  </devices>
</domain>
EOF
echo 'lock_manager = "nop"' >"$work/nop/vmlock.conf"
echo 'lock_manager = "sanlock"' >"$work/sanlock/vmlock.conf"
printf 'auto_disk_leases = 1\nhost_id = 1\ndisk_lease_dir = "%s"\n' "$work/leases" \
        >"$work/sanlock/qemu-sanlock.conf"
echo 'lock_manager = "sanlock"' >"$work/bad/vmlock.conf"
printf 'auto_disk_leases = 1\nhost_id = 2001\n' >"$work/bad/qemu-sanlock.conf"

# Runs the command, recording its status and stderr; never fails itself.
run() {
        status=0
        "$@" >"$work/out" 2>"$work/err" || status=$?
}

run "$vmlock" --version
out=$(cat "$work/out")
if [ "$status" -eq 0 ] && [ "$out" = "vmlock $version (libvmlock $version)" ]; then
        ok "vmlock --version: $out"
else
        fail "vmlock --version: status $status, '$out'"
fi

run "$vmlock" start --config "$work/nop" "$work/guest.xml" -- /bin/true
[ "$status" -eq 0 ] && ok "vmlock start (nop) -- /bin/true: 0" ||
        fail "vmlock start (nop) -- /bin/true: status $status: $(cat "$work/err")"
run "$vmlock" start --config "$work/nop" "$work/guest.xml" -- /bin/sh -c 'exit 7'
[ "$status" -eq 7 ] && ok "vmlock start (nop) passes the guest's status on: 7" ||
        fail "vmlock start (nop) -- exit 7: status $status: $(cat "$work/err")"

# The plugin loads (the message is its own) and finds no daemon.
run "$vmlock" start --config "$work/sanlock" "$work/guest.xml" -- /bin/true
if [ "$status" -eq 125 ] &&
   grep -q "cannot reach the sanlock daemon: is it running? nothing listens on $SANLOCK_RUN_DIR/sanlock.sock" "$work/err"; then
        ok "installed sanlock.so loads and reports no daemon (125): $(cat "$work/err")"
else
        fail "vmlock start (sanlock, no daemon): status $status: $(cat "$work/err")"
fi
run "$vmlock" start --config "$work/bad" "$work/guest.xml" -- /bin/true
if [ "$status" -eq 125 ] &&
   grep -q "$work/bad/qemu-sanlock.conf: host_id = 2001 is out of range (1 to 2000)" "$work/err"; then
        ok "installed sanlock.so reads qemu-sanlock.conf (125): $(cat "$work/err")"
else
        fail "vmlock start (sanlock, bad host_id): status $status: $(cat "$work/err")"
fi

# vmlock.so as libvirtd loads it (RTLD_NOW|RTLD_LOCAL, virLockDriverImpl,
# init with the ABI version); outside libvirt its errors go to stderr.
run python3 -c '
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW | os.RTLD_LOCAL)
class Driver(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint), ("flags", ctypes.c_uint),
                ("init", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint, ctypes.c_char_p,
                                          ctypes.c_uint))]
driver = Driver.in_dll(lib, "virLockDriverImpl")
print(driver.version, driver.flags)
sys.exit(3 if driver.init(1000000, sys.argv[2].encode(), 0) == -1 else 0)
' "$staging$libvirt_plugindir/vmlock.so" "$work/bad/qemu-sanlock.conf"
if [ "$status" -eq 3 ] && [ "$(cat "$work/out")" = "1000000 1" ] &&
   grep -q "vmlock: error: $work/bad/qemu-sanlock.conf: host_id = 2001 is out of range" "$work/err"; then
        ok "installed vmlock.so loads as libvirtd loads it, errors to stderr: $(cat "$work/err")"
else
        fail "vmlock.so for libvirt: status $status: $(cat "$work/out" "$work/err")"
fi

run "$staging/usr/sbin/vmlock-sanlock-cleanup" --config "$work/sanlock"
if [ "$status" -eq 3 ] && grep -q "cannot reach the sanlock daemon" "$work/err"; then
        ok "installed vmlock-sanlock-cleanup reports no daemon (3)"
else
        fail "vmlock-sanlock-cleanup (no daemon): status $status: $(cat "$work/err")"
fi
run "$staging/usr/libexec/vmlock-lockfailure-helper"
[ "$status" -eq 1 ] && grep -q "^Usage: " "$work/err" &&
        ok "installed vmlock-lockfailure-helper runs (usage, 1)" ||
        fail "vmlock-lockfailure-helper without arguments: status $status: $(cat "$work/err")"

if [ "$failures" -ne 0 ]; then
        echo "check-install: $failures failure(s)" >&2
        exit 1
fi
echo "check-install: the installed layout works"
