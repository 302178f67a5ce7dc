#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install what the build, the test rig and the benchmarks need.
# Idempotent: only missing packages are installed.
set -eu

PKGS="linux-image-amd64 linux-headers-amd64 linux-source-6.1
qemu-system-x86 busybox-static sparse cpio xz-utils
build-essential bc bison flex libelf-dev libssl-dev dwarves kmod rsync
python3 python3-docutils gnuplot-nox"

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
