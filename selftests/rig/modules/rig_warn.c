// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only: prints a kernel WARNING on load. The rig self-test loads it
 * and expects the VM runner to report the run as failed.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init rig_warn_init(void)
{
	WARN(1, "rig_warn: deliberate warning for the rig self-test\n");
	return 0;
}

static void __exit rig_warn_exit(void)
{
}

module_init(rig_warn_init);
module_exit(rig_warn_exit);
MODULE_DESCRIPTION("Rig self-test: deliberate WARN");
MODULE_LICENSE("GPL");
