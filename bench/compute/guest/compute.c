/*
 * compute.c: the compute-bound guest. Turns paging on, then runs the CoreMark-style
 * integer kernels of bench/compute/kernels.c in ring 3, timed with rdtsc in ring 3
 * around compute_run (the same code, built with the same flags, is the native
 * host-process column: bench/compute/host/native.c). Ring 3 calls the kernel only to print.
 *
 * Command line: iters=N (default COMPUTE_DEFAULT_ITERS; iters=0 measures boot cost).
 * Output, one line on COM1, parsed by scripts/compute-bench.sh:
 *   compute: iterations=N checksum=0x%08x cycles=%llu
 * Exit 0 on success; 1 on a bad command line or if ring 3 misbehaved.
 */
#include "rt.h"

#include "compute/kernels.h"

static uint8_t user_stack[16384] __attribute__((aligned(16)));
static uint32_t iterations = COMPUTE_DEFAULT_ITERS;

/* Does the NUL-terminated s start with prefix? */
static int starts_with(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix)
		s++, prefix++;
	return !*prefix;
}

/* Finds "iters=N" as a word of the Multiboot command line. 0: ok (or absent). */
static int parse_cmdline(const struct multiboot_info *mbi)
{
	const char *p =
	    (mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline ? (const char *)mbi->cmdline : "";

	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		if (starts_with(p, "iters=")) {
			uint32_t v = 0;
			p += 6;
			if (*p < '0' || *p > '9')
				return -1;
			for (; *p >= '0' && *p <= '9'; p++) {
				if (v > (0xFFFFFFFFu - 9) / 10)
					return -1;
				v = v * 10 + (uint32_t)(*p - '0');
			}
			if (*p && *p != ' ')
				return -1;
			iterations = v;
			continue;
		}
		while (*p && *p != ' ') /* another word (the first is the kernel's path) */
			p++;
	}
}

/* Ring 3: the timed run, then one line through int 0x80. */
static int user_main(void)
{
	char buf[96];

	if ((read_cs() & 3) != 3)
		return 2;
	uint64_t t0 = rdtsc();
	uint32_t sum = compute_run(iterations);
	uint64_t t1 = rdtsc();
	int n = snprintf(buf, sizeof(buf), COMPUTE_RESULT_FMT, iterations, sum,
	                 (unsigned long long)(t1 - t0));
	sys_write(buf, (uint32_t)n);
	return 0;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	if (magic != MB_BOOT_MAGIC || !mbi) {
		printf("compute: FAIL not booted by a Multiboot loader\n");
		return EXIT_FAIL;
	}
	if (parse_cmdline(mbi)) {
		printf("compute: FAIL bad command line (want iters=N, N < 2^32)\n");
		return EXIT_FAIL;
	}
	enable_paging();
	/* IF = 0 in ring 3: no timer, nothing but the workload between the rdtscs. */
	int st = enter_user(user_main, user_stack + sizeof(user_stack), 0);
	if (st != 0) {
		printf("compute: FAIL ring 3 returned status %d\n", st);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
