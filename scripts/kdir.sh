#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the build directory of a test kernel (default: the oldest line's
# stock kernel), fetching or building it first:
#   scripts/kdir.sh [6.1|6.12|7.3|<line>-debug|stock|debug]
set -eu
. "$(dirname "$0")/lib.sh"
kernel_kdir "${1:-stock}"
