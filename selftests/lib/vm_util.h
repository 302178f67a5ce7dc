/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the selftests and the benchmarks. */
#ifndef VM_UTIL_H
#define VM_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Read one byte the compiler may not optimise away. */
void touch_read(const void *p);
/* Store one byte the compiler may not drop. */
void touch_write(void *p, char v);
/* Read the first byte of every 4K page of [p, p + len): faults them in. */
void touch_pages(const void *p, size_t len);
/* A /proc/meminfo value in kB ("PageTables", "Shmem", ...), or -1. */
long meminfo_kb(const char *key);
/* 64 MiB of swap on zram0, set up once; false if zram is missing. */
bool zram_swap_on(void);
/* The running kernel is @major.@minor or newer (uname()). */
bool kernel_at_least(int major, int minor);
/* A "<key>: <n> kB" line of /proc/@pid/status ("VmPTE", ...), or -1. */
long proc_status_kb(int pid, const char *key);
/* This process's minor faults so far (getrusage()). */
long minor_faults(void);
/*
 * The first two CPUs this process may run on, in @cpu, its CPU mask
 * saved for pin_to_cpu(-1); false if it may run on fewer than two.
 */
bool two_cpus(int cpu[2]);
/* Run on CPU @cpu only; -1: on the mask two_cpus() saved again. */
void pin_to_cpu(int cpu);

#endif
