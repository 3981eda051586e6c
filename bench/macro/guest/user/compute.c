/*
 * compute.c: the compute kernels (bench/compute/kernels.c) in two processes at once,
 * time-sliced by the PIT: each child runs compute_run(n) on its own private copy of
 * the kernels' static data and exits with the checksum; both must equal.
 */
#include "ulib.h"

#include "compute/kernels.h"

int work_compute(uint32_t n, uint32_t repeat)
{
	struct u_timing t = {.ops = 2 * n, .nsamples = repeat}; /* per iteration of either */
	uint32_t sum[2] = {0, 0}, bad = 0, sw = u_nswitch();

	for (uint32_t r = 0; r < repeat; r++) {
		int pid[2], st;
		uint64_t t0 = rdtsc();

		for (int k = 0; k < 2; k++)
			if ((pid[k] = u_fork()) == 0)
				u_exit((int)compute_run(n));
		for (int k = 0; k < 2; k++) {
			int w = u_wait(&st);

			bad += w != pid[0] && w != pid[1];
			sum[w == pid[1]] = (uint32_t)st;
		}
		t.cycles[r] = rdtsc() - t0;
	}
	t.switches = u_nswitch() - sw;
	bad += sum[0] != sum[1];
	u_printf("minios: compute n=%u repeat=%u procs=2 checksum=0x%08x,0x%08x%s\n", n, repeat,
	         sum[0], sum[1], bad ? " FAIL" : "");
	u_timing_print("compute", &t);
	return bad != 0;
}
