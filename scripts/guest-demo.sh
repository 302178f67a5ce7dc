#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of make demo.
say() {
	printf '\n=== %s\n' "$*"
}

say "guest: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs," \
    "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo) MiB"
if grep -qw la57 /proc/cpuinfo; then
	say "paging: 5-level (LA57)"
else
	say "paging: 4-level"
fi
for m in /lib/mmsuite/*.ko; do
	insmod "$m" && echo "loaded ${m##*/}"
done
[ -f /lib/mmsuite/mshare.ko ] ||
	say "mshare: not built for $(uname -r)"

if [ -e /sys/kernel/debug/ptwalk/walk ]; then
	sleep 1000 &
	pid=$!
	say "ptwalk: summary of 'sleep' (pid $pid)"
	ptwalk -v summary $pid
	say "ptwalk: its mappings as ranges (ptdump style, any pid)"
	ptwalk -v ranges $pid
	addr=0x$(grep -m1 'r-xp' /proc/$pid/maps | cut -d- -f1)
	say "ptwalk: every level for its first text page $addr"
	ptwalk -a "$addr" $pid
	say "ptwalk: its page-table pages"
	ptwalk -v tables $pid
	say "ptwalk: first leaves, with the struct page behind each"
	ptwalk $pid | head -n 8
	say "ptwalk: the kernel's own tables"
	ptwalk -v summary kernel
	kill $pid
fi
if [ -e /sys/fs/mshare ] && mount -t msharefs msharefs /sys/fs/mshare; then
	say "mshare: mshare_info (alignment) = $(cat /sys/fs/mshare/mshare_info)"
	pt0=$(awk '/^PageTables/ {print $2}' /proc/meminfo)
	mshare-demo /sys/fs/mshare/demo 64 4 &
	demo=$!
	sleep 5
	say "mshare: four processes attached a 64 MiB region and touched all of it"
	cat /sys/kernel/debug/mshare/regions
	pt1=$(awk '/^PageTables/ {print $2}' /proc/meminfo)
	echo "PageTables: +$((pt1 - pt0)) kB for 4 sharers (one private copy each would need +$((4 * 32 * 4)) kB of PTE tables alone)"
	for pid in $(pidof mshare-demo); do
		[ "$pid" = "$demo" ] && continue
		a=$(awk '/\/sys\/fs\/mshare\/demo/ {split($1, r, "-"); print "0x" r[1]; exit}' /proc/$pid/maps)
		[ -n "$a" ] || continue
		echo "pid $pid maps it at $a; its PTE table there (ptwalk path):"
		ptwalk -a "$a" "$pid" | grep '^pte'
	done
	killall mshare-demo
	wait $demo 2>/dev/null
	sleep 1
	rm -f /sys/fs/mshare/demo
	umount /sys/fs/mshare
fi
if [ -e /dev/toyalloc ]; then
	T=/sys/kernel/debug/toyalloc
	say "toyalloc: one order-0 block from a fresh pool splits one block per order"
	toyctl show buddyinfo alloc 0 show buddyinfo free-all show buddyinfo
	say "toyalloc: 3000 random allocations and frees under each policy"
	for p in lifo fifo addr; do
		echo "policy $p:"
		toyctl policy $p churn 3000 show buddyinfo show unusable_index show extfrag_index |
			grep '^Node'
	done
	say "toyalloc: per-order counters and allocation latency (log2 ns buckets)"
	toyctl churn 2000 show stats | grep -v '^---'
	say "toyalloc: a debug cache, one object of each corruption, and what validation finds"
	toyctl cache demo-debug 100 rpc calloc 20 corrupt redzone calloc 1 \
		corrupt use-after-free calloc 1 corrupt double-free calloc 1 \
		corrupt invalid-free validate show reports kmalloc 100 8 show slabinfo |
		grep -v 'kmalloc-.* 0      0 '
	say "toyalloc: replaying a recorded kmem:mm_page_alloc/free trace"
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	tr=/sys/kernel/tracing
	echo 1 > $tr/events/kmem/mm_page_alloc/enable
	echo 1 > $tr/events/kmem/mm_page_free/enable
	toyctl churn 100 >/dev/null; ptwalk -v summary self >/dev/null 2>&1; sh -c 'seq 1 20000 | sort -r > /dev/null'
	echo 0 > $tr/events/kmem/mm_page_alloc/enable
	echo 0 > $tr/events/kmem/mm_page_free/enable
	grep -m 2 mm_page_alloc: $tr/trace
	echo "policy=fifo interval=200" > $T/replay_config
	cat $tr/trace > $T/replay
	head -n 2 $T/replay; tail -n 3 $T/replay
	say "toyalloc: live view of the real allocators (kmem:* probes, zone samples)"
	echo 1 > $T/live/enable
	sh -c 'seq 1 50000 | sort > /dev/null'
	sleep 2
	grep -E 'order=(0|1|2|3|9) ' $T/live/counters
	grep -E 'kmalloc class=(32|64|96|128|192) ' $T/live/counters
	echo "top call sites:"
	head -n 5 $T/live/callsites
	tail -n 2 $T/live/zone_frag
	echo 0 > $T/live/enable
	echo "compare /proc/buddyinfo:"
	cat /proc/buddyinfo
fi

# ---------------------------------------------------------------------------
# ptwalk census: one workload's page tables, first as eight processes that
# each map the same memfd, then moved onto an mshare region.
if [ -e /sys/kernel/debug/ptwalk/walk ] && [ -e /sys/fs/mshare ] &&
   mount -t msharefs msharefs /sys/fs/mshare; then
	say "ptwalk census: eight processes map one 64 MiB memfd (ptwalk workload 64 8)"
	ptwalk workload 64 8 &
	work=$!
	sleep 8
	ptwalk census
	killall ptwalk		# the workload and its children
	wait $work 2>/dev/null
	sleep 1
	say "ptwalk census: the same eight on an mshare region (mshare-demo ... 64 8)"
	mshare-demo /sys/fs/mshare/census 64 8 &
	demo=$!
	sleep 10
	ptwalk census
	say "ptwalk census -c: the same as CSV (first lines)"
	ptwalk census -c | head -n 4
	killall mshare-demo
	wait $demo 2>/dev/null
	sleep 1
	rm -f /sys/fs/mshare/census
	umount /sys/fs/mshare
fi
say "done"
