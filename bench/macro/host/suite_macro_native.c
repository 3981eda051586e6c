/*
 * suite_macro_native.c: the macro suite's native column: the host's own fork + exit +
 * wait, a pipe ping-pong between two host processes, first touches of fresh pages;
 * timed with rdtsc like the guest times its workloads.
 */
#include "suite_macro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

static uint64_t forkwait(uint32_t n)
{
	uint64_t t0 = __rdtsc();

	for (uint32_t i = 0; i < n; i++) {
		pid_t pid = fork();
		int st;

		if (pid == 0)
			_exit((int)(i & 0xFF));
		if (pid < 0 || waitpid(pid, &st, 0) != pid)
			return 0;
	}
	return __rdtsc() - t0;
}

static uint64_t pingpong(uint32_t n)
{
	int a[2], b[2], st;
	uint64_t t0, t1;
	pid_t pid;

	if (pipe(a) || pipe(b))
		return 0;
	pid = fork();
	if (pid == 0) {
		unsigned char c;

		close(a[1]);
		close(b[0]);
		for (uint32_t i = 0; i < n; i++) {
			if (read(a[0], &c, 1) != 1)
				_exit(2);
			c = (unsigned char)(c * 3 + 1);
			if (write(b[1], &c, 1) != 1)
				_exit(3);
		}
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	t0 = __rdtsc();
	for (uint32_t i = 0; i < n && pid > 0; i++) {
		unsigned char c = (unsigned char)i, d;

		if (write(a[1], &c, 1) != 1 || read(b[0], &d, 1) != 1)
			break;
	}
	t1 = __rdtsc();
	close(a[1]);
	close(b[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 0;
	return t1 - t0;
}

static uint64_t pagetouch(uint32_t n)
{
	uint64_t t0 = __rdtsc();
	volatile uint32_t *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
	                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		p[i * 1024 + i % 1000] = i;
	munmap((void *)p, (size_t)n * 4096);
	return __rdtsc() - t0;
}

void macro_native(int w, uint32_t n, int repeat, struct macro_cell *c)
{
	/* bench/macro/manifest.h: each workload's analog, its note, operations per n */
	static const struct {
		uint64_t (*fn)(uint32_t n);
		const char *note;
		uint32_t per;
	} analog[MW_NR] = {
#define X(name, paper, dn, per, an, anote, d) {an, anote, per},
	    MACRO_ROWS(X)
#undef X
	};

	memset(&c->c, 0, sizeof(c->c));
	c->n = n;
	c->ops = analog[w].per * n;
	if (!analog[w].fn) {
		snprintf(c->c.note, sizeof(c->c.note), "%s", analog[w].note);
		return;
	}
	for (int r = 0; r < repeat && r < NB_MAX_SAMPLES; r++) {
		uint64_t cyc = analog[w].fn(n);

		if (!cyc) {
			c->c.nsamples = 0;
			snprintf(c->c.note, sizeof(c->c.note), "failed: the host analog broke");
			return;
		}
		c->c.samples[c->c.nsamples++] = (double)cyc / c->ops;
	}
	c->c.present = c->c.nsamples > 0;
	c->c.iters = c->ops;
	snprintf(c->c.note, sizeof(c->c.note), "%s", analog[w].note);
}
