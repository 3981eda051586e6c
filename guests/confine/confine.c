/*
 * confine.c: attack guest for the translator's confinement. Every test is an
 * access an attacker would try against a translator that keeps guest memory in a
 * host window: absolute operands at or above 2 GiB in each instruction class,
 * accesses straddling 4 GiB (loads, stores, push/pop, string and bit operations),
 * a page-directory self-map at 0xFFFFF000, page-table stores racing a 1 kHz timer
 * (the adaptive redirect), an adapted store overwritten by self-modifying code,
 * bit offsets on an adapted page-table store. Ring 0 and ring 3. Each line is
 * what i386 does (tests/golden/confine.txt is qemu-system-i386's output).
 *
 * Command line: "hole" instead runs one instruction that begins in the last page
 * of RAM (64 MiB) and ends in a page with no RAM behind it (engines must stop
 * cleanly); "adapt" runs only the tests of adapted instructions; "norace" all
 * but the timer race.
 */
#include "rt.h"

#define HIGH_VA 0xfbc00000u /* a mapped page at >= 2 GiB */
#define UNMAPPED_VA 0xfbd00000u
#define TOP_VA 0xfffff000u

static uint8_t zero_pg[4096] __attribute__((aligned(4096)));
static uint8_t top_pg[4096] __attribute__((aligned(4096)));
static uint8_t high_pg[4096] __attribute__((aligned(4096)));
static uint8_t target_pg[4096] __attribute__((aligned(4096)));
static uint8_t code_pg[4096] __attribute__((aligned(4096)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));

/* The last fault, and where the faulting test goes on. */
static volatile uint32_t f_vec, f_cr2, f_err;
volatile uint32_t recover_eip, saved_esp;
static uint32_t out[16]; /* results of ring-3 tests, printed from ring 0 */

static void on_fault(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_err = tf->err;
	f_cr2 = tf->vector == 14 ? read_cr2() : 0;
	if (!recover_eip) {
		printf("confine: unexpected trap %u at eip=0x%08x cr2=0x%08x\n",
		       (unsigned)tf->vector, (unsigned)tf->eip, (unsigned)read_cr2());
		guest_exit(EXIT_FAIL);
	}
	tf->eip = recover_eip;
	recover_eip = 0;
}

static void clear_fault(void)
{
	f_vec = 0xff;
	f_cr2 = f_err = 0;
}

static void fill(void)
{
	for (unsigned i = 0; i < 4096; i++) {
		zero_pg[i] = (uint8_t)(0x10 + i);
		top_pg[i] = (uint8_t)(0xa0 + i);
		high_pg[i] = (uint8_t)(0x50 + i);
	}
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The bytes around the wrap: top_pg[0xffc..0xfff] and zero_pg[0..3], kept for printing. */
static struct rec {
	char name[56];
	uint32_t v, top, zero, vec, cr2, err;
} recs[48];
static unsigned nrec;

static void wrap_state(const char *what, uint32_t v)
{
	struct rec *r = &recs[nrec < 47 ? nrec++ : 47];

	*r = (struct rec){.v = v,
	                  .top = rd32(top_pg + 0xffc),
	                  .zero = rd32(zero_pg),
	                  .vec = f_vec,
	                  .cr2 = f_cr2,
	                  .err = f_err};
	memcpy(r->name, what, strlen(what) + 1);
}

static void print_recs(void)
{
	for (unsigned i = 0; i < nrec; i++)
		printf("confine: %s v=0x%08x top=0x%08x zero=0x%08x fault=%u cr2=0x%08x err=%u\n",
		       recs[i].name, (unsigned)recs[i].v, (unsigned)recs[i].top,
		       (unsigned)recs[i].zero, (unsigned)recs[i].vec, (unsigned)recs[i].cr2,
		       (unsigned)recs[i].err);
	nrec = 0;
}

/* ---- absolute operands >= 2 GiB ---- */

static void __attribute__((noinline)) div_abs(uint32_t *q)
{
	uint32_t a = 1000, d = 0;

	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "divl 0xfbc00020\n\t"
	                 "movl $0, recover_eip\n"
	                 "1:"
	                 : "+a"(a), "+d"(d)::"memory", "cc");
	*q = a;
}

static void abs_tests(uint32_t *r)
{
	uint32_t v = 0, c = 5;

	__asm__ volatile("movl $0x11223344, 0xfbc00010" ::: "memory");
	r[0] = rd32(high_pg + 0x10);
	__asm__ volatile("movl 0xfbc00010, %0" : "=r"(v)::"memory");
	r[1] = v;
	__asm__ volatile("addl %0, 0xfbc00010" ::"r"(c) : "memory", "cc");
	__asm__ volatile("pushl 0xfbc00010\n\tpopl 0xfbc00014" ::: "memory");
	r[2] = rd32(high_pg + 0x14);
	v = 7;
	__asm__ volatile("movl $2f, 0xfbc00018\n\t"
	                 "jmp *0xfbc00018\n\t"
	                 "ud2\n"
	                 "2: movl $3f, 0xfbc0001c\n\t"
	                 "call *0xfbc0001c\n\t"
	                 "jmp 4f\n"
	                 "3: incl %0\n\t"
	                 "ret\n"
	                 "4:"
	                 : "+r"(v)::"memory");
	r[3] = v;
	/* divide by zero until adapted (inline check), then a real quotient */
	memset(high_pg + 0x20, 0, 4);
	for (int i = 0; i < 12; i++)
		div_abs(&v);
	r[4] = f_vec;
	high_pg[0x20] = 10;
	div_abs(&v);
	r[5] = v;
	c = 35;
	__asm__ volatile("btsl %0, 0xfbc00024" ::"r"(c) : "memory", "cc");
	r[6] = rd32(high_pg + 0x28);
	/* more classes: inc, setcc, movzx, imul, cmpxchg, xchg, xlat with EBX >= 2 GiB */
	v = 0;
	__asm__ volatile("incl 0xfbc00030\n\t"
	                 "cmpl $0, 0xfbc00030\n\t"
	                 "setne 0xfbc00034\n\t"
	                 "movzbl 0xfbc00034, %0\n\t"
	                 "imull 0xfbc00030, %0\n\t"
	                 "xchgl %0, 0xfbc00038"
	                 : "+r"(v)::"memory", "cc");
	c = 0x99;
	__asm__ volatile("cmpxchgl %1, 0xfbc00038" : "+a"(v) : "r"(c) : "memory", "cc");
	r[11] = rd32(high_pg + 0x30) ^ rd32(high_pg + 0x34) ^ rd32(high_pg + 0x38) ^ v;
	v = 0x3c;
	c = HIGH_VA;
	__asm__ volatile("xlatb" : "+a"(v) : "b"(c) : "memory");
	r[12] = v;
	clear_fault();
	v = 0x5a5a5a5a;
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "movl 0xfbd00000, %0\n"
	                 "1:"
	                 : "+r"(v)::"memory");
	r[7] = f_cr2;
	r[8] = f_err;
	clear_fault();
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "movl $0xdeadbeef, 0xffc00400\n"
	                 "1:" ::
	                     : "memory");
	r[9] = f_cr2;
	r[10] = f_err;
}

static void print_abs(const char *ring, const uint32_t *r)
{
	printf("confine: abs %s: store=0x%08x load=0x%08x pushpop=0x%08x jmpcall=%u div=%u/%u "
	       "bts=0x%08x\n",
	       ring, (unsigned)r[0], (unsigned)r[1], (unsigned)r[2], (unsigned)r[3], (unsigned)r[4],
	       (unsigned)r[5], (unsigned)r[6]);
	printf("confine: abs %s: unmapped load cr2=0x%08x err=%u, store cr2=0x%08x err=%u\n", ring,
	       (unsigned)r[7], (unsigned)r[8], (unsigned)r[9], (unsigned)r[10]);
	printf("confine: abs %s: inc/setcc/movzx/imul/xchg/cmpxchg=0x%08x xlat=0x%08x\n", ring,
	       (unsigned)r[11], (unsigned)r[12]);
}

/* ---- straddles at 4 GiB ---- */

static void straddle_tests(const char *ring)
{
	char name[48];
	uint32_t v, p;

	fill();
	clear_fault();
	__asm__ volatile("movl 0xfffffffe, %0" : "=r"(v)::"memory");
	snprintf(name, sizeof(name), "%s load [0xfffffffe]", ring);
	wrap_state(name, v);
	p = 0xffffffff;
	__asm__ volatile("movw (%1), %w0" : "=r"(v) : "r"(p) : "memory");
	snprintf(name, sizeof(name), "%s load16 [0xffffffff]", ring);
	wrap_state(name, v & 0xffff);
	p = 0x80000010;
	__asm__ volatile("movl 0x7ffffff0(%1), %0" : "=r"(v) : "r"(p) : "memory");
	snprintf(name, sizeof(name), "%s load [reg+disp wraps to 0]", ring);
	wrap_state(name, v);
	p = 2;
	__asm__ volatile("movl -4(%1), %0" : "=r"(v) : "r"(p) : "memory");
	snprintf(name, sizeof(name), "%s load [2-4]", ring);
	wrap_state(name, v);
	__asm__ volatile("movl $0x11223344, 0xfffffffd" ::: "memory");
	snprintf(name, sizeof(name), "%s store [0xfffffffd]", ring);
	wrap_state(name, 0);
	fill();
	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movl $0xfffffffe, %%esp\n\t"
	                 "popl %0\n\t"
	                 "movl saved_esp, %%esp"
	                 : "=r"(v)::"memory");
	snprintf(name, sizeof(name), "%s pop at esp=0xfffffffe", ring);
	wrap_state(name, v);
	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movl $2, %%esp\n\t"
	                 "pushl $0x55667788\n\t"
	                 "movl saved_esp, %%esp" ::
	                     : "memory");
	snprintf(name, sizeof(name), "%s push at esp=2", ring);
	wrap_state(name, 0);
	fill();
	{
		uint32_t si = 0xfffffffe, di = 0xfffffffd, cnt = 6;

		__asm__ volatile("cld\n\tlodsl" : "=a"(v), "+S"(si)::"memory");
		snprintf(name, sizeof(name), "%s lodsl esi=0xfffffffe esi'=0x%x", ring,
		         (unsigned)si);
		wrap_state(name, v);
		__asm__ volatile("cld\n\tstosl" : "+D"(di) : "a"(0xcafef00du) : "memory");
		snprintf(name, sizeof(name), "%s stosl edi'=0x%x", ring, (unsigned)di);
		wrap_state(name, 0);
		fill();
		si = 0xfffffffc, di = 0x800;
		__asm__ volatile("cld\n\trep movsb" : "+S"(si), "+D"(di), "+c"(cnt)::"memory");
		snprintf(name, sizeof(name), "%s rep movsb from 0xfffffffc", ring);
		wrap_state(name, rd32(zero_pg + 0x800) ^ rd32(zero_pg + 0x802));
	}
	fill();
	{
		uint32_t si = 1, di = 0x800, cnt = 4;

		__asm__ volatile("std\n\trep movsb\n\tcld"
		                 : "+S"(si), "+D"(di), "+c"(cnt)::"memory", "cc");
		snprintf(name, sizeof(name), "%s std rep movsb from 1 esi'=0x%x", ring,
		         (unsigned)si);
		wrap_state(name, rd32(zero_pg + 0x7fd));
	}
	p = 0x3ffffffc;
	__asm__ volatile("movl 0x10(,%1,4), %0" : "=r"(v) : "r"(p) : "memory");
	snprintf(name, sizeof(name), "%s load [idx*4+0x10] wraps to 0", ring);
	wrap_state(name, v);
	p = 0xf0000000;
	__asm__ volatile("movl 0x7ffffffe(,%1,8), %0" : "=r"(v) : "r"(p) : "memory");
	snprintf(name, sizeof(name), "%s load [idx*8+0x7ffffffe] straddles", ring);
	wrap_state(name, v);
	p = 0xfffffff0;
	v = 0x10;
	__asm__ volatile("movl (%1,%2,1), %0" : "=r"(v) : "r"(p), "r"(v) : "memory");
	snprintf(name, sizeof(name), "%s load [base+index] wraps to 0", ring);
	wrap_state(name, v);
	fill();
	p = 37;
	__asm__ volatile("btsl %0, 0xfffffffc" ::"r"(p) : "memory", "cc");
	snprintf(name, sizeof(name), "%s bts [0xfffffffc], 37", ring);
	wrap_state(name, 0);
	p = (uint32_t)-0xfd;
	__asm__ volatile("btl %2, 0x10\n\tsetc %b0\n\tmovzbl %b0, %0"
	                 : "=q"(v)
	                 : "0"(0), "r"(p)
	                 : "memory", "cc");
	snprintf(name, sizeof(name), "%s bt [0x10], -0xfd", ring);
	wrap_state(name, v);
}

/* A straddle whose other page is not present faults with CR2 on that page. */
static void straddle_faults(const char *ring)
{
	char name[48];
	uint32_t v = 0x5a5a5a5a, *p0 = pte_lookup(0), *ptop = pte_lookup(TOP_VA);

	*p0 &= ~PTE_P;
	invlpg(0);
	clear_fault();
	__asm__ volatile("movl $1f, recover_eip\n\tmovl 0xfffffffe, %0\n1:" : "+r"(v)::"memory");
	snprintf(name, sizeof(name), "%s load, page 0 absent", ring);
	wrap_state(name, v);
	*p0 |= PTE_P;
	invlpg(0);
	*ptop &= ~PTE_P;
	invlpg(TOP_VA);
	clear_fault();
	/* (a ring-0 push here would fault onto its own stack: a triple fault) */
	__asm__ volatile("movl $1f, recover_eip\n\tmovl $1, 0xfffffffe\n1:" ::: "memory");
	snprintf(name, sizeof(name), "%s store, top absent", ring);
	wrap_state(name, 0);
	*ptop |= PTE_P;
	invlpg(TOP_VA);
}

static int user_tests(void)
{
	abs_tests(out);
	straddle_tests("ring3");
	return 0;
}

/* ---- the page-directory self-map at 0xFFFFF000 ---- */

static void selfmap_test(void)
{
	uint32_t save = rt_page_dir[1023], v0, v1, v2 = 0x5a5a5a5a;

	rt_page_dir[1023] = (uint32_t)rt_page_dir | PTE_W | PTE_P;
	write_cr3(read_cr3());
	__asm__ volatile("movl 0xfffff000, %0" : "=r"(v0)::"memory");
	__asm__ volatile("movl 0xffc00004, %0" : "=r"(v1)::"memory");
	/* map 0xfc000000 as a 4 MiB page over physical 0 through the self-map */
	__asm__ volatile("movl $0x00000083, 0xfffffFC0\n\tinvlpg 0xfc000000" ::: "memory");
	high_pg[0x40] = 0x77;
	v2 = *(volatile uint32_t *)(0xfc000000u + (uint32_t)high_pg + 0x40);
	__asm__ volatile("movl $0, 0xfffffFC0\n\tinvlpg 0xfc000000" ::: "memory");
	clear_fault();
	__asm__ volatile("movl $1f, recover_eip\n\tmovl 0xfc001000, %%eax\n1:" ::: "eax", "memory");
	printf("confine: selfmap pde0=0x%08x pte1=0x%08x via-pse=0x%08x fault=%u cr2=0x%08x\n",
	       (unsigned)v0, (unsigned)v1, (unsigned)v2, (unsigned)f_vec, (unsigned)f_cr2);
	rt_page_dir[1023] = save;
	write_cr3(read_cr3());
}

/* ---- adaptive page-table stores: the redirect vs a 1 kHz timer, SMC, bit offsets ---- */

static uint32_t *spare_pte(void)
{
	return pte_lookup(TOP_VA) - 1; /* the unused entry before the top page's */
}

static void __attribute__((noinline)) pt_store(uint32_t *pte, uint32_t v)
{
	__asm__ volatile("movl %1, (%0)" ::"r"(pte), "r"(v) : "memory");
}

static void race_body(uint32_t *r)
{
	uint32_t *pte = spare_pte(), sum = 0, v = 0x5a5a5a5a;

	for (uint32_t i = 0; i < 200000; i++) {
		pt_store(pte, (i & 1) ? ((uint32_t)target_pg | PTE_U | PTE_W | PTE_P) : 0);
		sum += *(volatile uint32_t *)target_pg;
		if (i & 1) /* through the entry just stored: the walker traces its table */
			sum += *(volatile uint32_t *)(TOP_VA - 0x1000);
	}
	clear_fault();
	__asm__ volatile("movl $1f, recover_eip\n\tmovl 0xfbd00000, %0\n1:" : "+r"(v)::"memory");
	r[0] = sum;
	r[1] = f_cr2;
	r[2] = rd32(high_pg + 0x10);
	r[3] = *pte & ~(PTE_A | PTE_D); /* A: set or not, as a TLB may have kept the entry */
}

static int user_race(void)
{
	race_body(out);
	return 0;
}

static void race_tests(void)
{
	uint32_t r[4];

	memset(target_pg, 3, 4);
	timer_start(1000);
	sti();
	race_body(r);
	cli();
	printf("confine: race ring0 sum=0x%08x probe cr2=0x%08x high=0x%08x pte=0x%08x\n",
	       (unsigned)r[0], (unsigned)r[1], (unsigned)r[2], (unsigned)r[3]);
	enter_user(user_race, user_stack + sizeof(user_stack), 1);
	printf("confine: race ring3 sum=0x%08x probe cr2=0x%08x high=0x%08x pte=0x%08x\n",
	       (unsigned)out[0], (unsigned)out[1], (unsigned)out[2], (unsigned)out[3]);
	timer_stop();
}

static void smc_test(void)
{
	static const uint8_t store[] = {0x89, 0x03, 0xc3};  /* mov [ebx], eax; ret */
	static const uint8_t divide[] = {0xf7, 0xf1, 0xc3}; /* div ecx; ret */
	uint32_t *pte = spare_pte(), a, d;
	void (*fn)(void) = (void (*)(void))code_pg;

	(void)*(volatile uint32_t *)TOP_VA; /* the walker uses (traces) the top page table */
	memcpy(code_pg, store, sizeof(store));
	for (int i = 0; i < 20; i++)
		__asm__ volatile("call *%2" ::"a"(i), "b"(pte), "r"(fn) : "memory");
	memcpy(code_pg, divide, sizeof(divide));
	clear_fault();
	a = 0, d = 5;
	__asm__ volatile("movl $1f, recover_eip\n\tmovl %%esp, saved_esp\n\tcall *%2\n"
	                 "1:\tmovl saved_esp, %%esp"
	                 : "+a"(a), "+d"(d)
	                 : "r"(fn), "b"(pte), "c"(1)
	                 : "memory", "cc");
	memcpy(code_pg, store, sizeof(store));
	__asm__ volatile("call *%2" ::"a"(0x1234u), "b"(pte), "r"(fn) : "memory");
	printf("confine: smc adapted store -> div: fault=%u pte=0x%08x\n", (unsigned)f_vec,
	       (unsigned)*pte);
	*pte = 0;
	invlpg(TOP_VA - 0x1000);
}

/* One load, many true page faults (adapted: #PF from a callout), then present. */
static uint32_t __attribute__((noinline)) load_at(uint32_t va)
{
	uint32_t v = 0x5a5a5a5a;

	__asm__ volatile("movl $1f, recover_eip\n\tmovl -0x20(%1), %0\n1:"
	                 : "+r"(v)
	                 : "r"(va + 0x20)
	                 : "memory");
	return v;
}

static void pf_test(void)
{
	uint32_t sum = 0, cr2s = 0;

	for (uint32_t i = 0; i < 20; i++) {
		clear_fault();
		sum += load_at(UNMAPPED_VA + (i & 3) * 0x1000 + i);
		cr2s = cr2s * 31 + f_cr2 + f_err;
	}
	map_page(UNMAPPED_VA + 0x1000, (uint32_t)high_pg, PTE_W);
	clear_fault();
	sum += load_at(UNMAPPED_VA + 0x1010);
	printf("confine: repeated #PF: sum=0x%08x cr2s=0x%08x then present=%u\n", (unsigned)sum,
	       (unsigned)cr2s, (unsigned)f_vec);
	unmap_page(UNMAPPED_VA + 0x1000);
}

static void __attribute__((noinline)) bts_at(uint32_t *base, int32_t bit)
{
	__asm__ volatile("btsl %1, (%0)" ::"r"(base), "r"(bit) : "memory", "cc");
}

static void bitoff_test(void)
{
	uint32_t *pte = spare_pte(), v = 0;
	int32_t off = (int32_t)((uint32_t)target_pg - (uint32_t)pte) * 8 + 12;

	memset(target_pg, 0, 16);
	(void)*(volatile uint32_t *)TOP_VA; /* the walker uses (traces) the top page table */
	for (int i = 0; i < 12; i++)
		bts_at(pte, 9 + (i & 1)); /* AVL bits of a not-present entry */
	bts_at(pte, off);
	clear_fault();
	__asm__ volatile("movl $1f, recover_eip\n\tbtsl %2, (%1)\n1:"
	                 : "+r"(v)
	                 : "r"(pte), "r"(0x7ffffff0)
	                 : "memory", "cc");
	printf("confine: bit offsets on a page table: pte=0x%08x target=0x%08x far fault=%u "
	       "cr2=0x%08x\n",
	       (unsigned)*pte, (unsigned)rd32(target_pg), (unsigned)f_vec, (unsigned)f_cr2);
	*pte = 0;
}

/* An instruction that starts in the last page of RAM and ends past it. */
static void hole_test(void)
{
	uint32_t end = 64u << 20; /* the end of RAM: run with 64 MiB */
	uint8_t *p = (uint8_t *)0xa0000ffeu;

	map_page(0xa0000000u, end - 4096, PTE_W | PTE_P);
	map_page(0xa0001000u, end, PTE_W | PTE_P);
	p[0] = 0xb8; /* mov eax, imm32: 3 of its bytes lie past RAM */
	p[1] = 0x11;
	printf("confine: hole: jumping to 0x%08x (RAM ends at 0x%08x)\n", (unsigned)p,
	       (unsigned)end);
	((void (*)(void))p)();
	printf("confine: hole: returned\n");
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	const char *cmd = (mbi->flags & MBI_FLAG_CMDLINE) ? (const char *)mbi->cmdline : "";

	(void)magic;
	enable_paging();
	for (unsigned v = 0; v < 32; v++)
		trap_set_handler(v, on_fault);
	if (strlen(cmd) >= 4 && !strcmp(cmd + strlen(cmd) - 4, "hole")) {
		hole_test();
		return EXIT_FAIL;
	}
	map_page(0, (uint32_t)zero_pg, PTE_U | PTE_W);
	map_page(TOP_VA, (uint32_t)top_pg, PTE_U | PTE_W);
	map_page(HIGH_VA, (uint32_t)high_pg, PTE_U | PTE_W);
	fill();
	if (strlen(cmd) >= 5 && !strcmp(cmd + strlen(cmd) - 5, "adapt"))
		goto adaptive; /* only the adaptive-redirect attacks */
	{
		uint32_t r[16];

		abs_tests(r);
		print_abs("ring0", r);
	}
	straddle_tests("ring0");
	straddle_faults("ring0");
	print_recs();
	fill();
	enter_user(user_tests, user_stack + sizeof(user_stack), 0);
	print_abs("ring3", out);
	print_recs();
	selfmap_test();
adaptive:
	if (!(strlen(cmd) >= 6 && !strcmp(cmd + strlen(cmd) - 6, "norace")))
		race_tests(); /* 400,000 page-table stores: slow without adaptation */
	smc_test();
	bitoff_test();
	pf_test();
	printf("confine: done\n");
	return EXIT_OK;
}
