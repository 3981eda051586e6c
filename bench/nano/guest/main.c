/* main.c: nanobench: Adams & Agesen's nano-benchmarks as timed rdtsc loops, one line each on COM1.
 */
#include "nb.h"

/* Method (kvm-unit-tests x86/vmexit): double the iteration count from START_ITERS
 * until one loop spans at least mincycles TSC cycles or reaches maxiters, then time
 * `repeat` more loops of that many iterations. Each sample is that loop's cycles per
 * iteration in tenths (integer math), minus the empty loop's median; the row's value
 * is the median sample. Every loop is bounded by maxiters. */
#define START_ITERS 16u
#define DEF_MINCYCLES (1ull << 26)
#define DEF_MAXITERS (1u << 22)
#define DEF_REPEAT 5u
#define MAX_REPEAT 31u
#define MAX_TESTS 16u

static uint64_t mincycles = DEF_MINCYCLES;
static uint32_t maxiters = DEF_MAXITERS, repeat = DEF_REPEAT;
static const char *tests[MAX_TESTS]; /* NULL-terminated names (into tests_buf) or all */
static char tests_buf[256];
static unsigned ntests;

/* ---- the command line: key=value words; others (the kernel path) are ignored ---- */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

static int word_is(const char *w, size_t len, const char *key, const char **val, size_t *vlen)
{
	size_t k = strlen(key);

	if (len <= k || memcmp(w, key, k) || w[k] != '=')
		return 0;
	*val = w + k + 1;
	*vlen = len - k - 1;
	return 1;
}

static int parse_cmdline(const char *cmd)
{
	while (*cmd) {
		const char *w = cmd, *v;
		size_t len = 0, vlen;
		uint64_t n;

		while (w[len] && w[len] != ' ')
			len++;
		cmd = w + len;
		while (*cmd == ' ')
			cmd++;
		if (word_is(w, len, "mincycles", &v, &vlen)) {
			if (parse_u64(v, vlen, &n))
				return printf("nanobench: error bad mincycles\n"), -1;
			mincycles = n;
		} else if (word_is(w, len, "repeat", &v, &vlen)) {
			if (parse_u64(v, vlen, &n) || n < 1 || n > MAX_REPEAT)
				return printf("nanobench: error bad repeat (1..%u)\n", MAX_REPEAT),
				       -1;
			repeat = (uint32_t)n;
		} else if (word_is(w, len, "maxiters", &v, &vlen)) {
			if (parse_u64(v, vlen, &n) || n < START_ITERS || n > (1u << 30))
				return printf("nanobench: error bad maxiters\n"), -1;
			maxiters = (uint32_t)n;
		} else if (word_is(w, len, "tests", &v, &vlen)) {
			if (vlen >= sizeof(tests_buf))
				return printf("nanobench: error tests= too long\n"), -1;
			memcpy(tests_buf, v, vlen);
			tests_buf[vlen] = '\0';
			ntests = 0;
			for (char *p = tests_buf; *p && ntests < MAX_TESTS - 1;) {
				tests[ntests++] = p;
				while (*p && *p != ',')
					p++;
				if (*p)
					*p++ = '\0';
			}
			tests[ntests] = NULL;
		}
	}
	return 0;
}

/* Every tests= name must be a benchmark. */
static int check_tests(void)
{
	for (unsigned i = 0; i < ntests; i++) {
		unsigned j = 0;
		while (j < nb_nbenches && strcmp(tests[i], nb_benches[j].name))
			j++;
		if (j == nb_nbenches) {
			printf("nanobench: error unknown test '%s'\n", tests[i]);
			return -1;
		}
	}
	return 0;
}

static int selected(const char *name)
{
	if (!ntests)
		return 1;
	for (unsigned i = 0; i < ntests; i++)
		if (!strcmp(tests[i], name))
			return 1;
	return 0;
}

/* ---- measurement ---- */
static uint64_t time_loop(const struct bench *b, uint32_t n)
{
	uint64_t t0 = rdtsc();

	if (b->user)
		rt_enter_user((int (*)(uint32_t))(void *)b->loop, n, nb_user_stack_top, 0);
	else
		b->loop(n);
	return rdtsc() - t0;
}

/* Cycles per iteration in tenths, rounded. */
static int64_t tenths(uint64_t cycles, uint32_t n)
{
	return (int64_t)((cycles * 10 + n / 2) / n);
}

static int64_t median(const int64_t *v, unsigned n)
{
	int64_t s[MAX_REPEAT];

	for (unsigned i = 0; i < n; i++) { /* insertion sort */
		unsigned j = i;
		for (; j > 0 && s[j - 1] > v[i]; j--)
			s[j] = s[j - 1];
		s[j] = v[i];
	}
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void print_tenths(int64_t v)
{
	uint64_t a = v < 0 ? (uint64_t)-v : (uint64_t)v;

	printf("%s%llu.%llu", v < 0 ? "-" : "", (unsigned long long)(a / 10),
	       (unsigned long long)(a % 10));
}

/* Measures b; prints its line with every sample minus base (tenths). Returns the median. */
static int64_t measure(const struct bench *b, int64_t base)
{
	int64_t samples[MAX_REPEAT];
	uint32_t n = START_ITERS;

	for (;;) {
		uint64_t c = time_loop(b, n);
		if (c >= mincycles || n >= maxiters)
			break;
		n = n > maxiters / 2 ? maxiters : n * 2;
	}
	for (unsigned r = 0; r < repeat; r++)
		samples[r] = tenths(time_loop(b, n), n) - base;
	int64_t med = median(samples, repeat);

	printf("nanobench: %s iters=%u cycles_per_iter=", b->name, n);
	print_tenths(med);
	printf(" samples=");
	for (unsigned r = 0; r < repeat; r++) {
		if (r)
			printf(",");
		print_tenths(samples[r]);
	}
	printf("\n");
	return med;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	const char *cmd = "";

	if (magic == MB_BOOT_MAGIC && mbi && (mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline)
		cmd = (const char *)mbi->cmdline;
	if (parse_cmdline(cmd) || check_tests())
		return EXIT_FAIL;
	printf("nanobench: start tsc_per_iter_method=doubling mincycles=%llu repeat=%u "
	       "maxiters=%u\n",
	       (unsigned long long)mincycles, repeat, maxiters);

	const char *why = nb_setup();
	if (why) {
		for (unsigned i = 0; i < nb_nbenches; i++)
			if (selected(nb_benches[i].name))
				printf("nanobench: %s skipped reason=%s\n", nb_benches[i].name,
				       why);
		printf("nanobench: done\n");
		return EXIT_OK;
	}
	int64_t empty = measure(&nb_empty, 0);
	for (unsigned i = 0; i < nb_nbenches; i++) {
		const struct bench *b = &nb_benches[i];
		if (!selected(b->name))
			continue;
		why = b->prepare ? b->prepare() : NULL;
		if (why) {
			printf("nanobench: %s skipped reason=%s\n", b->name, why);
			continue;
		}
		measure(b, empty);
		if (b->finish)
			b->finish();
	}
	printf("nanobench: done\n");
	return EXIT_OK;
}
