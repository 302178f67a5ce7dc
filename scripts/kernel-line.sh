#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fetch (once) the stock kernel of one line of scripts/kernels.conf from
# the Debian archive, without touching the machine's apt configuration or
# installing any package: a private apt state in the cache, apt-get
# download, dpkg-deb -x. Prints the line's cache directory, which holds
#   release   the kernel release (uname -r in the guest, vermagic)
#   vmlinuz   the kernel image
#   kdir      a symlink to the build directory modules are built against
#   modules/  lib/modules/<release> of the image, with modules.dep
# The 6.1 line is the machine's own packages: only links are made.
#
#   scripts/kernel-line.sh LINE
set -eu
. "$(dirname "$0")/lib.sh"
line=${1:?usage: $0 LINE}
suite=$(line_field "$line" 2) || exit 1
kind=$(line_field "$line" 3) || exit 1
dir=$CACHE_DIR/lines/$line
# One fetch of a line at a time (make vm while make check fetches): the
# second waits, then finds the line ready.
mkdir -p "$CACHE_DIR/lines"
exec 9> "$CACHE_DIR/lines/.$line.lock"
flock 9

if [ "$kind" = system ]; then
	rel=$(stock_kernel_release) || exit 1
	kdir=$(stock_kdir) || exit 1
	if [ "$(cat "$dir/release" 2>/dev/null)" != "$rel" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		ln -s "/boot/vmlinuz-$rel" "$dir/vmlinuz"
		ln -s "$kdir" "$dir/kdir"
		ln -s "/lib/modules/$rel" "$dir/modules"
		echo "$rel" > "$dir/release"
	fi
	echo "$dir"
	exit 0
fi
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

t0=$(now)
echo "kernel $line: fetching from Debian $suite" >&2
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root"
private_apt_init "$dir" "deb http://deb.debian.org/debian $suite main"

# The newest release of the line: linux-headers-6.12.95+deb12-amd64.
esc=$(echo "$line" | sed 's/\./\\./g')
rel=$(private_apt "$dir" apt-cache pkgnames linux-headers- |
      sed -n "s/^linux-headers-\\($esc\\.[0-9]*+deb[0-9]*-amd64\\)\$/\\1/p" |
      sort -V | tail -n 1)
[ -n "$rel" ] || die "no linux-headers-$line.*-amd64 in $suite"
abi=${rel%-amd64}
pkgs="linux-headers-$rel linux-headers-$abi-common"
if private_apt "$dir" apt-cache show "linux-binary-$rel" >/dev/null 2>&1; then
	# 7.x: the image package is a meta package; the kernel and the
	# modules come in linux-binary-* and linux-modules-*.
	pkgs="$pkgs linux-binary-$rel linux-modules-$rel"
else
	pkgs="$pkgs linux-image-$rel-unsigned"
fi
case "$kind" in
headers) pkgs="$pkgs linux-kbuild-$abi" ;;
source) ;;
*) die "kernels.conf: unknown kind $kind for $line" ;;
esac
# shellcheck disable=SC2086
(cd "$dir/debs" && private_apt "$dir" apt-get download $pkgs >&2) || die "download of $pkgs failed"
for deb in "$dir"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dir/root"
done

moddir=$dir/root/lib/modules/$rel
[ -d "$moddir" ] || moddir=$dir/root/usr/lib/modules/$rel
image=$moddir/vmlinuz
[ -f "$image" ] || image=$dir/root/boot/vmlinuz-$rel
[ -f "$image" ] || die "no kernel image in the packages of $rel"
/sbin/depmod -b "${moddir%/lib/modules/*}" "$rel" 2>"$dir/depmod.log" ||
	die "depmod of $rel failed"
hdr=$dir/root/usr/src/linux-headers-$rel

case "$kind" in
headers)
	# The headers' Makefile includes the common part by absolute path.
	sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" "$hdr/Makefile"
	kdir=$hdr
	;;
source)
	# The source package of exactly this version (a suite may carry
	# several); its tarball stays for the line's debug kernel.
	src=$dir/src
	mkdir -p "$src"
	tarball=$(fetch_line_source "$dir" "$line" "$rel") || exit 1
	tar -xJf "$tarball" -C "$src"
	kdir=$(echo "$src"/linux-source-*)
	cp "$hdr/.config" "$hdr/Module.symvers" "$kdir/"
	# Debian's own compiler for this line may be newer than Debian 12's:
	# only the compiler-probe options change (CONFIG_CC_*, GCC_VERSION).
	make -s -C "$kdir" olddefconfig >&2
	make -s -C "$kdir" -j"$(($(nproc) + 1))" KERNELRELEASE="$rel" \
		modules_prepare >&2 || die "modules_prepare of $rel failed"
	cp "$hdr/Module.symvers" "$kdir/"
	;;
esac
got=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h")
[ "$got" = "$rel" ] || die "build directory of $line says $got, not $rel"
ln -s "$image" "$dir/vmlinuz"
ln -s "$kdir" "$dir/kdir"
ln -s "$moddir" "$dir/modules"
echo "$rel" > "$dir/release"
touch "$dir/.done"
echo "kernel $line: $rel ready in $(($(now) - t0)) s" >&2
echo "$dir"
