#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Scan a guest console log for kernel reports. Prints the offending lines
# and exits 1 if any. Patterns match report lines, not the boot banners of
# the same features ("KFENCE: initialized", "kmemleak: Kernel memory leak
# detector initialized", "kasan: KernelAddressSanitizer initialized").
[ $# -eq 1 ] || { echo "usage: $0 console.log" >&2; exit 2; }

grep -n -E \
	-e 'BUG: |kernel BUG at|WARNING: |Oops|Kernel panic' \
	-e 'BUG: KASAN|BUG: KFENCE|UBSAN: ' \
	-e 'possible circular locking|inconsistent lock state|suspicious RCU usage' \
	-e 'possible recursive locking|lock held when returning' \
	-e 'Bad rss-counter|non-zero pgtables_bytes|page_table_check' \
	-e 'suspected memory leak|unreferenced object' \
	-e 'general protection fault|soft lockup|hard LOCKUP|blocked for more than' \
	-e 'Bad page (state|map)|Call Trace:' \
	"$1" | tr -d '\r' | head -n 40 | grep . && exit 1
exit 0
