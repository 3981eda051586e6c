/*
 * bt_compat.c: the BCD adjusts (daa, das, aaa, aas, aam, aad) have no 64-bit
 * encoding, and their undefined flags differ from CPU to CPU. So the slow path
 * runs them natively: a far call into the host's 32-bit compatibility-mode code
 * segment (Linux's __USER32_CS), from a page below 4 GiB, with the guest's
 * EAX and flags. Where the host cannot (no IA-32 emulation: host_cap IA32, or
 * TANDEM_HOST_MASK=ia32), C emulation stays, and the undefined flags are ours.
 *
 * The page is built and tried only when the first BCD instruction needs it (a
 * fork, once per process), never at start-up. The call runs with every signal
 * blocked: a kick landing on the 4 KiB stack below 4 GiB would put a 64-bit
 * signal frame (kilobytes with AVX-512 state) over the saved RSP.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt.h"
#include "hostcaps.h"

#define USER32_CS 0x23
#define CODE32 0x100 /* push ecx; popfd; <insn, 2 bytes>; pushfd; pop ecx; retf */
#define FARPTR 0x200 /* m16:32 -> CODE32 */
#define SAVED_RSP 0x208
#define STACK_TOP 0xff0

typedef uint64_t (*compat_fn)(uint32_t eax, uint32_t eflags);

static void rel32(uint8_t *t, int *i, int target)
{
	int32_t d = target - (*i + 4);

	memcpy(t + *i, &d, 4);
	*i += 4;
}

/* The 64-bit side: switch to a stack below 4 GiB, far-call 32-bit code, come back. */
static void build(uint8_t *p)
{
	static const uint8_t code32[] = {0x51, 0x9d, 0x90, 0x90, 0x9c, 0x59, 0xcb};
	uint32_t off = (uint32_t)(uintptr_t)(p + CODE32);
	int i = 0;

	p[i++] = 0x89, p[i++] = 0xf8;                /* mov eax, edi         */
	p[i++] = 0x89, p[i++] = 0xf1;                /* mov ecx, esi         */
	p[i++] = 0x48, p[i++] = 0x89, p[i++] = 0x25; /* mov [rip+], rsp      */
	rel32(p, &i, SAVED_RSP);
	p[i++] = 0x48, p[i++] = 0x8d, p[i++] = 0x25; /* lea rsp, [rip+]      */
	rel32(p, &i, STACK_TOP);
	p[i++] = 0xff, p[i++] = 0x1d; /* call far [rip+]      */
	rel32(p, &i, FARPTR);
	p[i++] = 0x48, p[i++] = 0x8b, p[i++] = 0x25; /* mov rsp, [rip+]      */
	rel32(p, &i, SAVED_RSP);
	p[i++] = 0x89, p[i++] = 0xc0;                             /* mov eax, eax         */
	p[i++] = 0x89, p[i++] = 0xc9;                             /* mov ecx, ecx         */
	p[i++] = 0x48, p[i++] = 0xc1, p[i++] = 0xe1, p[i++] = 32; /* shl rcx, 32 */
	p[i++] = 0x48, p[i++] = 0x09, p[i++] = 0xc8;              /* or rax, rcx          */
	p[i++] = 0xc3;                                            /* ret                  */
	memcpy(p + CODE32, code32, sizeof(code32));
	memcpy(p + FARPTR, &off, 4);
	p[FARPTR + 4] = USER32_CS;
	p[FARPTR + 5] = 0;
}

/* Does a far call to 32-bit code work here? Tried in a child: a refusal kills only it. */
static bool works(uint8_t *p)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		((compat_fn)(void *)p)(0x12345678, 0x2);
		_exit(0);
	}
	return pid > 0 && host_waitpid(pid, &st) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* One page per process, set up at the first BCD instruction; NULL where unusable. */
static uint8_t *compat_page;
static bool compat_tried;

/* The first use: is 32-bit code possible here, and does the far call work? */
static void compat_setup(void)
{
	uint8_t *p;

	compat_tried = true;
	if (!host_has(HOST_CAP_IA32))
		return;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (p == MAP_FAILED)
		return;
	build(p);
	if (!works(p)) {
		munmap(p, 4096);
		return;
	}
	compat_page = p;
}

const char *bt_compat_method(void)
{
	if (!compat_tried)
		compat_setup();
	return compat_page ? "native (a far call into the host's 32-bit code segment)"
	       : host_has(HOST_CAP_IA32)
	           ? "emulated in C (the far call into 32-bit code failed)"
	           : "emulated in C (no IA-32 on this host: undefined flags are tandem's)";
}

bool bt_compat_bcd(const uint8_t insn[2], uint32_t *eax, uint32_t *eflags)
{
	sigset_t all, old;
	uint64_t r;

	if (!compat_tried)
		compat_setup();
	if (!compat_page)
		return false;
	compat_page[CODE32 + 2] = insn[0];
	compat_page[CODE32 + 3] = insn[1];
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = ((compat_fn)(void *)compat_page)(*eax, (*eflags & 0xcd5) | 2);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*eax = (uint32_t)r;
	*eflags = (uint32_t)(r >> 32);
	return true;
}
