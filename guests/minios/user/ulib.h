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

static inline int32_t usys(uint32_t n, uint32_t a, uint32_t b, uint32_t c)
{
	int32_t r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static inline void u_exit(int st) { usys(MSYS_exit, (uint32_t)st, 0, 0); for (;;) ; }
static inline int u_fork(void) { return usys(MSYS_fork, 0, 0, 0); }
static inline int u_wait(int *st) { return usys(MSYS_wait, (uint32_t)st, 0, 0); }
static inline int u_pipe(int fds[2]) { return usys(MSYS_pipe, (uint32_t)fds, 0, 0); }
static inline int u_read(int fd, void *b, uint32_t n) { return usys(MSYS_read, (uint32_t)fd, (uint32_t)b, n); }
static inline int u_write(int fd, const void *b, uint32_t n) { return usys(MSYS_write, (uint32_t)fd, (uint32_t)b, n); }
static inline int u_close(int fd) { return usys(MSYS_close, (uint32_t)fd, 0, 0); }
static inline uint32_t u_sbrk(int32_t incr) { return (uint32_t)usys(MSYS_sbrk, (uint32_t)incr, 0, 0); }
static inline uint32_t u_nswitch(void) { return (uint32_t)usys(MSYS_nswitch, 0, 0, 0); }
static inline uint32_t u_nfree(void) { return (uint32_t)usys(MSYS_nfree, 0, 0, 0); }

/* printf to the console through write(1); lines up to 255 bytes. */
int u_printf(const char *fmt, ...) RT_PRINTF(1, 2);

/* Ring 3 entry of init (user/start.S): EAX = workload, EBX = n, ECX = repeat. */
void user_start(void);
int user_main(uint32_t work, uint32_t n, uint32_t repeat);

/* The workloads (user/work.c, user/compute.c). Each prints its result line and its
 * timing line; returns 0, or 1 when a check failed (the line says which). */
struct u_timing {
	uint32_t ops;                 /* operations per sample */
	uint32_t nsamples;
	uint64_t cycles[16];          /* per sample, rdtsc */
	uint32_t switches;            /* context switches during all samples */
};
int work_forkwait(uint32_t n, uint32_t repeat);
int work_pingpong(uint32_t n, uint32_t repeat);
int work_pagetouch(uint32_t n, uint32_t repeat);
int work_compute(uint32_t n, uint32_t repeat);
/* Print "minios-time: NAME ops=N cycles_per_op=MEDIAN samples=a,b,... switches=S". */
void u_timing_print(const char *name, const struct u_timing *t);

#endif
