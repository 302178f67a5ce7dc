#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build (once) the debug test kernel from linux-source-6.1 and print its
# build directory. Cached by source version and config hash.
set -eu
. "$(dirname "$0")/lib.sh"

KDIR=$(debug_kdir)
TOP=$(dirname "$KDIR")
JOBS=${JOBS:-$(($(nproc) + 1))}

if [ -f "$TOP/.done" ]; then
	echo "$KDIR"
	exit 0
fi

t0=$(now)
echo "debug kernel: building in $TOP (7 to 35 minutes on 2 cores)" >&2
# Builds for older configs or sources are of no further use.
rm -rf "$(dirname "$TOP")"/*
mkdir -p "$TOP"
tar -xJf "$KSRC_TARBALL" -C "$TOP"
mv "$TOP/linux-source-6.1" "$KDIR"

cd "$KDIR"
make -s x86_64_defconfig >&2
./scripts/kconfig/merge_config.sh -m .config kernel/configs/kvm_guest.config \
	"$REPO_ROOT/scripts/kconfig/debug.config" >/dev/null
make -s olddefconfig >&2

# Fail loudly if Kconfig dropped anything the fragment asks for.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qx "$line" .config || { echo "kconfig: $line not set" >&2; bad=1; }
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -q "^$opt=" .config; then
			echo "kconfig: $opt still enabled" >&2
			bad=1
		fi
		;;
	esac
done < "$REPO_ROOT/scripts/kconfig/debug.config"
[ $bad -eq 0 ] || die "debug kernel config does not match the fragment"

make -s -j"$JOBS" bzImage modules >"$TOP/build.log" 2>&1 ||
	{ tail -n 40 "$TOP/build.log" >&2; die "debug kernel build failed"; }
make -s modules_prepare >>"$TOP/build.log" 2>&1
touch "$TOP/.done"
echo "debug kernel: built in $(($(now) - t0)) s" >&2
echo "$KDIR"
