// SPDX-License-Identifier: GPL-2.0
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include "vm_util.h"

void touch_read(const void *p)
{
	asm volatile("" : : "r"(*(const char *)p) : "memory");
}

void touch_write(void *p, char v)
{
	*(char *)p = v;
	asm volatile("" : : : "memory");
}

void touch_pages(const void *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i += 4096)
		touch_read((const char *)p + i);
}

long meminfo_kb(const char *key)
{
	size_t n = strlen(key);
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

bool zram_swap_on(void)
{
	if (access("/sys/block/zram0", F_OK))
		system("modprobe zram num_devices=1 2>/dev/null");
	if (access("/sys/block/zram0", F_OK))
		return false;
	if (system("grep -q zram0 /proc/swaps")) {
		system("echo 64M > /sys/block/zram0/disksize");
		system("mkswap /dev/zram0 >/dev/null && swapon /dev/zram0");
	}
	return system("grep -q zram0 /proc/swaps") == 0;
}

bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

long proc_status_kb(int pid, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && kb < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			kb = atol(line + n + 1);
	if (f)
		fclose(f);
	return kb;
}

long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static cpu_set_t saved_cpus;

bool two_cpus(int cpu[2])
{
	int c, n = 0;

	if (sched_getaffinity(0, sizeof(saved_cpus), &saved_cpus))
		return false;
	for (c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &saved_cpus))
			cpu[n++] = c;
	return n == 2;
}

void pin_to_cpu(int cpu)
{
	cpu_set_t cpus;

	if (cpu < 0) {
		sched_setaffinity(0, sizeof(saved_cpus), &saved_cpus);
		return;
	}
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
}
