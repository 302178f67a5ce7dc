# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts; sourced, never run.

REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE_DIR=${MMSUITE_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/mmsuite}
KSRC_TARBALL=/usr/src/linux-source-6.1.tar.xz

# In a command substitution die() ends only the subshell: callers that
# take a value with $(...) check its status ("v=$(f) || exit 1"; a bare
# assignment fails under set -e, an argument does not).
die() {
	echo "error: $*" >&2
	exit 1
}

# The newest installed Debian amd64 kernel image, e.g. 6.1.0-56-amd64.
stock_kernel_release() {
	# shellcheck disable=SC2012
	rel=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|.*/vmlinuz-||' |
	      sort -V | tail -n 1)
	[ -n "$rel" ] || die "no /boot/vmlinuz-*-amd64: run scripts/install-deps.sh"
	echo "$rel"
}

stock_kdir() {
	d=/usr/src/linux-headers-$(stock_kernel_release) || exit 1
	[ -d "$d" ] || die "$d missing: run scripts/install-deps.sh"
	echo "$d"
}

ksrc_version() {
	dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null ||
		die "linux-source-6.1 not installed: run scripts/install-deps.sh"
}

# Files from the kernel source package that the build uses (kselftest
# headers, checkpatch), unpacked once per source version.
ksrc_extract_dir() {
	v=$(ksrc_version) || exit 1
	echo "$CACHE_DIR/ksrc-$v"
}

ensure_ksrc_extract() {
	d=$(ksrc_extract_dir) || exit 1
	if [ ! -f "$d/.done" ]; then
		mkdir -p "$d"
		tar -xJf "$KSRC_TARBALL" -C "$d" --strip-components=1 \
			linux-source-6.1/tools/testing/selftests/kselftest.h \
			linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
			linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch
		touch "$d/.done"
	fi
	echo "$d"
}

# Cache key of the debug kernel: source version + config + build recipe.
debug_kernel_key() {
	h=$(cat "$REPO_ROOT/scripts/kconfig/debug.config" \
		"$REPO_ROOT/scripts/debug-kernel.sh" | sha256sum | cut -c1-12)
	v=$(ksrc_version) || exit 1
	echo "$v-$h"
}

debug_kdir() {
	k=$(debug_kernel_key) || exit 1
	echo "$CACHE_DIR/debug-kernel/$k/linux"
}

now() {
	date +%s
}
