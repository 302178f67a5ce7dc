#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Build (once) the debug test kernel of one kernel line from its
# linux-source package and print its build directory. The configuration
# is a minimal test guest, not a distribution kernel: allnoconfig, then
# the line's Debian settings of every symbol mm/Kconfig and
# arch/x86/Kconfig define (the memory-management features the
# distribution kernel has, and how x86 runs them), then
# scripts/kconfig/guest.config (boot, serial console, what the tests use)
# and debug.config (the checkers). Cached per line by source version,
# fragments and this recipe.
#
#   scripts/debug-kernel.sh [LINE]      (default: the oldest line)
set -eu
. "$(dirname "$0")/lib.sh"
line=${1:-$(lines | head -n 1)}
KDIR=$(debug_kdir "$line") || exit 1
TOP=$(dirname "$KDIR")
JOBS=${JOBS:-$(($(nproc) + 1))}
KC=$REPO_ROOT/scripts/kconfig

# One build of a line at a time (make check's background builds, make vm
# in another shell): a second caller waits, then finds it done.
mkdir -p "$CACHE_DIR/debug-kernel"
exec 9>"$CACHE_DIR/debug-kernel/$line.lock"
flock 9
if [ -f "$TOP/.done" ]; then
	echo "$KDIR"
	exit 0
fi

t0=$(now)
echo "debug kernel $line: building in $TOP (10 to 35 minutes on 2 cores)" >&2
# Builds of this line for older sources or configurations are of no
# further use.
rm -rf "$(dirname "$TOP")"/*
mkdir -p "$TOP"
tarball=$(line_source_tarball "$line") || exit 1
debian_config=$(line_debian_config "$line") || exit 1
tar -xJf "$tarball" -C "$TOP"
mv "$TOP"/linux-source-* "$KDIR"

cd "$KDIR"
# Debian's choice for every symbol of mm/Kconfig and arch/x86/Kconfig
# (set or not set): its memory-management features and how x86 runs
# them (NR_CPUS >= 4 gives split page-table locks, PARAVIRT the RCU
# freeing of page tables on some lines, page-table isolation, shadow
# stacks, KASLR).
syms=$(sed -n 's/^\(menu\)\?config \([A-Z0-9_]*\)$/\2/p' mm/Kconfig arch/x86/Kconfig | sort -u)
for s in $syms; do
	grep -E "^(CONFIG_$s=|# CONFIG_$s is not set)" "$debian_config" || true
done > "$TOP/debian-mm.config"
make -s allnoconfig >&2
frags="$TOP/debian-mm.config $KC/guest.config $KC/debug.config"
./scripts/kconfig/merge_config.sh -m .config $frags >/dev/null
make -s olddefconfig >&2
if ! grep -q '^CONFIG_ARCH_HAS_PREEMPT_LAZY=y' .config; then
	frags="$frags $KC/voluntary.config"
	./scripts/kconfig/merge_config.sh -m .config "$KC/voluntary.config" >/dev/null
	make -s olddefconfig >&2
fi

# Fail loudly if Kconfig dropped anything our fragments ask for (Debian's
# mm settings are taken as far as the minimal base allows). A symbol this
# line's Kconfig does not define is not checked.
find . -name 'Kconfig*' -exec sed -n 's/^[[:space:]]*\(menu\)\?config \([A-Z0-9_]*\).*/CONFIG_\2/p' {} + |
	sort -u > "$TOP/kconfig-symbols"
bad=0
for frag in $frags; do
	[ "$frag" = "$TOP/debian-mm.config" ] && continue
	while IFS= read -r opt; do
		sym=$(echo "$opt" | sed -n 's/^\(# \)\?\(CONFIG_[A-Z0-9_]*\).*/\2/p')
		[ -z "$sym" ] || grep -qx "$sym" "$TOP/kconfig-symbols" || continue
		case "$opt" in
		CONFIG_*=*)
			grep -qx "$opt" .config || { echo "kconfig: $opt not set ($(basename "$frag"))" >&2; bad=1; }
			;;
		"# CONFIG_"*" is not set")
			opt=${opt#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" .config; then
				echo "kconfig: $opt still enabled ($(basename "$frag"))" >&2
				bad=1
			fi
			;;
		esac
	done < "$frag"
done
[ $bad -eq 0 ] || die "debug kernel $line: config does not match the fragments"

make -s -j"$JOBS" bzImage modules >"$TOP/build.log" 2>&1 ||
	{ tail -n 40 "$TOP/build.log" >&2; die "debug kernel $line: build failed"; }
make -s modules_prepare >>"$TOP/build.log" 2>&1
touch "$TOP/.done"
echo "debug kernel $line: $(cat include/config/kernel.release) built in $(($(now) - t0)) s" >&2
echo "$KDIR"
