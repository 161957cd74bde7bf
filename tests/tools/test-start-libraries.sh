#!/bin/bash
# What `vmlock start` loads before its guest's exec: the vmlock executable
# and the lock driver it opens, with everything they link, must not bring in
# the libraries only the supervisor or the other commands need (json-glib,
# GIO, GObject, libsystemd), libselinux (opened for a <seclabel> only), nor
# libxml2 with ICU and libstdc++ (README, Performance). TAP output.
#   test-start-libraries.sh VMLOCK_EXECUTABLE LOCK_DRIVER...
set -u

forbidden='libjson-glib|libgio-|libgobject-|libsystemd|libselinux|libxml2|libicu|libstdc\+\+'
n=0
failed=0
for object in "$@"; do
        n=$((n + 1))
        if ! linked=$(ldd "$object" 2>&1); then
                echo "not ok $n - ldd $object: $linked"
                failed=1
                continue
        fi
        extra=$(grep -Eo "($forbidden)[^ ]*" <<<"$linked" | sort -u | tr '\n' ' ')
        if [ -n "$extra" ]; then
                echo "not ok $n - $(basename "$object") loads $extra"
                failed=1
        else
                echo "ok $n - $(basename "$object") loads none of the supervisor's libraries"
        fi
done
echo "1..$n"
exit $failed
