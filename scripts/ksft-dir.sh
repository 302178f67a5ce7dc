#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the directory holding kselftest.h and kselftest_harness.h, taken
# from the installed linux-source-6.1 package.
set -eu
. "$(dirname "$0")/lib.sh"
d=$(ensure_ksrc_extract) || exit 1
echo "$d/tools/testing/selftests"
