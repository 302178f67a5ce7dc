// SPDX-License-Identifier: GPL-2.0
/* Always compiles: proves the probe pass itself works on every kernel. */
#include <generated/utsrelease.h>
static const char probe[] __used = UTS_RELEASE;
