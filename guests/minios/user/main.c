/*
 * main.c: minios's init (ring 3): run the chosen workloads, then leave the guest. The
 * guest's exit (debug-exit port) needs ring 0, so init ends with exit(status) and the
 * kernel turns init's exit into the guest's exit status (status 0: success).
 */
#include "ulib.h"

/* Defaults: small enough for CI under a translator that flushes on each CR3 load. */
#define N_FORKWAIT 100
#define N_PINGPONG 500
#define N_PAGETOUCH 256
#define N_COMPUTE 20

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
	int fail = 0;

	if (work == 0 || work == 1)
		fail |= work_forkwait(n ? n : N_FORKWAIT, repeat);
	if (work == 0 || work == 2)
		fail |= work_pingpong(n ? n : N_PINGPONG, repeat);
	if (work == 0 || work == 3)
		fail |= work_pagetouch(n ? n : N_PAGETOUCH, repeat);
	if (work == 0 || work == 4)
		fail |= work_compute(n ? n : N_COMPUTE, repeat);
	u_printf("minios: done %s\n", fail ? "FAIL" : "ok");
	return fail;
}
