/*
 * main.c: minios's init (ring 3): run the chosen workloads, then leave the guest. The
 * guest's exit (debug-exit port) needs ring 0, so init ends with exit(status) and the
 * kernel turns init's exit into the guest's exit status (status 0: success).
 */
#include "macro/manifest.h"
#include "ulib.h"

int u_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	return u_write(1, buf, (uint32_t)n);
}

void u_timing_print(const char *name, const struct u_timing *t)
{
	char buf[240];
	uint64_t s[16], med;
	int len = 0;

	for (uint32_t i = 0; i < t->nsamples; i++)
		s[i] = t->cycles[i] / t->ops;
	for (uint32_t i = 1; i < t->nsamples; i++) /* insertion sort for the median */
		for (uint32_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
			uint64_t x = s[j];
			s[j] = s[j - 1], s[j - 1] = x;
		}
	med = t->nsamples ? s[t->nsamples / 2] : 0;
	for (uint32_t i = 0; i < t->nsamples && len < (int)sizeof(buf) - 24; i++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s%llu", i ? "," : "",
		                (unsigned long long)(t->cycles[i] / t->ops));
	u_printf("minios-time: %s ops=%u cycles_per_op=%llu samples=%s switches=%u\n", name, t->ops,
	         (unsigned long long)med, buf, t->switches);
}

int user_main(uint32_t work, uint32_t n, uint32_t repeat)
{
	/* bench/macro/manifest.h: each workload's body and its default n (small enough for
	 * CI under a translator that flushes on each CR3 load) */
	static const struct {
		int (*fn)(uint32_t n, uint32_t repeat);
		uint32_t n;
	} works[] = {
#define X(name, paper, dn, per, an, anote, d) {work_##name, dn},
	    MACRO_ROWS(X)
#undef X
	};
	int fail = 0;

	for (uint32_t i = 0; i < sizeof(works) / sizeof(works[0]); i++)
		if (work == 0 || work == i + 1)
			fail |= works[i].fn(n ? n : works[i].n, repeat);
	u_printf("minios: done %s\n", fail ? "FAIL" : "ok");
	return fail;
}
