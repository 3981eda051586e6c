/*
 * native.c: the difftest reference runner, a -m32 host process. Runs every case
 * of a blob directly on the host CPU (ring 3) through the shared trampoline
 * (dt_tramp.S) and prints one line per case, the same lines guest.c prints from
 * ring 0 on an engine.
 *
 * usage: native BLOB [--case K] [--dump]
 *        native --hypervisor
 *   --case K  run only case K
 *   --dump    after each case, also list the scratch bytes it changed
 *   --hypervisor  print the CPUID hypervisor vendor ("none" on bare metal);
 *             "TCGTCGTCGTCG" means this "native" CPU is QEMU's emulator, whose
 *             known deviations run.sh then allows for
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include "difftest.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define CASE_TIMEOUT_S 5

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;
static volatile uint32_t fault_eip;

static void on_fault(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	(void)si;
	fault_sig = sig;
	fault_eip = sig == SIGALRM ? 0 : (uint32_t)uc->uc_mcontext.gregs[REG_EIP];
	siglongjmp(fault_jmp, 1);
}

static void die(const char *what)
{
	fprintf(stderr, "native: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void dump_dirty(void)
{
	const uint8_t *s = (const uint8_t *)DT_SCRATCH, *p = (const uint8_t *)dt_pristine;
	for (uint32_t i = 0; i < DT_SCRATCH_SIZE; i++)
		if (s[i] != p[i])
			printf("  scratch+%04x: %02x -> %02x\n", i, p[i], s[i]);
}

static int print_hypervisor(void)
{
	unsigned a, b, c, d;
	char v[13];
	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31))) {
		puts("none");
		return 0;
	}
	__cpuid(0x40000000, a, b, c, d);
	memcpy(v, &b, 4);
	memcpy(v + 4, &c, 4);
	memcpy(v + 8, &d, 4);
	v[12] = 0;
	puts(v);
	return 0;
}

/* Globals, not locals of main: they live across sigsetjmp. */
static const char *path;
static long only = -1;
static int dump;

int main(int argc, char **argv)
{

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--case") && i + 1 < argc)
			only = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--dump"))
			dump = 1;
		else if (!strcmp(argv[i], "--hypervisor"))
			return print_hypervisor();
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else {
			fprintf(stderr, "usage: native BLOB [--case K] [--dump]\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: native BLOB [--case K] [--dump]\n");
		return 2;
	}

	/* scratch + control page at their fixed addresses */
	void *want = (void *)(uintptr_t)DT_SCRATCH;
	void *at = mmap(want, DT_SCRATCH_SIZE + DT_CTL_SIZE, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (at == MAP_FAILED)
		die("mmap scratch at 0x00800000");
	if (at != want) {
		fprintf(stderr, "native: scratch landed at %p, not %p\n", at, want);
		return 2;
	}

	/* the blob, executable in place */
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	const struct dt_blob_hdr *h =
	    mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (h == MAP_FAILED)
		die("mmap blob");
	close(fd);
	const char *end = (const char *)h + st.st_size;
	const struct dt_case *c = dt_first_case(h, (unsigned long)st.st_size);
	if (!c) {
		fprintf(stderr, "native: %s: not a difftest blob\n", path);
		return 2;
	}

	/* faults in a case: report and go on with the next one */
	static uint8_t altstack[65536];
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	if (sigaltstack(&ss, NULL) < 0)
		die("sigaltstack");
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			die("sigaction");

	dt_pristine_init();
	int failed = 0;
	for (uint32_t n = 0; n < h->ncases; n++, c = dt_next_case(c)) {
		if ((const char *)c + sizeof(*c) > end || c->size < sizeof(*c) ||
		    (const char *)c + c->size > end) {
			fprintf(stderr, "native: %s: truncated at case %u\n", path, n);
			return 2;
		}
		if (only >= 0 && c->index != (uint32_t)only)
			continue;
		struct dt_result r;
		dt_load_case(c);
		fault_sig = 0;
		if (sigsetjmp(fault_jmp, 1) == 0) {
			alarm(CASE_TIMEOUT_S);
			dt_run();
			alarm(0);
		} else {
			alarm(0);
		}
		if (fault_sig) {
			dt_collect(&r); /* resets the scratch */
			if (fault_sig == SIGALRM)
				printf("case %u FAULT timeout after %d s\n", c->index,
				       CASE_TIMEOUT_S);
			else
				printf("case %u FAULT %s at +%04x\n", c->index,
				       strsignal(fault_sig),
				       fault_eip - (uint32_t)(uintptr_t)c->code);
			failed++;
			continue;
		}
		if (dump)
			dump_dirty();
		char line[256];
		dt_collect(&r);
		dt_format(line, sizeof(line), c->index, &r);
		fputs(line, stdout);
	}
	if (fflush(stdout) != 0)
		die("stdout");
	return failed ? 1 : 0;
}
