/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the mshare selftests: regions, objects, outcomes. */
#ifndef MSHARE_UTIL_H
#define MSHARE_UTIL_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

#define MNT "/sys/fs/mshare"
#define PG 4096UL
#define MB (1UL << 20)
/* The unprivileged user tests switch to. */
#define NOBODY 65534

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
/* Whether mshare shares PMD tables (its pmd_sharing parameter is Y). */
bool mshare_pmd_sharing(void);
int probe_write(void *p, char v);

/*
 * How many of the reads of @p, @p + @step, ... below @p + @len get
 * SIGBUS, read in a forked child; -1 if it dies otherwise.
 */
long sigbus_reads(const char *p, unsigned long len, unsigned long step);

/*
 * A "<key> <n> kB" line of /proc/self/status, or of the smaps entry of the
 * mapping that starts at @vma (if not NULL); -1 if absent.
 */
long proc_kb(const char *key, const void *vma);

/* The region ioctls: 0 or the errno. */
int create_err(int fd, __u64 off, __u64 size, __u32 prot, int ofd, __u64 foff);
int unmap_err(int fd, __u64 off, __u64 size);
int protect_err(int fd, __u64 off, __u64 size, __u32 prot);
/* Close a region's fd and remove its name. */
void remove_region(int fd, const char *name);
/* A memfd of @size, every page filled with its index + @salt. */
int filled_memfd(unsigned long size, unsigned int flags, int salt);
/*
 * A region of @size whose whole range maps a memfd filled by
 * filled_memfd(@size, 0, @salt), read-write; the memfd in *@mfd.
 */
int object_region(const char *name, unsigned long size, int salt, int *mfd);
/* How long the stress and race tests run: MSHARE_STRESS_SECONDS, or 20. */
int stress_seconds(void);
/* The host of region @name: the process whose argv is that of host.c. */
pid_t host_pid_of(const char *name);
/* Write @s to @path (appending) in a child: the child. */
pid_t write_in_child(const char *path, const char *s);
/* @pid's exit status within @secs seconds (reaped), or -1 if still running. */
int status_within(pid_t pid, int secs);
/* The kernel's count of WARNINGs so far (/sys/kernel/warn_count), or -1. */
long kernel_warnings(void);

/* cgroup v2, at CGROOT. */
#define CGROOT "/sys/fs/cgroup"
int cg_write(const char *path, const char *s);
/* memory.current of cgroup @cg. */
long cg_memory(const char *cg);
/* Move this process into cgroup @cg ("" is the root). */
int cg_move(const char *cg);
/* The same, or _exit(9) (in a child). */
void cg_join(const char *cg);
/* cgroup v2 mounted with the memory controller on for its children. */
bool cg_memory_ready(void);

#endif
