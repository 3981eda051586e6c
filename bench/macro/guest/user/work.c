/*
 * work.c: minios's process workloads (ring 3): forkwait (the paper's: fork, the child
 * exits at once, the parent waits), a pipe ping-pong between two processes (one round
 * trip is two context switches), and demand paging (touch N fresh heap pages, free them).
 * Result lines ("minios: ...") are identical on every engine; timing lines
 * ("minios-time: ...") are rdtsc cycles per operation.
 */
#include "ulib.h"

int work_forkwait(uint32_t n, uint32_t repeat)
{
	struct u_timing t = {.ops = n, .nsamples = repeat};
	uint32_t created = 0, reaped = 0, sum = 0, bad = 0, sw = u_nswitch();

	for (uint32_t r = 0; r < repeat; r++) {
		uint64_t t0 = rdtsc();

		for (uint32_t i = 0; i < n; i++) {
			int st = -1, pid = u_fork();

			if (pid == 0)
				u_exit((int)(i & 0xFF));
			if (pid < 0) {
				bad++;
				continue;
			}
			created++;
			if (u_wait(&st) == pid)
				reaped++;
			bad += st != (int)(i & 0xFF);
			sum += (uint32_t)st;
		}
		t.cycles[r] = rdtsc() - t0;
	}
	t.switches = u_nswitch() - sw;
	u_printf("minios: forkwait n=%u repeat=%u created=%u reaped=%u status_sum=%u%s\n", n,
	         repeat, created, reaped, sum, bad ? " FAIL" : "");
	u_timing_print("forkwait", &t);
	return bad != 0;
}

/* The child's side: n times read a byte from in, transform it, write it to out. */
static void pong(int in, int out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t c;

		if (u_read(in, &c, 1) != 1)
			u_exit(2);
		c = (uint8_t)(c * 3 + 1);
		if (u_write(out, &c, 1) != 1)
			u_exit(3);
	}
	u_exit(0);
}

int work_pingpong(uint32_t n, uint32_t repeat)
{
	struct u_timing t = {.ops = 2 * n, .nsamples = repeat}; /* per switch: round trip / 2 */
	uint32_t bytes = 0, sum = 0, bad = 0, sw = u_nswitch();

	for (uint32_t r = 0; r < repeat; r++) {
		int a[2], b[2], st = -1, pid;

		if (u_pipe(a) || u_pipe(b))
			return u_printf("minios: pingpong FAIL pipe\n"), 1;
		pid = u_fork();
		if (pid == 0) {
			u_close(a[1]);
			u_close(b[0]);
			pong(a[0], b[1], n);
		}
		u_close(a[0]);
		u_close(b[1]);
		uint64_t t0 = rdtsc();

		for (uint32_t i = 0; i < n && pid > 0; i++) {
			uint8_t c = (uint8_t)(i + r), d = 0;

			bad += u_write(a[1], &c, 1) != 1 || u_read(b[0], &d, 1) != 1;
			bad += d != (uint8_t)(c * 3 + 1);
			bytes += 2;
			sum = sum * 31 + d;
		}
		t.cycles[r] = rdtsc() - t0;
		u_close(a[1]);
		u_close(b[0]);
		bad += pid < 0 || u_wait(&st) != pid || st != 0;
	}
	t.switches = u_nswitch() - sw;
	u_printf("minios: pingpong n=%u repeat=%u bytes=%u checksum=0x%08x%s\n", n, repeat, bytes,
	         sum, bad ? " FAIL" : "");
	u_timing_print("pingpong", &t);
	return bad != 0;
}

int work_pagetouch(uint32_t n, uint32_t repeat)
{
	struct u_timing t = {.ops = n, .nsamples = repeat};
	uint32_t pages = 0, sum = 0, free_after_first = 0, leaked = 0, bad = 0, sw = u_nswitch();

	for (uint32_t r = 0; r < repeat; r++) {
		uint64_t t0 = rdtsc();
		uint32_t base = u_sbrk((int32_t)(n * PAGE_SIZE));

		if (base == (uint32_t)-1)
			return u_printf("minios: pagetouch FAIL sbrk(%u pages)\n", n), 1;
		for (uint32_t i = 0; i < n; i++) {
			volatile uint32_t *p =
			    (volatile uint32_t *)(base + i * PAGE_SIZE + (i % 1000) * 4);

			bad += *p != 0; /* demand-zero */
			*p = i * 2654435761u + r;
			pages++;
		}
		for (uint32_t i = 0; i < n; i++)
			sum += *(volatile uint32_t *)(base + i * PAGE_SIZE + (i % 1000) * 4);
		u_sbrk(-(int32_t)(n * PAGE_SIZE));
		t.cycles[r] = rdtsc() - t0;
		if (r == 0)
			free_after_first =
			    u_nfree(); /* the heap's page tables stay: count from here */
	}
	if (repeat > 1)
		leaked = free_after_first - u_nfree();
	t.switches = u_nswitch() - sw;
	u_printf("minios: pagetouch n=%u repeat=%u pages=%u checksum=0x%08x leaked=%u%s\n", n,
	         repeat, pages, sum, leaked, bad || leaked ? " FAIL" : "");
	u_timing_print("pagetouch", &t);
	return bad || leaked;
}
