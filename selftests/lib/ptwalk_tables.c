// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptwalk_lib.h"
#include "ptwalk_tables.h"

unsigned long ptw_table_of(pid_t pid, unsigned long addr, const char *level)
{
	char q[128], want[32], *out, *line, *save;
	unsigned long pfn = 0;

	snprintf(q, sizeof(q), "pid=%d view=path addr=0x%lx format=kv", pid, addr);
	snprintf(want, sizeof(want), "rec=path level=%s ", level);
	if (ptw_query(q, &out))
		return 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, want, strlen(want)))
			pfn = kv_num(line, "table_pfn");
	free(out);
	return pfn;
}
