#!/bin/bash
# Installs the Debian 12 packages vmlock needs to build, test and demo.
set -euo pipefail

packages=(
        build-essential meson ninja-build pkg-config
        libglib2.0-dev libjson-glib-dev
        sanlock libsanlock-dev
        clang libclang-rt-14-dev
        libselinux1-dev qemu-system-x86 qemu-utils
        augeas-tools scdoc
        libvirt-daemon-system libvirt-clients
        libsystemd-dev systemd
)

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: run as root (apt-get needs it)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
