// SPDX-License-Identifier: GPL-2.0
/*
 * After 6.12 (7.3.4 include/linux/shmem_fs.h): shmem_file_setup*() take
 * their flags as a vma_flags_t (EMPTY_VMA_FLAGS: none).
 */
#include <linux/shmem_fs.h>

struct file *probe_shmem_vma_flags(struct vfsmount *mnt);
struct file *probe_shmem_vma_flags(struct vfsmount *mnt)
{
	return shmem_file_setup_with_mnt(mnt, "probe", PAGE_SIZE, EMPTY_VMA_FLAGS);
}
