/*
 * ulib.h: what minios's ring 3 programs use: the system calls (int 0x80, numbers in
 * sysnum.h) and a print helper. User programs keep their writable state in their own
 * data (private per process) and on their stack; they may call the runtime's pure
 * functions (snprintf, memcpy), whose text is shared read-only with ring 3.
 */
#ifndef TANDEM_MINIOS_ULIB_H
#define TANDEM_MINIOS_ULIB_H

#include <stdint.h>

#include "rt.h"
#include "sysnum.h"

/* System call n (MSYS_*) with EBX, ECX, EDX = a, b, c by int 0x80: EAX, the result. */
static inline int32_t usys(uint32_t n, uint32_t a, uint32_t b, uint32_t c)
{
	int32_t r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

/* exit(st): st goes to the parent's u_wait; never returns. The wrappers below return -1
 * for a bad descriptor or user pointer too (the kernel range-checks every pointer). */
static inline void u_exit(int st)
{
	usys(MSYS_exit, (uint32_t)st, 0, 0);
	for (;;)
		;
}
/* fork: the child's pid, 0 in the child, -1 (no process slot or frames). */
static inline int u_fork(void)
{
	return usys(MSYS_fork, 0, 0, 0);
}
/* Reap a child, sleeping until one exits; its status into *st unless NULL: pid, or -1. */
static inline int u_wait(int *st)
{
	return usys(MSYS_wait, (uint32_t)st, 0, 0);
}
/* A pipe: fds[0] reads, fds[1] writes. 0, or -1 (no pipe or descriptor free). */
static inline int u_pipe(int fds[2])
{
	return usys(MSYS_pipe, (uint32_t)fds, 0, 0);
}
/* Up to n bytes into b, sleeping while the pipe is empty with a writer: count, 0 at EOF, -1. */
static inline int u_read(int fd, void *b, uint32_t n)
{
	return usys(MSYS_read, (uint32_t)fd, (uint32_t)b, n);
}
/* All n bytes (fds 0..2 without a pipe: the console): n, fewer if the readers left midway, -1. */
static inline int u_write(int fd, const void *b, uint32_t n)
{
	return usys(MSYS_write, (uint32_t)fd, (uint32_t)b, n);
}
/* 0, or -1 when fd is not open. */
static inline int u_close(int fd)
{
	return usys(MSYS_close, (uint32_t)fd, 0, 0);
}
/* Move the heap end by incr bytes (pages below a lowered end freed): the old end, or
 * 0xffffffff when the new one leaves [HEAP_BASE, HEAP_MAX]. */
static inline uint32_t u_sbrk(int32_t incr)
{
	return (uint32_t)usys(MSYS_sbrk, (uint32_t)incr, 0, 0);
}
/* Context switches since boot. */
static inline uint32_t u_nswitch(void)
{
	return (uint32_t)usys(MSYS_nswitch, 0, 0, 0);
}
/* Free physical frames in the kernel now. */
static inline uint32_t u_nfree(void)
{
	return (uint32_t)usys(MSYS_nfree, 0, 0, 0);
}

/* printf to the console through write(1); lines up to 255 bytes. */
int u_printf(const char *fmt, ...) RT_PRINTF(1, 2);

/* Ring 3 entry of init (user/start.S): EAX = workload, EBX = n, ECX = repeat. */
void user_start(void);
/* Run workload work (0 all, 1 forkwait, 2 pingpong, 3 pagetouch, 4 compute), n operations per
 * sample (0: each one's default), repeat samples (1..16, checked by kmain): 0, or 1 on a FAIL. */
int user_main(uint32_t work, uint32_t n, uint32_t repeat);

/* The workloads (user/work.c, user/compute.c). Each prints its result line and its
 * timing line; returns 0, or 1 when a check failed (the line says which). */
struct u_timing {
	uint32_t ops; /* operations per sample */
	uint32_t nsamples;
	uint64_t cycles[16]; /* per sample, rdtsc */
	uint32_t switches;   /* context switches during all samples */
};
/* n x (fork; the child exits with i & 0xff; wait, check the pid and status), per sample.
 * Each work_ takes repeat <= 16 (u_timing.cycles has 16 slots). */
int work_forkwait(uint32_t n, uint32_t repeat);
/* n round trips of a byte between two processes over two pipes (ops: 2n switches). */
int work_pingpong(uint32_t n, uint32_t repeat);
/* sbrk n pages, touch each (demand-zero checked), sbrk them back; frames leaked: FAIL. */
int work_pagetouch(uint32_t n, uint32_t repeat);
/* Two children run compute_run(n) at once, time-sliced by the PIT; checksums must agree. */
int work_compute(uint32_t n, uint32_t repeat);
/* Print "minios-time: NAME ops=N cycles_per_op=MEDIAN samples=a,b,... switches=S". */
void u_timing_print(const char *name, const struct u_timing *t);

#endif
