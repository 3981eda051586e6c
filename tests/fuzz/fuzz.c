/*
 * fuzz.c: robustness guest. Fills a few pages with pseudo-random bytes and jumps
 * into them, in ring 0 or (ring=3 on the command line) ring 3, with random
 * registers. Whatever the bytes do, an engine must end the run in an orderly
 * way: every exception and interrupt vector with a gate prints
 * "fuzz: trap N at eip=..." and exits 2; the code may also halt, spin, write the
 * exit port, or wreck the kernel (triple fault) - all fine; a host crash or a
 * hang beyond the timeout is not.
 *
 * Command line: seed=N (default 1) ring=0|3 (default 0) pages=P (1..16, default 4)
 */
#include "rt.h"

#define MAX_PAGES 16
#define DATA_SIZE (64 * 1024)
#define EXIT_FUZZ_TRAP 2
#define EXIT_FUZZ_RETURNED 3

uint8_t fuzz_code[MAX_PAGES * PAGE_SIZE]
    __attribute__((aligned(4096)));                            /* global: asm jumps here */
static uint8_t data[DATA_SIZE] __attribute__((aligned(4096))); /* where registers point */
static uint8_t stack0[16384] __attribute__((aligned(16)));     /* ring 0 code's stack */
static uint8_t user_stack[16384] __attribute__((aligned(16))); /* ring 3 code's stack */
static uint64_t rng;
static uint32_t regs[8]; /* eax ecx edx ebx esp(unused) ebp esi edi at entry */
uint32_t fuzz_regs_ptr;  /* &regs, for the asm */
uint32_t fuzz_esp;       /* nonzero: the random code starts with this ESP */
extern uint8_t fuzz_code[];

static uint32_t next(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void fuzz_trap(struct trapframe *tf)
{
	printf("fuzz: trap %u at eip=0x%08x err=0x%x cs=0x%x\n", (unsigned)tf->vector,
	       (unsigned)tf->eip, (unsigned)tf->err, (unsigned)tf->cs);
	guest_exit(EXIT_FUZZ_TRAP);
}

/* The random code returned (ring 0: a ret to fuzz_returned at the stack top). */
void fuzz_returned(void);
void fuzz_returned(void)
{
	printf("fuzz: the code returned\n");
	guest_exit(EXIT_FUZZ_RETURNED);
}

static uint32_t parse_num(const char *s)
{
	uint32_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint32_t)(*s++ - '0');
	return v;
}

/* Finds key=value in the command line (after the kernel path). */
static const char *arg(const char *cmd, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = cmd; *p; p++) {
		if ((p == cmd || p[-1] == ' ') && !memcmp(p, key, n) && p[n] == '=')
			return p + n + 1;
	}
	return NULL;
}

/* Loads the random registers and jumps to the code, ESP on stack0 with
 * fuzz_returned as the return address. */
static void run_ring0(void) RT_NORETURN;
static void run_ring0(void)
{
	uint32_t *sp = (uint32_t *)(stack0 + sizeof(stack0) / 2);
	*--sp = (uint32_t)fuzz_returned;
	fuzz_regs_ptr = (uint32_t)regs;
	__asm__ volatile("movl %0, %%esp\n\t"
	                 "movl fuzz_regs_ptr, %%eax\n\t"
	                 "pushl $0x2\n\t" /* random-ish flags: IF=0, DF=0 */
	                 "popfl\n\t"
	                 "movl fuzz_esp, %%ecx\n\t" /* flag-free: jecxz */
	                 "jecxz 1f\n\t"
	                 "movl %%ecx, %%esp\n"
	                 "1:\tmovl 4(%%eax), %%ecx\n\t"
	                 "movl 8(%%eax), %%edx\n\t"
	                 "movl 12(%%eax), %%ebx\n\t"
	                 "movl 20(%%eax), %%ebp\n\t"
	                 "movl 24(%%eax), %%esi\n\t"
	                 "movl 28(%%eax), %%edi\n\t"
	                 "movl 0(%%eax), %%eax\n\t"
	                 "jmp fuzz_code"
	                 :
	                 : "r"(sp)
	                 : "memory");
	__builtin_unreachable();
}

static int user_entry(void)
{
	/* Ring 3: the registers are loaded here (enter_user starts us as a function). */
	__asm__ volatile("movl fuzz_regs_ptr, %%eax\n\t"
	                 "movl fuzz_esp, %%ecx\n\t"
	                 "jecxz 1f\n\t"
	                 "movl %%ecx, %%esp\n"
	                 "1:\tmovl 4(%%eax), %%ecx\n\t"
	                 "movl 8(%%eax), %%edx\n\t"
	                 "movl 12(%%eax), %%ebx\n\t"
	                 "movl 20(%%eax), %%ebp\n\t"
	                 "movl 24(%%eax), %%esi\n\t"
	                 "movl 28(%%eax), %%edi\n\t"
	                 "movl 0(%%eax), %%eax\n\t"
	                 "jmp fuzz_code" ::
	                     : "memory");
	return 0;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	const char *cmd = "";
	const char *v;
	uint32_t seed = 1, ring = 0, pages = 4;

	(void)magic;
	if ((mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline)
		cmd = (const char *)mbi->cmdline;
	if ((v = arg(cmd, "seed")))
		seed = parse_num(v);
	if ((v = arg(cmd, "ring")))
		ring = parse_num(v);
	if ((v = arg(cmd, "pages")))
		pages = parse_num(v);
	if (pages < 1 || pages > MAX_PAGES)
		pages = 4;
	if (ring != 0 && ring != 3) {
		printf("fuzz: ring=%u: want 0 or 3\n", (unsigned)ring);
		return EXIT_FAIL;
	}

	rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 17) ^ seed;
	for (int i = 0; i < 8; i++)
		next();
	for (uint32_t i = 0; i < pages * PAGE_SIZE; i += 4) {
		uint32_t w = next();
		memcpy(&fuzz_code[i], &w, 4);
	}
	for (uint32_t i = pages * PAGE_SIZE; i < sizeof(fuzz_code); i++)
		fuzz_code[i] = 0xCC; /* int3 past the random pages */
	for (int i = 0; i < 8; i++) {
		uint32_t r = next();
		/*
		 * Half the registers point into the data area, so memory operands often
		 * work; some sit just below 4 GiB or just above 0, so that accesses wrap.
		 */
		if (r & 1)
			regs[i] = (uint32_t)data + (next() % DATA_SIZE);
		else if ((r & 6) == 2)
			regs[i] = 0u - 1u - (next() & 63);
		else if ((r & 6) == 4)
			regs[i] = next() & 63;
		else
			regs[i] = next();
	}
	/* One seed in four runs with ESP near 4 GiB (regs[4]): pushes wrap. */
	fuzz_esp = (seed & 3) == 3 ? 0u - (next() & 31) : 0;
	fuzz_regs_ptr = (uint32_t)regs;

	enable_paging();
	for (unsigned vec = 0; vec < 48; vec++)
		trap_set_handler(vec, fuzz_trap);
	trap_set_handler(SYSCALL_VEC, fuzz_trap);
	trap_set_handler(RT_USER_EXIT_VEC, fuzz_trap); /* a random int 0x81 is a trap here too */
	printf("fuzz: seed=%u ring=%u pages=%u code=0x%08x first bytes %02x %02x %02x %02x\n",
	       (unsigned)seed, (unsigned)ring, (unsigned)pages, (unsigned)fuzz_code, fuzz_code[0],
	       fuzz_code[1], fuzz_code[2], fuzz_code[3]);
	if (ring == 0)
		run_ring0();
	int st = enter_user(user_entry, user_stack + sizeof(user_stack), 0);
	printf("fuzz: ring 3 code left through SYS_exit, status %d\n", st);
	return EXIT_FUZZ_RETURNED;
}
