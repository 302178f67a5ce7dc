#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The test command (make check): dependencies, zero-warning lint, user-space
# unit tests, the rig self-test, then every kselftest suite in QEMU on the
# stock and the debug kernel, each with 5- and 4-level paging (a walker bug
# showed only on a 5-level kernel running 4-level), then the stage times
# (also in results/check/stages.txt) and one summary. Exits non-zero on any
# failure, timeout or kernel report.
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

run_suites() {	# run_suites <kernel> <paging>: a failing run is summarised, not fatal
	kdir=$(if [ "$1" = debug ]; then scripts/debug-kernel.sh; else stock_kdir; fi)
	make -s KDIR="$kdir" modules
	scripts/vm.sh --kernel "$1" --paging "$2" --no-build --quiet \
		--timeout "${MMSUITE_RUN_TIMEOUT:-2400}" --mem 2048 \
		--out "$results/$1-$2" run-selftests || true
	cat "$results/$1-$2/verdict"
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
stage "lint: W=1, sparse, checkpatch" scripts/lint.sh "$(stock_kdir)"
stage "user-space unit tests" unit_tests
stage "selftests build" make -s selftests
stage "rig self-test" sh -c 'make -s KDIR="$1" modules && scripts/rig-selftest.sh stock' \
	_ "$(stock_kdir)"
stage "kselftests: stock kernel, 5-level paging" run_suites stock 5
stage "kselftests: stock kernel, 4-level paging" run_suites stock 4
stage "debug kernel (cached after the first build)" scripts/debug-kernel.sh
stage "kselftests: debug kernel, 4-level paging" run_suites debug 4
stage "kselftests: debug kernel, 5-level paging" run_suites debug 5

printf '%6ss  %s\n' "$(($(now) - T0))" total >> "$results/stages.txt"
echo "==> stage times (results/check/stages.txt)"
cat "$results/stages.txt"
echo "==> summary (logs in results/check/, total $(($(now) - T0))s)"
scripts/ktap-summary.sh "$results"/*/output.txt
