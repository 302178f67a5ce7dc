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
say "done"
