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
#include <sys/utsname.h>
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
	/* "6.1-debug": the debug kernel of a line, the only one with kmemleak. */
	EXPECT_EQ(!!strstr(want, "-debug"), has_kmemleak);
}

TEST(kernel_release_matches_request)
{
	const char *want = getenv("MMSUITE_RELEASE");
	struct utsname u;

	if (!want)
		SKIP(return, "MMSUITE_RELEASE not set: not started by the rig");
	ASSERT_EQ(0, uname(&u));
	EXPECT_STREQ(want, u.release);
}

TEST(guest_facilities)
{
	EXPECT_EQ(0, access("/proc/self/pagemap", R_OK));
	EXPECT_EQ(0, access("/proc/kpageflags", R_OK));
	EXPECT_EQ(0, access("/sys/kernel/debug", R_OK));
	EXPECT_EQ(0U, geteuid());
}

TEST_HARNESS_MAIN
