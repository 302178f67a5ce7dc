#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build, the test rig, lint and the
# benchmarks need, on a fresh Debian 12 machine. Idempotent and silent when
# nothing is missing.
#   scripts/install-deps.sh            every group (the make targets' default)
#   scripts/install-deps.sh GROUP...   only those groups
set -eu

# build: compilers and kernel build tools (the modules against any KDIR,
# the tools, the debug kernel).
build="build-essential bc bison flex libelf-dev libssl-dev dwarves kmod"
# ksrc: linux-source-6.1 (kselftest headers, checkpatch, the debug kernel).
ksrc="linux-source-6.1 xz-utils"
# rig: the stock test kernel and its headers, QEMU, the initramfs.
rig="linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static
cpio rsync"
# lint: sparse, git ls-files, docutils and pygments (".. code-block::").
lint="sparse git python3 python3-docutils python3-pygments"
# dkms: the suite built the way "dkms install" builds it (make check).
dkms="dkms"
# bench: tables (column) and plots.
bench="gnuplot-nox bsdextrautils"

[ $# -gt 0 ] || set -- build ksrc rig lint dkms bench
pkgs=""
for group in "$@"; do
	case "$group" in
	build) pkgs="$pkgs $build" ;;
	ksrc) pkgs="$pkgs $ksrc" ;;
	rig) pkgs="$pkgs $rig" ;;
	lint) pkgs="$pkgs $lint" ;;
	dkms) pkgs="$pkgs $dkms" ;;
	bench) pkgs="$pkgs $bench" ;;
	*) echo "usage: $0 [build|ksrc|rig|lint|dkms|bench]..." >&2; exit 2 ;;
	esac
done

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing" >&2
	echo "run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
