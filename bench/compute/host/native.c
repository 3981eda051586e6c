/*
 * native.c: the compute benchmark as a 32-bit host process (the "native" column).
 * kernels.c is compiled with the guest's code generation flags (see
 * bench/CMakeLists.txt); this driver only parses the iteration count, reads the TSC
 * around compute_run and prints the same line as bench/compute/guest.
 *
 * usage: compute-native [iters=N | --iters N | N]   (default COMPUTE_DEFAULT_ITERS)
 *        compute-native --default-iters              (print the default and exit)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

static inline unsigned long long rdtsc(void)
{
	unsigned lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (unsigned long long)hi << 32 | lo;
}

static int parse_iters(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xFFFFFFFFul)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t iters = COMPUTE_DEFAULT_ITERS;
	const char *arg = NULL;

	if (argc == 2 && !strcmp(argv[1], "--default-iters")) {
		printf("%u\n", COMPUTE_DEFAULT_ITERS);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--iters"))
		arg = argv[2];
	else if (argc == 2)
		arg = strncmp(argv[1], "iters=", 6) ? argv[1] : argv[1] + 6;
	else if (argc != 1)
		arg = "";
	if (arg && parse_iters(arg, &iters)) {
		fprintf(stderr, "usage: %s [iters=N | --iters N | N] | --default-iters\n", argv[0]);
		return 2;
	}

	unsigned long long t0 = rdtsc();
	uint32_t sum = compute_run(iters);
	unsigned long long t1 = rdtsc();
	printf(COMPUTE_RESULT_FMT, iters, sum, t1 - t0);
	return 0;
}
