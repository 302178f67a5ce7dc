#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The rig proves it can fail: a module that WARNs must fail the run even
# though the guest command succeeds, a module that never finishes loading
# must be killed at the timeout and fail the run, and a clean run passes.
set -eu
. "$(dirname "$0")/lib.sh"
kernel=${1:-stock}
mods=$REPO_ROOT/selftests/rig/modules
out=$REPO_ROOT/results/rig-selftest
bad=0

expect() {	# expect <want: pass|fail> <what> <vm.sh args...>
	want=$1 what=$2
	shift 2
	if "$REPO_ROOT/scripts/vm.sh" --kernel "$kernel" --no-build --quiet \
		--out "$out/$what" "$@" >"$out/$what.log" 2>&1; then
		got=pass
	else
		got=fail
	fi
	if [ "$got" = "$want" ]; then
		echo "rig self-test: $what: $got as expected"
	else
		echo "rig self-test: $what: expected $want, got $got" >&2
		cat "$out/$what.log" >&2
		bad=1
	fi
}

mkdir -p "$out"
expect pass clean-run 'true'
expect fail guest-fails 'false'
expect fail warn-caught --ko "$mods/rig_warn.ko" 'insmod /lib/mmsuite/rig_warn.ko'
expect fail hang-caught --timeout 60 --ko "$mods/rig_hang.ko" \
	'insmod /lib/mmsuite/rig_hang.ko'
grep -q 'timed out' "$out/hang-caught.log" ||
	{ echo "rig self-test: hang not reported as a timeout" >&2; bad=1; }
grep -q 'WARNING: .*rig_warn' "$out/warn-caught.log" ||
	{ echo "rig self-test: WARN not shown in the report" >&2; bad=1; }

# A module built for another kernel line is refused by the kernel's own
# check, with its usual message, and nothing is reported.
this=$(kernel_name "$kernel")
this=${this%-debug}
for other in $(lines); do
	[ "$other" != "$this" ] || continue
	odir=$out/built-for-$other
	rm -rf "$odir"
	mkdir -p "$odir"
	cp "$mods"/Kbuild "$mods"/*.c "$odir/"
	make -s -C "$(kernel_kdir "$other")" M="$odir" CONFIG_DEBUG_INFO_BTF_MODULES= \
		modules >"$odir/build.log" 2>&1 || { cat "$odir/build.log" >&2; bad=1; continue; }
	expect pass "refused-$other-module" --ko "$odir/rig_warn.ko" \
		'! insmod /lib/mmsuite/rig_warn.ko && ! grep -q "^rig_warn " /proc/modules &&
		 dmesg | grep -E "rig_warn: (version magic|disagrees about version of symbol)"'
done
exit $bad
