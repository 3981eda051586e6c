/*
 * native.c: host-process analogs of the nano-benchmarks, timed the way the
 * guest times its loops (iterations double until a loop spans mincycles, then
 * `repeat` samples; the empty loop's median is subtracted).
 */
#include "native.h"
#include "runner.h"

#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <x86intrin.h>

#define TOUCH_MAX_PAGES 65536u /* 256 MiB per sample at most */

typedef uint64_t (*loop_fn)(uint64_t n, void *arg);

uint64_t nat_loop_empty(uint64_t n, void *arg);
uint64_t nat_loop_callret(uint64_t n, void *arg);
uint64_t nat_loop_syscall(uint64_t n, void *arg);
uint64_t nat_loop_divzero(uint64_t n, void *arg);
uint64_t nat_loop_segv(uint64_t n, void *arg);

/* Each iteration touches a fresh page of a new anonymous mapping: one kernel page fault. */
static uint64_t touch_loop(uint64_t n, void *arg)
{
	volatile uint8_t *p;
	uint64_t t0, t1, i;

	(void)arg;
	p = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 0;
	_mm_lfence();
	t0 = __rdtsc();
	for (i = 0; i < n; i++)
		p[i * 4096] = 1;
	_mm_lfence();
	t1 = __rdtsc();
	munmap((void *)p, n * 4096);
	return t1 - t0;
}

static void skip2(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;

	(void)sig;
	(void)si;
	uc->uc_mcontext.gregs[REG_RIP] += 2; /* past div ecx / mov eax,[rsi] */
}

static double median(double *v, int n)
{
	int i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t cpus_seen;

static void note_cpu(void)
{
	int cpu = sched_getcpu();

	if (cpu >= 0 && cpu < 64)
		cpus_seen |= 1ull << cpu;
}

/* Doubling, then the samples; cycles per iteration, not yet empty-corrected. */
static void measure(loop_fn fn, void *arg, const struct nb_method *m, uint64_t cap,
                    struct nb_cell *c)
{
	uint64_t iters = 16, max = m->maxiters < cap ? m->maxiters : cap;
	int r;

	while (fn(iters, arg) < m->mincycles && iters < max)
		iters *= 2;
	c->iters = iters;
	for (r = 0; r < m->warmup; r++)
		fn(iters, arg);
	c->nsamples = m->repeat < NB_MAX_SAMPLES ? m->repeat : NB_MAX_SAMPLES;
	for (r = 0; r < c->nsamples; r++) {
		c->samples[r] = (double)fn(iters, arg) / (double)iters;
		note_cpu();
	}
	c->present = true;
}

static void subtract_empty(struct nb_cell *c, double empty)
{
	int r;

	for (r = 0; r < c->nsamples; r++)
		c->samples[r] -= empty;
}

static double empty_loop(const struct nb_method *m)
{
	struct nb_cell c;

	memset(&c, 0, sizeof(c));
	measure(nat_loop_empty, NULL, m, UINT64_MAX, &c);
	return median(c.samples, c.nsamples);
}

static void na(struct nb_column *col, int b, const char *why)
{
	col->cell[b].present = false;
	snprintf(col->cell[b].note, sizeof(col->cell[b].note), "%s", why);
}

static void run_one(struct nb_column *col, const struct nb_method *m, int b, loop_fn fn, void *arg,
                    uint64_t cap, const char *what)
{
	if (!m->want[b])
		return;
	measure(fn, arg, m, cap, &col->cell[b]);
	subtract_empty(&col->cell[b], col->empty);
	snprintf(col->cell[b].note, sizeof(col->cell[b].note), "%s", what);
}

static void column_init(struct nb_column *col, const char *name, const char *label,
                        const struct nb_method *m)
{
	int b;

	memset(col, 0, sizeof(*col));
	snprintf(col->name, sizeof(col->name), "%s", name);
	snprintf(col->label, sizeof(col->label), "%s", label);
	col->available = true;
	col->hw_timing = true;
	snprintf(col->settings, sizeof(col->settings),
	         "host process analogs, mincycles=%llu repeat=%d warmup=%d",
	         (unsigned long long)m->mincycles, m->repeat, m->warmup);
	if (m->pin >= 0) {
		size_t n = strlen(col->settings);

		snprintf(col->settings + n, sizeof(col->settings) - n, "; pinned to CPU %d",
		         m->pin);
	}
	col->load_before = nb_loadavg();
	col->load_after = NAN;
	cpus_seen = 0;
	for (b = 0; b < NB_NR; b++)
		na(col, b, "n/a: no host analog");
	col->empty = empty_loop(m);
}

static void native_col(struct nb_column *col, const struct nb_method *m)
{
	struct sigaction sa, old;

	/* The manifest's analogs (bench/nano/manifest.h), in its order; the SIGFPE handler
	 * (divzero's analog) is in place throughout. */
	static const struct {
		loop_fn fn;
		uint64_t max;
		const char *note;
	} analog[NB_NR] = {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) [NB_##n] = {an, amax, anote},
	    NANO_ROWS(X)
#undef X
	};

	column_init(col, "native", "host process analogs (not the guest's operations)", m);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = skip2;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, &old);
	for (int b = 0; b < NB_NR; b++)
		if (analog[b].fn)
			run_one(col, m, b, analog[b].fn, NULL, analog[b].max, analog[b].note);
	sigaction(SIGFPE, &old, NULL);
}

static void signal_col(struct nb_column *col, const struct nb_method *m)
{
	struct sigaction sa, old;
	void *none;

	column_init(col, "native-signal", "host process: fault + signal round trips", m);
	none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none == MAP_FAILED) {
		col->available = false;
		snprintf(col->reason, sizeof(col->reason), "cannot map a PROT_NONE page");
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = skip2;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, &old);
	run_one(col, m, NB_pgfault, nat_loop_segv, none, UINT64_MAX,
	        "analog: access to a PROT_NONE page, SIGSEGV round trip");
	sigaction(SIGSEGV, &old, NULL);
	munmap(none, 4096);
}

/* Pinned for the duration when asked; the CPUs seen and the load after recorded. */
static void with_pin(void (*fn)(struct nb_column *, const struct nb_method *),
                     struct nb_column *col, const struct nb_method *m)
{
	cpu_set_t old;
	bool saved = sched_getaffinity(0, sizeof(old), &old) == 0;

	if (nb_pin(m->pin))
		perror("tandem: bench: sched_setaffinity");
	fn(col, m);
	if (m->pin >= 0 && saved)
		sched_setaffinity(0, sizeof(old), &old);
	col->load_after = nb_loadavg();
	for (int c = 0, n = 0; c < 64 && n < (int)sizeof(col->cpus); c++)
		if (cpus_seen >> c & 1)
			n += snprintf(col->cpus + n, sizeof(col->cpus) - (size_t)n, "%s%d",
			              n ? "," : "", c);
}

void nb_native(struct nb_column *col, const struct nb_method *m)
{
	with_pin(native_col, col, m);
}

void nb_native_signal(struct nb_column *col, const struct nb_method *m)
{
	with_pin(signal_col, col, m);
}
