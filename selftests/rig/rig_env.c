// SPDX-License-Identifier: GPL-2.0
/*
 * The rig booted what it was asked to boot: the page-table depth the host
 * requested (checked by what the MMU accepts, not by what a flag claims),
 * the requested kernel flavour, and the guest facilities the other suites
 * rely on.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "ptwalk_lib.h"

/* A hint above 47 bits is honoured only with 5-level paging. */
TEST(paging_levels_match_request)
{
	const char *want = getenv("MMSUITE_PAGING");

	if (!want)
		SKIP(return, "MMSUITE_PAGING not set: not started by the rig");
	EXPECT_EQ(atoi(want), paging_levels());
}

TEST(kernel_flavour_matches_request)
{
	const char *want = getenv("MMSUITE_KERNEL");
	int has_kmemleak = access("/sys/kernel/debug/kmemleak", F_OK) == 0;

	if (!want)
		SKIP(return, "MMSUITE_KERNEL not set: not started by the rig");
	EXPECT_EQ(strcmp(want, "debug") == 0, has_kmemleak);
}

TEST(guest_facilities)
{
	EXPECT_EQ(0, access("/proc/self/pagemap", R_OK));
	EXPECT_EQ(0, access("/proc/kpageflags", R_OK));
	EXPECT_EQ(0, access("/sys/kernel/debug", R_OK));
	EXPECT_EQ(0U, geteuid());
}

TEST_HARNESS_MAIN
