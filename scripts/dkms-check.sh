#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build the suite with dkms, as "dkms install" would, against the build
# directory of every kernel line (or the lines named), in a private dkms
# tree: the tracked files of this checkout become the source mmsuite-0.1.
# Fails unless every module dkms.conf names is built, for that release.
#   scripts/dkms-check.sh [LINE...]
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || set -- $(lines)
top=$REPO_ROOT/results/dkms
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$REPO_ROOT/dkms.conf")
rm -rf "$top"
mkdir -p "$top/src" "$top/tree"
git -C "$REPO_ROOT" ls-files | rsync -a --files-from=- "$REPO_ROOT/" "$top/src/mmsuite-$ver/"
bad=0
for line in "$@"; do
	kdir=$(kernel_kdir "$line") || exit 1
	rel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h")
	if ! dkms build -m mmsuite -v "$ver" -k "$rel" --kernelsourcedir "$kdir" \
		--dkmstree "$top/tree" --sourcetree "$top/src" >"$top/$line.log" 2>&1; then
		tail -n 30 "$top/$line.log" >&2
		cat "$top/tree/mmsuite/$ver/build/make.log" >&2 2>/dev/null || true
		echo "dkms: build for $rel failed" >&2
		bad=1
		continue
	fi
	built=""
	for ko in "$top/tree/mmsuite/$ver/$rel"/*/module/*.ko*; do
		v=$(/sbin/modinfo -F vermagic "$ko")
		[ "${v%% *}" = "$rel" ] || { echo "dkms: $ko is for ${v%% *}" >&2; bad=1; }
		built="$built $(basename "${ko%%.ko*}")"
	done
	echo "dkms: $rel:$built"
done
exit $bad
