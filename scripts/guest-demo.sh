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
say "done"
