#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print a sparse that the kernel build directory KDIR accepts: Debian 12's
# own (0.6.4) where it does, else one built once from the newest source
# package in Debian's archive (sid), cached. 7.3's kbuild asks for
# __typeof_unqual__ (scripts/checker-valid.sh), which 0.6.4 lacks and
# 0.6.5-rc1 has. Nothing is installed: a private apt state fetches the
# source, as for the kernel lines.
#   scripts/sparse.sh KDIR
set -eu
. "$(dirname "$0")/lib.sh"
kdir=${1:?usage: $0 KDIR}

valid() {	# valid <sparse>: what KDIR's kbuild checks, if it checks
	[ -f "$kdir/scripts/checker-valid.sh" ] || return 0
	[ "$(sh "$kdir/scripts/checker-valid.sh" "$1" -m64)" = 1 ]
}

if valid sparse; then
	command -v sparse
	exit 0
fi
dir=$CACHE_DIR/sparse
if [ -x "$dir/sparse" ] && valid "$dir/sparse"; then
	echo "$dir/sparse"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/src"
private_apt_init "$dir" "deb-src http://deb.debian.org/debian sid main"
(cd "$dir/src" && private_apt "$dir" apt-get source --download-only sparse >&2) ||
	die "download of sparse's source failed"
tar -xf "$dir"/src/sparse_*.orig.tar.* -C "$dir/src"
make -s -C "$dir"/src/sparse-*/ -j"$(($(nproc) + 1))" sparse >"$dir/build.log" 2>&1 ||
	{ cat "$dir/build.log" >&2; die "sparse build failed"; }
cp "$dir"/src/sparse-*/sparse "$dir/sparse"
valid "$dir/sparse" || die "sparse from sid is not accepted by $kdir either"
echo "sparse: built $(basename "$(echo "$dir"/src/sparse_*.dsc)" .dsc) for $kdir" >&2
echo "$dir/sparse"
