#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make demo: boot the newest line's stock kernel (KERNEL=6.1 and the
# like: another), load the modules and show what they do.
set -eu
. "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
make -s tools
scripts/vm.sh --kernel "${KERNEL:-$(newest_line)}" --paging "${PAGING:-5}" --mem 2048 \
	--timeout 600 --out "$REPO_ROOT/results/demo" \
	"sh /bin/guest-demo"
