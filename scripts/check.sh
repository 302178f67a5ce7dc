#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test command (make check): dependencies, zero-warning lint on every
# kernel line, user-space unit tests, the rig self-test, then every
# kselftest suite in QEMU on each line's stock kernel (scripts/kernels.conf)
# and on each line's debug kernel, each with 5- and 4-level paging (a walker bug
# showed only on a 5-level kernel running 4-level), then the stage times
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

run_in() {	# run_in <run folder> <kernel> <paging>: one guest, every suite built
	release=$(basename "$1")
	release=${release%_*-level}
	mkdir -p "$1"
	suites=$(suites_for "$release" | grep -v '^skip ' | tr '\n' ' ')
	suites_for "$release" | sed -n "s/^skip \([^ ]*\) \(.*\)/\1: not run: \2 not built for $release/p" \
		> "$1/not-run"
	scripts/vm.sh --kernel "$2" --paging "$3" --no-build --quiet \
		--timeout "${MMSUITE_RUN_TIMEOUT:-2400}" --mem 2048 \
		--out "$1" run-selftests $suites || true
	echo "$(basename "$1"): $(cat "$1/verdict")"
}

run_suites_both() {	# run_suites_both <kernel>
	run5=$(run_dir "$1" 5) || return 1
	run4=$(run_dir "$1" 4) || return 1
	run_in "$run5" "$1" 5 > "$run5.log" 2>&1 &
	p5=$!
	run_in "$run4" "$1" 4
	wait $p5 || true
	cat "$run5.log"
	rm -f "$run5.log"
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

# The kselftest lab path on the newest line: the install folder (as
# "make -C selftests install" writes it) run by its run_kselftest.sh in the
# guest, every collection whose modules are built, the modules loaded first.
run_kselftest_path() {
	kdir=$(kernel_kdir "$1") || return 1
	make -s KDIR="$kdir" modules
	release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' \
		"$kdir/include/generated/utsrelease.h")
	run=$results/${release}_5-level_run_kselftest
	rm -rf "$run"
	make -s -C selftests install INSTALL_PATH="$run/install"
	diff -r selftests/out "$run/install" >/dev/null || { echo "install folder differs from selftests/out"; return 1; }
	cols=$(suites_for "$release" | grep -v '^skip ' | sed 's/^/-c /' | tr '\n' ' ')
	scripts/vm.sh --kernel "$1" --paging 5 --no-build --quiet --timeout 2400 \
		--out "$run" "for m in /lib/mmsuite/*.ko; do insmod \$m; done; cd /selftests && ./run_kselftest.sh $cols" || true
	cat "$run/verdict"
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
	stage "kselftests: $line, 5- and 4-level paging (two guests at once)" \
		run_suites_both "$line"
done
stage "kselftests: $(newest_line), run_kselftest.sh" run_kselftest_path "$(newest_line)"
stage "debug kernels of every line (cached; built in the background since the start)" \
	debug_kernels_wait
for line in $(lines); do
	stage "kselftests: $line-debug, 5- and 4-level paging (two guests at once)" \
		run_suites_both "$line-debug"
done

printf '%6ss  %s\n' "$(($(now) - T0))" total >> "$results/stages.txt"
echo "==> stage times (results/check/stages.txt)"
cat "$results/stages.txt"
echo "==> summary (logs in results/check/, total $(($(now) - T0))s)"
cat "$results"/*/not-run 2>/dev/null || true
scripts/ktap-summary.sh "$results"/*/output.txt
