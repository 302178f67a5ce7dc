#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install what the build, the test rig and the benchmarks need, on a fresh
# Debian 12 machine. Idempotent and silent when nothing is missing.
#   scripts/install-deps.sh           everything (the make targets' default)
#   scripts/install-deps.sh --build   only what building the modules against
#                                     a given KDIR, the selftests and the
#                                     tools takes
set -eu

# Compilers, kernel build tools, kselftest headers (linux-source-6.1).
BUILD_PKGS="build-essential bc bison flex libelf-dev libssl-dev dwarves kmod
linux-source-6.1 xz-utils"
# The stock test kernel and its headers, QEMU and the initramfs, lint
# (sparse, git ls-files, docutils and pygments for ".. code-block::"),
# benchmark tables and plots (column).
PKGS="$BUILD_PKGS linux-image-amd64 linux-headers-amd64
qemu-system-x86 busybox-static cpio rsync sparse git
python3 python3-docutils python3-pygments gnuplot-nox bsdextrautils"

case "${1:-}" in
--build) PKGS=$BUILD_PKGS ;;
"") ;;
*) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
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
