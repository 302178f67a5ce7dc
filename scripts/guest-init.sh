#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test guest. Runs /etc/mmsuite/cmd with its output on the
# second serial port and reports the exit status there; kernel messages
# stay on the console (first serial port) for the host to scan.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/shm /dev/pts
# What udev would add: the kselftest runner logs to /dev/stdout.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts
. /etc/mmsuite/env
export MMSUITE_KERNEL MMSUITE_RELEASE MMSUITE_PAGING
hostname mmsuite

kmemleak=/sys/kernel/debug/kmemleak
# Leaks found before the command ran are not the command's: forget them.
if [ -w $kmemleak ]; then
	echo scan > $kmemleak
	echo clear > $kmemleak
fi

if [ "$MMSUITE_INTERACTIVE" = 1 ]; then
	echo "mmsuite guest: modules in /lib/mmsuite, tests in /selftests;" \
	     "'poweroff -f' to leave"
	setsid cttyhack sh -l
else
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	cd /
	sh /etc/mmsuite/cmd > /dev/ttyS1 2>&1 < /dev/null
	rc=$?
	if [ -w $kmemleak ]; then
		# Objects younger than 5 s are never reported: wait, scan twice.
		sleep 6
		echo scan > $kmemleak
		echo scan > $kmemleak
		cat $kmemleak > /dev/console
	fi
	echo "MMSUITE-EXIT=$rc" > /dev/ttyS1
fi
sync
poweroff -f
