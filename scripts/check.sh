#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test command (make check): dependencies, zero-warning lint on every
# kernel line, user-space unit tests, the rig self-test, then every
# kselftest suite in QEMU on each line's stock kernel (scripts/kernels.conf)
# with 5- and 4-level paging (a walker bug showed only on a 5-level kernel
# running 4-level), and on each line's debug kernel, each program once,
# half of them with each paging, then the stage times
# (also in results/check/stages.txt) and one summary, each run named by
# kernel release and paging. Exits non-zero on any failure, timeout or
# kernel report.
set -eu
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
results=$REPO_ROOT/results/check
T0=$(now)

stage() {	# stage <name> <command...>
	name=$1
	shift
	echo "==> $name"
	t=$(now)
	if "$@"; then
		t=$(($(now) - t))
		echo "==> $name: done in ${t}s"
		printf '%6ss  %s\n' "$t" "$name" >> "$results/stages.txt"
	else
		echo "==> $name: FAILED after $(($(now) - t))s" >&2
		exit 1
	fi
}

run_dir() {	# run_dir <kernel> <paging>: builds the modules, prints the run's folder
	kdir=$(kernel_kdir "$1") || return 1
	make -s KDIR="$kdir" modules >&2 || return 1
	release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"$kdir/include/generated/utsrelease.h")
	echo "$results/${release}_$2-level"
}

run_in() {	# run_in <run folder> <kernel> <paging> [<suite>/<program>...]:
	# one guest, the programs named or else every suite built
	ri_run=$1 ri_kernel=$2 ri_paging=$3
	shift 3
	release=$(basename "$ri_run")
	release=${release%_*-level}
	mkdir -p "$ri_run"
	suites=${*:-$(suites_for "$release" | grep -v '^skip ' | tr '\n' ' ')}
	suites_for "$release" | sed -n "s/^skip \([^ ]*\) \(.*\)/\1: not run: \2 not built for $release/p" \
		> "$ri_run/not-run"
	# shellcheck disable=SC2086
	scripts/vm.sh --kernel "$ri_kernel" --paging "$ri_paging" --no-build --quiet \
		--timeout "${MMSUITE_RUN_TIMEOUT:-2400}" --mem 2048 \
		--out "$ri_run" run-selftests $suites || true
	echo "$(basename "$ri_run"): $(cat "$ri_run/verdict")"
}

# A debug guest runs about five times slower than a stock one, so on the
# debug kernels every test program runs once per line rather than once
# per paging: the programs are split between the two guests (5- and
# 4-level paging), heaviest first into the guest with fewer seconds so
# far, by the seconds each took on 6.1-debug with the other guest running
# (a program not listed counts 60). Which half runs with 5-level paging
# alternates from line to line, so that over the lines every program
# runs on a debug kernel with both pagings; the stock kernels run every
# program with both.
debug_seconds() {	# debug_seconds <suite>/<program>
	# Seconds on 6.1-debug with the other debug guest running, in a
	# fresh clone's make check (2026-12-07).
	case "$1" in
	mshare/hostile_test) echo 365 ;;
	mshare/mshare_test) echo 222 ;;
	mshare/kernel_paths_test) echo 218 ;;
	mshare_preload/preload_test) echo 178 ;;
	mshare/table_lifetime_test) echo 125 ;;
	ptwalk/ptwalk_test) echo 73 ;;
	toyalloc/toyalloc_test) echo 31 ;;
	ptwalk/census_test) echo 18 ;;
	mshare/fuse_stall_test) echo 14 ;;
	ptwalk/pagemap_scan_test | rig/rig_env) echo 1 ;;
	*) echo 60 ;;
	esac
}

debug_halves() {	# debug_halves <release>: "<half 0|1> <suite>/<program>" lines
	for s in $(suites_for "$1" | grep -v '^skip '); do
		for t in selftests/out/"$s"/*; do
			[ -f "$t" ] && [ -x "$t" ] || continue
			echo "$(debug_seconds "$s/${t##*/}") $s/${t##*/}"
		done
	done | sort -k1,1nr -k2 | awk '{ h = (s[0] <= s[1]) ? 0 : 1; s[h] += $1; print h, $2 }'
}

# The kselftest lab path: the install folder (as "make -C selftests
# install" writes it) run by its run_kselftest.sh in a 5-level guest,
# every collection whose modules are built, the modules loaded first.
run_lab() {	# run_lab <run folder> <kernel>
	rl_run=${1}_run_kselftest
	release=$(basename "$1")
	release=${release%_5-level}
	rm -rf "$rl_run"
	make -s -C selftests install INSTALL_PATH="$rl_run/install"
	diff -r selftests/out "$rl_run/install" >/dev/null ||
		{ echo "install folder differs from selftests/out"; return 1; }
	cols=$(suites_for "$release" | grep -v '^skip ' | sed 's/^/-c /' | tr '\n' ' ')
	scripts/vm.sh --kernel "$2" --paging 5 --no-build --quiet --timeout 2400 \
		--out "$rl_run" "for m in /lib/mmsuite/*.ko; do insmod \$m; done; cd /selftests && ./run_kselftest.sh $cols" || true
	echo "$(basename "$rl_run"): $(cat "$rl_run/verdict")"
}

# run_pair <kernel> <5-level programs> <4-level programs>: two guests at
# once, each running the <suite>/<program>s named ("" for every suite
# built; "lab" for the 5-level guest: run_lab).
run_pair() {
	run5=$(run_dir "$1" 5) || return 1
	run4=$(run_dir "$1" 4) || return 1
	if [ "$2" = lab ]; then
		run_lab "$run5" "$1" > "$run5.log" 2>&1 &
	else
		# shellcheck disable=SC2086
		run_in "$run5" "$1" 5 $2 > "$run5.log" 2>&1 &
	fi
	p5=$!
	# shellcheck disable=SC2086
	run_in "$run4" "$1" 4 $3
	rc=0
	wait $p5 || rc=$?	# the install check; verdicts count in the summary
	cat "$run5.log"
	rm -f "$run5.log"
	return $rc
}

run_split() {	# run_split <kernel> <paging of half 0>: the debug split
	run5=$(run_dir "$1" 5) || return 1
	release=$(basename "$run5")
	release=${release%_5-level}
	h5=$((${2} == 5 ? 0 : 1))
	halves=$(debug_halves "$release")
	run_pair "$1" "$(echo "$halves" | awk -v h=$h5 '$1 == h { printf "%s ", $2 }')" \
		"$(echo "$halves" | awk -v h=$h5 '$1 != h { printf "%s ", $2 }')"
}

# The debug kernels build in the background from the start, one line after
# the other and niced, while lint and the stock guests use the machine;
# the first debug stage waits for them. Their process group goes when
# this script ends.
debug_kernels_start() {
	# shellcheck disable=SC2016
	setsid sh -c 'for l; do nice -n 10 scripts/debug-kernel.sh "$l" || exit 1; done' \
		_ $(lines) > "$results/debug-kernels.log" 2>&1 &
	DKPID=$!
	trap 'kill -- -$DKPID 2>/dev/null || true' EXIT
}

debug_kernels_wait() {
	rc=0
	wait "$DKPID" || rc=$?
	cat "$results/debug-kernels.log"
	return $rc
}

unit_tests() {
	found=0
	for mk in $(find mm drivers -path '*/tests/Makefile' | sort); do
		found=1
		make -s -C "$(dirname "$mk")" run || return 1
	done
	[ $found -eq 1 ] || echo "(no user-space unit tests yet)"
}

rm -rf "$results"
mkdir -p "$results"
stage "dependencies" scripts/install-deps.sh
for line in $(lines); do
	stage "kernel $line (fetched once)" scripts/kernel-line.sh "$line"
done
debug_kernels_start
stage "lint: W=1, sparse on every line, checkpatch" scripts/lint.sh $(for line in $(lines); do kernel_kdir "$line"; done)
stage "dkms build on every line" scripts/dkms-check.sh
stage "user-space unit tests" unit_tests
stage "selftests and tools build" make -s selftests tools
stage "rig self-test" sh -c 'make -s KDIR="$1" modules && scripts/rig-selftest.sh stock' \
	_ "$(stock_kdir)"
for line in $(lines); do
	[ "$line" = "$(newest_line)" ] && continue
	stage "kselftests: $line, 5- and 4-level paging (two guests at once)" \
		run_pair "$line" "" ""
done
stage "kselftests: $(newest_line), 4-level paging, and 5-level by run_kselftest.sh (two guests at once)" \
	run_pair "$(newest_line)" lab ""
stage "debug kernels of every line (cached; built in the background since the start)" \
	debug_kernels_wait
half0=5	# the paging of the first half: 5 on the first line, then 4, 5...
for line in $(lines); do
	stage "kselftests: $line-debug, each program once, split over 5- and 4-level paging (two guests at once)" \
		run_split "$line-debug" $half0
	half0=$((9 - half0))
done

printf '%6ss  %s\n' "$(($(now) - T0))" total >> "$results/stages.txt"
echo "==> stage times (results/check/stages.txt)"
cat "$results/stages.txt"
echo "==> summary (logs in results/check/, total $(($(now) - T0))s)"
cat "$results"/*/not-run 2>/dev/null || true
scripts/ktap-summary.sh "$results"/*/output.txt
