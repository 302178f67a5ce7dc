// SPDX-License-Identifier: GPL-2.0
/*
 * mshare-demo PATH MIB N: create a region of MIB MiB at PATH, fill it,
 * and start N processes that each attach it (at different addresses),
 * check the data and stay until killed.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/msharefs.h>

int main(int argc, char **argv)
{
	unsigned long size, i;
	struct mshare_create c;
	int fd, n, k, filled[2];
	char *p, b = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: mshare-demo PATH MIB N\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 0) << 20;
	n = atoi(argv[3]);
	fd = open(argv[1], O_RDWR | O_CREAT | O_EXCL, 0600);
	c = (struct mshare_create){ 0, size, 0, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, -1 };
	if (fd < 0 || ftruncate(fd, size) || ioctl(fd, MSHAREFS_CREATE_MAPPING, &c) ||
	    pipe(filled)) {
		perror("mshare-demo: region");
		return 1;
	}
	for (k = 0; k < n; k++) {
		if (fork() == 0) {
			/* Each sharer at its own address: 64 GiB apart. */
			p = mmap((void *)((64UL + 64 * k) << 30), size,
				 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
			if (p == MAP_FAILED)
				_exit(1);
			/* The others check once the first has filled it. */
			if (k == 0) {
				memset(p, 0x42, size);
				for (i = 1; i < (unsigned long)n; i++)
					if (write(filled[1], &b, 1) != 1)
						_exit(1);
			} else if (read(filled[0], &b, 1) != 1) {
				_exit(1);
			}
			for (i = 0; i < size; i += 4096)
				if (p[i] != 0x42)
					_exit(1);
			pause();
			_exit(0);
		}
	}
	signal(SIGTERM, SIG_DFL);
	pause();
	return 0;
}
