#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of the kselftest run: every suite under /selftests (or the
# ones named), each program under the timeout from the suite's settings
# file, KTAP in the kselftest runner's format. A suite's module
# (/lib/mmsuite/<suite>.ko) is loaded before it and must unload after it;
# a suite's "requires" file names other modules its tests use, loaded
# when built for this kernel.
cd /selftests || exit 1
# A collection is a folder with a settings file (the folder also holds
# the kselftest runner, for run_kselftest.sh). An argument is a suite
# (every program in it) or <suite>/<program> (that program only, the
# suite's modules loaded and unloaded around it as for the whole suite).
args=${*:-$(for d in */settings; do echo "${d%/settings}"; done)}
suites=""
for a in $args; do
	case " $suites " in *" ${a%%/*} "*) ;; *) suites="$suites ${a%%/*}" ;; esac
done

is_test() {	# is_test <suite>/<program>
	[ -f "$1" ] && [ -x "$1" ] || return 1
	case " $args " in *" ${1%%/*} "*|*" $1 "*) return 0 ;; esac
	return 1
}

total=0
for s in $suites; do
	for t in "$s"/*; do
		is_test "$t" && total=$((total + 1))
	done
	[ -f "/lib/mmsuite/$s.ko" ] && total=$((total + 1))
done

echo "TAP version 13"
echo "1..$total"
n=0
failed=0

result() {	# result <ok:0/1> <description> [directive]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2${3:+ # $3}"
	else
		echo "not ok $n $2${3:+ # $3}"
		failed=$((failed + 1))
	fi
}

for s in $suites; do
	tmo=45
	[ -f "$s/settings" ] && tmo=$(sed -n 's/^timeout=//p' "$s/settings")
	ko=/lib/mmsuite/$s.ko
	fs0=$(cat /proc/filesystems)
	[ -f "$ko" ] && { insmod "$ko" || echo "# insmod $ko failed"; }
	extra=$(cat "$s/requires" 2>/dev/null)
	for m in $extra; do
		# Not built for this kernel: the suite's tests that need it skip.
		[ -f "/lib/mmsuite/$m.ko" ] || continue
		insmod "/lib/mmsuite/$m.ko" || echo "# insmod $m.ko failed"
	done
	# The file systems the suite's modules register (msharefs).
	modfs=$(grep -vxF "$fs0" /proc/filesystems | awk '{ print $NF }' | tr '\n' ' ')
	mounts=$(cut -d' ' -f2 /proc/mounts)
	for t in "$s"/*; do
		is_test "$t" || continue
		name="selftests: $s: ${t##*/}"
		echo "# $name"
		t0=$(date +%s)
		(
			cd "$s" || exit 1
			timeout -s KILL "$tmo" "./${t##*/}" 2>&1
			echo "$?" > /tmp/.rc
		) | sed 's/^/# /'
		echo "# elapsed: ${name#selftests: }: $(($(date +%s) - t0)) s"
		rc=$(cat /tmp/.rc 2>/dev/null || echo 1)
		case "$rc" in
		0) result 0 "$name" ;;
		4) result 0 "$name" SKIP ;;
		137) result 1 "$name" "TIMEOUT ${tmo} seconds" ;;
		*) result 1 "$name" "exit=$rc" ;;
		esac
	done
	case " $args " in
	*" $s "*) ;;
	*)
		# Run in part, the suite missed the program that undoes its
		# mounts (mshare's last test unmounts msharefs): the mounts of
		# its module's file systems that its programs made are
		# unmounted here, newest first (/proc/mounts escapes a space
		# in a mount point as \040: printf %b undoes it).
		awk -v fs=" $modfs" 'index(fs, " " $3 " ") { m[++n] = $2 }
			END { for (i = n; i > 0; i--) print m[i] }' /proc/mounts |
		while read -r m; do
			echo "$mounts" | grep -qxF "$m" ||
				umount "$(printf '%b' "$m")" 2>&1 | sed 's/^/# /'
		done
		;;
	esac
	for m in $extra; do
		[ -f "/lib/mmsuite/$m.ko" ] || continue
		rmmod "$m" 2>&1 | sed 's/^/# /'
	done
	if [ -f "$ko" ]; then
		# Unloading proves the suite left no references behind.
		rmmod "$s" 2>&1 | sed 's/^/# /'
		! grep -q "^$s " /proc/modules
		result $? "selftests: $s: rmmod $s"
	fi
done
[ $failed -eq 0 ]
