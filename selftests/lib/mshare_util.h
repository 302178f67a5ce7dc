/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the mshare selftests: regions, objects, outcomes. */
#ifndef MSHARE_UTIL_H
#define MSHARE_UTIL_H

#include <stdbool.h>

#define MNT "/sys/fs/mshare"
#define PG 4096UL
#define MB (1UL << 20)

/* mshare_info: a region's alignment and size multiple; 0 if unreadable. */
unsigned long mshare_align(void);
/* Mount msharefs at MNT unless it is; false if it cannot be. */
bool ensure_mounted(void);
/*
 * Create region @name (replacing a leftover one) with nothing mapped and
 * size it to @size by ftruncate(), or fallocate() with @by_fallocate: its
 * fd, or -errno with errno set and the file removed again.
 */
int sized_region(const char *name, unsigned long size, bool by_fallocate);
/* Create a region of @size with anonymous shared memory over all of it. */
int make_region(const char *name, unsigned long size);
/* Detach, close and remove a region made by make_region(). */
void drop_region(void *p, unsigned long size, int fd, const char *name);
/* mmap() a whole region; NULL on failure. */
char *attach(int fd, unsigned long size, int prot);
/* A regular file on ramfs (not shmem), one page, opened read-only. */
int ramfs_file(void);
/* The same open file description's inode again, opened read-only. */
int reopen_read_only(int fd);
/* Does a write to @p kill a forked child with SIGSEGV? */
bool segv_on_write(char *p);
/*
 * What one access does, tried in a forked child: the byte read (0-255),
 * or PROBE_SIGNAL + the signal that killed the child.
 */
#define PROBE_SIGNAL 256
int probe_read(const void *p);
int probe_write(void *p, char v);

/*
 * A "<key> <n> kB" line of /proc/self/status, or of the smaps entry of the
 * mapping that starts at @vma (if not NULL); -1 if absent.
 */
long proc_kb(const char *key, const void *vma);

#endif
