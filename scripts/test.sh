#!/bin/bash
# The test command: installs what is missing, builds with warnings as errors and
# runs every test, including those against real sanlock daemons.
#   sudo scripts/test.sh            (VMLOCK_SKIP_DEPS=1 skips apt-get)
set -euo pipefail
cd "$(dirname "$0")/.."

[ "${VMLOCK_SKIP_DEPS:-0}" = 1 ] || scripts/install-deps.sh

builddir=${VMLOCK_BUILDDIR:-build}
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dwerror=true -Dsanlock=enabled -Dlibvirt=enabled
meson compile -C "$builddir"
meson test -C "$builddir" --print-errorlogs "$@"
