// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: never finishes loading (sleeps uninterruptibly), so the guest
 * command never returns. The rig self-test expects the VM runner to kill
 * the guest at its timeout and report a failure.
 */
#include <linux/delay.h>
#include <linux/module.h>

static int __init rig_hang_init(void)
{
	for (;;)
		msleep(1000);
	return 0;
}

module_init(rig_hang_init);
MODULE_DESCRIPTION("Rig self-test: never-ending module load");
MODULE_LICENSE("GPL");
