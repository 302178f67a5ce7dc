#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Zero-warning gate: W=1 build with sparse (C=2) against each KDIR given
# (default: the stock kernel's), then
# checkpatch.pl --strict on every C source and header, docutils on every
# Documentation/*.rst. Any output fails.
set -eu
. "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || set -- "$(stock_kdir)"
cd "$REPO_ROOT"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for kdir in "$@"; do
	scripts/compat-probe.sh "$kdir"
	make -s -C "$kdir" M="$REPO_ROOT" clean >/dev/null
	check=$(scripts/sparse.sh "$kdir") || exit 1
	make -s -C "$kdir" M="$REPO_ROOT" W=1 C=2 CHECK="$check" \
		CONFIG_DEBUG_INFO_BTF_MODULES= \
		modules >"$log" 2>&1 || { cat "$log"; die "build against $kdir failed"; }
	if [ -s "$log" ]; then
		cat "$log"
		die "W=1/sparse build against $kdir printed warnings"
	fi
	echo "lint: W=1 + sparse against $(basename "$kdir"): clean"
done

checkpatch="$(ensure_ksrc_extract)/scripts/checkpatch.pl"
# User-space code: selftests, tools, benchmarks, unit tests. The unit
# tests' shim reproduces kernel API shapes (u8 typedefs, function-like
# list and bitmap macros) that checkpatch flags by design: left out.
userspace='-e ^selftests/[^/]*/[^/]*\.[ch]$ -e ^selftests/lib/ -e ^tools/ -e ^bench/ -e /tests/'
# shellcheck disable=SC2086
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h' | grep -v $userspace)
# Without a kernel tree checkpatch cannot tell the kernel's own CamelCase
# helpers (__SetPageTable) from new names: CAMELCASE is left out.
# shellcheck disable=SC2086
if ! perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,CAMELCASE -f $files >"$log" 2>&1; then
	cat "$log"
	die "checkpatch found problems"
fi
# User-space code has no u64 or BIT(), and its test macros return on
# failure as kselftest's ASSERT_*() do; everything else applies.
# shellcheck disable=SC2046,SC2086
if ! perl "$checkpatch" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,PREFER_KERNEL_TYPES,BIT_MACRO,MACRO_WITH_FLOW_CONTROL \
	-f $(git ls-files --cached --others --exclude-standard '*.c' '*.h' |
	     grep $userspace | grep -v /tests/shim/) \
	>"$log" 2>&1; then
	cat "$log"
	die "checkpatch found problems"
fi
echo "lint: checkpatch --strict: clean ($(echo $files | wc -w) files)"

# The documentation is reStructuredText as the kernel's is: it must parse.
for doc in Documentation/*.rst; do
	if ! rst2html --halt=warning "$doc" >/dev/null 2>"$log"; then
		cat "$log"
		die "$doc is not valid reStructuredText"
	fi
done
echo "lint: Documentation/*.rst: valid reStructuredText"
