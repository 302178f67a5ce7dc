#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Boot a test kernel in QEMU (TCG) with the project's modules and selftests
# in an initramfs, run one shell command in the guest, bring its output
# back and exit with its status. Fails on a hang (timeout) and on any
# kernel report in the console log, even if the command succeeded.
#
#   scripts/vm.sh [options] [--] 'guest shell command'
#     --kernel NAME          kernel to boot: a line of scripts/kernels.conf
#                            (6.1, 6.12, 7.3), <line>-debug, or stock and
#                            debug for the oldest line's (default stock)
#     --paging 4|5           page-table levels (default 5)
#     --mem MIB              guest memory (default 2048)
#     --timeout SEC          hard limit for the whole run (default 600)
#     --out DIR              where console.log and output.txt go
#     --ko FILE              extra module to put in /lib/mmsuite (repeatable)
#     --no-build             do not rebuild modules and selftests
#     --quiet                do not stream the command's output
#     --interactive          shell on the console instead of a command
set -eu
. "$(dirname "$0")/lib.sh"

kernel=stock
paging=5
mem=2048
timeout=600
out=""
extra_ko=""
build=1
quiet=0
interactive=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--paging) paging=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--ko) extra_ko="$extra_ko $2"; shift 2 ;;
	--no-build) build=0; shift ;;
	--quiet) quiet=1; shift ;;
	--interactive) interactive=1; shift ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
cmd=${*:-true}

kernel=$(kernel_name "$kernel") || exit 1
if is_debug_kernel "$kernel"; then
	kdir=$(kernel_kdir "$kernel") || exit 1
	image=$kdir/arch/x86/boot/bzImage
	release=$(cat "$kdir/include/config/kernel.release")
	moddir=""	# what the tests use is built in
else
	line_dir=$("$REPO_ROOT/scripts/kernel-line.sh" "$kernel") || exit 1
	kdir=$(cd "$line_dir/kdir" && pwd -P)
	image=$line_dir/vmlinuz
	release=$(cat "$line_dir/release")
	moddir=$line_dir/modules
fi
case "$paging" in
4) cpu=max,la57=off ;;
5) cpu=max ;;
*) die "--paging must be 4 or 5" ;;
esac

[ -n "$out" ] || out=$REPO_ROOT/results/vm/$kernel-$paging
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ $build -eq 1 ]; then
	make -s -C "$REPO_ROOT" KDIR="$kdir" modules >&2
	make -s -C "$REPO_ROOT" selftests tools >&2
fi

# --- initramfs ---
root=$out/initramfs
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/etc/mmsuite" "$root/proc" \
	"$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/lib/mmsuite" \
	"$root/selftests" "$root/mnt"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$REPO_ROOT/scripts/guest-init.sh" "$root/init"
cp "$REPO_ROOT/scripts/guest-selftests.sh" "$root/bin/run-selftests"
cp "$REPO_ROOT/scripts/guest-demo.sh" "$root/bin/guest-demo"
chmod +x "$root/init" "$root/bin/run-selftests" "$root/bin/guest-demo"
# Only modules built for this kernel: a tree built for another line
# before keeps that line's objects (mshare is built for some lines only).
for ko in $(built_modules "$release"); do
	cp "$ko" "$root/lib/mmsuite/"
done
for ko in $extra_ko; do
	cp "$ko" "$root/lib/mmsuite/"
done
if [ -d "$REPO_ROOT/selftests/out" ]; then
	cp -r "$REPO_ROOT/selftests/out/." "$root/selftests/"
fi
[ -d "$REPO_ROOT/bench/out" ] && cp -r "$REPO_ROOT/bench/out" "$root/bench"
[ -d "$REPO_ROOT/tools/out" ] && cp "$REPO_ROOT"/tools/out/* "$root/bin/"

# Distribution modules the tests use (zram for swap; loop and vfat for a
# filesystem with writeback; fuse for an object whose server stalls);
# built in on the debug kernels. Newer lines ship them
# xz-compressed: unpacked here, busybox's insmod reads plain ELF only.
if [ -n "$moddir" ] && [ -f "$moddir/modules.dep" ]; then
	mods="mm/zsmalloc drivers/block/zram/zram drivers/block/loop fs/fat/fat
		fs/fat/vfat fs/nls/nls_cp437 fs/nls/nls_ascii fs/nls/nls_utf8
		fs/fuse/fuse"
	gmoddir=$root/lib/modules/$release
	mkdir -p "$gmoddir"
	: > "$gmoddir/modules.dep"
	for m in $mods; do
		dep=$(grep "^kernel/$m\.ko\(\.xz\)\?:" "$moddir/modules.dep") || continue
		# modules.dep lists every module this one needs (zram needs
		# lz4hc_compress on 7.3): each is copied with its own line.
		for f in $(echo "$dep" | tr -d ':'); do
			g=${f%.xz}
			[ -f "$gmoddir/$g" ] && continue
			mkdir -p "$gmoddir/$(dirname "$g")"
			case "$f" in
			*.xz) xz -dc "$moddir/$f" > "$gmoddir/$g" ;;
			*) cp "$moddir/$f" "$gmoddir/$g" ;;
			esac
			grep "^$f:" "$moddir/modules.dep" | sed 's/\.ko\.xz/.ko/g' \
				>> "$gmoddir/modules.dep"
		done
	done
fi

cat > "$root/etc/mmsuite/env" <<ENV
MMSUITE_KERNEL=$kernel
MMSUITE_RELEASE=$release
MMSUITE_PAGING=$paging
MMSUITE_INTERACTIVE=$interactive
ENV
printf '%s\n' "$cmd" > "$root/etc/mmsuite/cmd"
(cd "$root" && find . | cpio -o -H newc --quiet) > "$out/initramfs.cpio"

# --- boot ---
append="console=ttyS0 panic=-1 loglevel=7 rdinit=/init"
append="$append transparent_hugepage=always hugepages=64"
# 6.1 keeps memfd_secret() off by default; the tests map secretmem objects.
append="$append secretmem.enable=1"
# Two NUMA nodes by default (MMSUITE_NUMA=0 for one), half the memory
# each, so that tests can migrate pages between nodes (move_pages()). Both vCPUs are on node 0 (a vCPU per node
# makes the kernel warn that cache siblings span nodes). NUMA balancing is
# off: with two nodes it would turn test pages into NUMA-hinting
# (PROT_NONE) entries behind the tests' backs.
numa=${MMSUITE_NUMA:-1}
half=$((mem / 2))
[ "$numa" -eq 0 ] || append="$append numa_balancing=disable"
console=$out/console.log
output=$out/output.txt
rm -f "$console" "$output" "$out"/console-stalled-*.log "$out"/console-bootreport-*.log
# Single-threaded TCG: with one host thread per vCPU (MTTCG) a vCPU was
# seen stuck for good on an int3 that text_poke_bp() had just written while
# the other vCPU patched a static call (toyalloc attaching its tracepoint
# probes). Round-robin vCPUs keep cross-modifying code coherent.
set -- qemu-system-x86_64 -accel tcg,thread=single -cpu "$cpu" -smp 2 -m "$mem" \
	-kernel "$image" -initrd "$out/initramfs.cpio" -append "$append" \
	-no-reboot -nodefaults -display none
[ "$numa" -eq 0 ] || set -- "$@" \
	-object memory-backend-ram,id=m0,size=${half}M \
	-object memory-backend-ram,id=m1,size=$((mem - half))M \
	-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,memdev=m1

if [ $interactive -eq 1 ]; then
	exec "$@" -serial mon:stdio -serial null
fi

# The debug kernel (PROVE_RCU) sometimes stalls under TCG in its early
# RCU-tasks self-test, before any user space runs. A boot that has not
# reached /init by the boot deadline is retried, at most twice, and said
# so; so is one that printed a kernel report before /init. Anything after
# /init started is judged as usual.
boot_timeout=${MMSUITE_BOOT_TIMEOUT:-150}
t0=$(now)
attempt=1
while :; do
	rm -f "$console" "$output"
	timeout -s KILL "$timeout" "$@" -serial "file:$console" -serial "file:$output" &
	qpid=$!
	booted=0
	while kill -0 $qpid 2>/dev/null; do
		if grep -q 'Run /init as init process' "$console" 2>/dev/null; then
			booted=1
			break
		fi
		if [ $(($(now) - t0)) -gt "$boot_timeout" ]; then
			break
		fi
		sleep 0.5
	done
	if [ $booted -eq 1 ] && [ $attempt -lt 3 ] &&
	   ! sed '/Run \/init as init process/q' "$console" |
	     "$REPO_ROOT/scripts/scan-console.sh" /dev/stdin > "$out/boot-report.txt"; then
		# Nothing of ours has run before /init: such a report is the
		# kernel's own boot under TCG (seen once: a KASAN report in an
		# early interrupt during identify_cpu). Logged, then rebooted.
		echo "vm: kernel report during boot, before any module or test (attempt $attempt: $(head -n 1 "$out/boot-report.txt" | cut -c1-100)); retrying" >&2
		cp "$console" "$out/console-bootreport-$attempt.log"
	elif [ $booted -eq 1 ] || ! kill -0 $qpid 2>/dev/null || [ $attempt -ge 3 ]; then
		break
	else
		echo "vm: boot stalled before user space (attempt $attempt: $(tail -n 1 "$console" | tr -d '\r' | cut -c1-100)); retrying" >&2
		cp "$console" "$out/console-stalled-$attempt.log"
	fi
	kill -KILL $qpid 2>/dev/null
	wait $qpid 2>/dev/null || true
	attempt=$((attempt + 1))
	t0=$(now)
done
if [ $quiet -eq 0 ]; then
	while [ ! -f "$output" ] && kill -0 $qpid 2>/dev/null; do sleep 0.2; done
	tail --pid=$qpid -n +1 -f "$output" 2>/dev/null | tr -d '\r' |
		grep -v '^MMSUITE-EXIT=' || true
fi
qrc=0
wait $qpid || qrc=$?
elapsed=$(($(now) - t0))
tr -d '\r' < "$output" > "$output.tmp" 2>/dev/null && mv "$output.tmp" "$output"

status=0
verdict=ok
if [ $qrc -eq 137 ] || [ $qrc -eq 124 ]; then
	echo "vm: guest timed out after ${timeout}s ($kernel, $paging-level); last console lines:" >&2
	tail -n 25 "$console" | tr -d '\r' >&2
	status=124
	verdict="timeout after ${timeout}s"
else
	guest_rc=$(sed -n 's/^MMSUITE-EXIT=//p' "$output" | tail -n 1)
	if [ -z "$guest_rc" ]; then
		echo "vm: guest died before the command finished; last console lines:" >&2
		tail -n 25 "$console" | tr -d '\r' >&2
		status=1
		verdict="guest died"
	elif [ "$guest_rc" -ne 0 ]; then
		status=$guest_rc
		verdict="command exit $guest_rc"
	fi
fi
if ! "$REPO_ROOT/scripts/scan-console.sh" "$console" > "$out/splats.txt"; then
	echo "vm: kernel reports in the console log ($console):" >&2
	cat "$out/splats.txt" >&2
	[ $status -ne 0 ] || status=1
	verdict="kernel reports: $(head -n 1 "$out/splats.txt" | cut -c1-160)"
fi
echo "$verdict" > "$out/verdict"
echo "vm: $kernel kernel, $paging-level paging: exit $status in ${elapsed}s" >&2
exit $status
