#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the build directory of the stock kernel the rig boots by default.
set -eu
. "$(dirname "$0")/lib.sh"
stock_kdir
