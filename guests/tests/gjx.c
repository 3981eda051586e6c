/*
 * gjx.c: attack guest for bt's global jump cache (src/bt/bt_cache.c tc_jc_fill,
 * tc_gjc_invlpg; bt_stubs.S bt_stub_miss), where CPL 0 blocks on global pages are
 * found again after CR3 loads. Code on a global 4 MiB page whose PDE is cleared,
 * invalidated with invlpg of another address in that page (SDM Vol 3A 4.10.2.3: one
 * invlpg invalidates the whole large page's translation) and replaced by a table; an
 * instruction that straddles 4 GiB (a block on the global top page whose bytes go on in
 * global page 0) with page 0 remapped and invlpg 0; a block that runs from a global
 * page into a non-global one remapped with a CR3 load only; rdtsc on a global page
 * under CR4.TSD, called at CPL 0, then at CPL 1 and 3 (#GP there); a block chained to one
 * that reads through GS (left out of the global cache's key) and one through FS, under
 * flat and based FS/GS; two spaces calling a global function under a 1 kHz PIT while
 * it is rewritten. Each case is called
 * indirectly (the jump caches, not chains), again after a CR3 reload (which keeps
 * global TLB entries, so a translator may keep them too). Each line is what
 * qemu-system-i386 prints.
 */
#include "rt.h"

#define CR4_PGE 0x80u
#define PTE_G 0x100u
#define VA_BIG 0x80000000u /* a 4 MiB page, then a table */
#define PA_BIG 0x00800000u /* its frame: RAM from 8 MiB */
#define VA_TOP 0xfffff000u
#define VA_PAIR 0x40000000u /* a global page, then a non-global one */

#define VA_SEG 0x40006000u /* global: h jumps to g (GS), f (FS) */
#define SEL_BASE 0x50      /* gdt2[10]: flat data based at &seg_word2 - &seg_word */
#define VA_K 0x40008000u   /* global: rewritten while two spaces call it under the PIT */
#define VA_R1 0x40004000u  /* a global page run at CPL 0, then at CPL 1 */
#define SEL_C1 0x41        /* gdt2[8]: flat code, DPL 1; RPL 1 */
#define SEL_D1 0x49        /* gdt2[9]: flat data, DPL 1; RPL 1 */

static uint8_t frames[8][4096] __attribute__((aligned(4096)));
static uint64_t gdt2[16] __attribute__((aligned(16)));
static uint8_t stack1[4096] __attribute__((aligned(16)));
static uint8_t stack0[4096] __attribute__((aligned(16)));
static volatile uint32_t f_vec, f_cs, saved_esp, recover_eip;
static uint32_t dir_b[1024] __attribute__((aligned(4096)));
static int sdm; /* "sdm" on the command line: also what qemu's TCG answers otherwise */
static uint32_t seg_word = 0x5e6, seg_word2 = 0x7a7;
uint32_t seg_esp;
static uint32_t big_pt[1024] __attribute__((aligned(4096)));

static uint32_t call_at(uint32_t va)
{
	uint32_t (*f)(void) = (uint32_t(*)(void))va;

	return f(); /* an indirect call: the jump caches, not a chain */
}

/* mov $v, %eax; ret at p */
static void put_fn(void *p, uint32_t v)
{
	uint8_t *b = p;

	b[0] = 0xb8;
	memcpy(b + 1, &v, 4);
	b[5] = 0xc3;
}

static void reload_cr3(void)
{
	write_cr3(read_cr3());
}

/* n indirect calls, half of them after a CR3 reload: the last value */
static uint32_t calls(uint32_t va, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (i & 1)
			reload_cr3();
		v = call_at(va);
	}
	return v;
}

/* Code in a global 4 MiB page; PDE cleared, invlpg elsewhere in it, a table put in. */
static void big_page(void)
{
	uint32_t *pde = &rt_page_dir[VA_BIG >> 22], now;

	put_fn((void *)(PA_BIG + 0x1000), 0x11);
	put_fn(frames[0], 0x22);
	*pde = PA_BIG | PDE_PS | PTE_G | PTE_W | PTE_P;
	invlpg(VA_BIG);
	printf("gjx: big before %x\n", (unsigned)calls(VA_BIG + 0x1000, 6));
	*pde = 0; /* SDM 4.10.4.2: P clear, invalidate, then the new page size */
	invlpg(VA_BIG);
	memset(big_pt, 0, sizeof(big_pt));
	big_pt[1] = (uint32_t)frames[0] | PTE_G | PTE_W | PTE_P;
	*pde = (uint32_t)big_pt | PTE_W | PTE_P;
	/*
	 * Right away, the call must run the new code too (SDM); qemu's TCG keeps its jump
	 * to the old one until a CR3 load, so that answer is printed only with "sdm".
	 */
	now = call_at(VA_BIG + 0x1000);
	reload_cr3();
	printf("gjx: big after %x\n", (unsigned)call_at(VA_BIG + 0x1000));
	printf("gjx: big again %x\n", (unsigned)calls(VA_BIG + 0x1000, 4));
	if (sdm)
		printf("gjx: sdm big right away %x\n", (unsigned)now);
	*pde = 0;
	invlpg(VA_BIG + 0x1000);
}

/* mov $imm32, %eax at 0xfffffffd (three bytes on the top page, two on page 0); ret at 2 */
static void wrap(int reload)
{
	uint32_t *pte0 = (uint32_t *)(rt_page_dir[0] & ~0xfffu), old0 = *pte0;
	uint8_t *top = frames[1], *z0 = frames[2], *z1 = frames[3];

	top[0xffd] = 0xb8, top[0xffe] = 0xaa, top[0xfff] = 0xbb;
	z0[0] = 0x11, z0[1] = 0x22, z0[2] = 0xc3;
	z1[0] = 0x33, z1[1] = 0x44, z1[2] = 0xc3;
	map_page(VA_TOP, (uint32_t)top, PTE_W | PTE_G);
	*pte0 = (uint32_t)z0 | PTE_G | PTE_W | PTE_P;
	invlpg(0);
	printf("gjx: wrap%s before %08x\n", reload ? "-cr3" : "", (unsigned)calls(0xfffffffdu, 6));
	*pte0 = (uint32_t)z1 | PTE_G | PTE_W | PTE_P;
	invlpg(0);
	if (reload)
		reload_cr3();
	printf("gjx: wrap%s after %08x\n", reload ? "-cr3" : "", (unsigned)call_at(0xfffffffdu));
	printf("gjx: wrap%s again %08x\n", reload ? "-cr3" : "", (unsigned)calls(0xfffffffdu, 4));
	*pte0 = old0;
	invlpg(0);
	unmap_page(VA_TOP);
}

/* Global page, then a non-global one (mov $imm32 straddling them); CR3 load remaps. */
static void pair(void)
{
	uint8_t *g = frames[4], *n0 = frames[5], *n1 = frames[6];

	g[0xffe] = 0xb8, g[0xfff] = 0x01;
	n0[0] = 0x02, n0[1] = 0x03, n0[2] = 0x04, n0[3] = 0xc3;
	n1[0] = 0x12, n1[1] = 0x13, n1[2] = 0x14, n1[3] = 0xc3;
	map_page(VA_PAIR, (uint32_t)g, PTE_W | PTE_G);
	map_page(VA_PAIR + 0x1000, (uint32_t)n0, PTE_W);
	printf("gjx: pair before %08x\n", (unsigned)calls(VA_PAIR + 0xffe, 6));
	*pte_lookup(VA_PAIR + 0x1000) = (uint32_t)n1 | PTE_W | PTE_P;
	reload_cr3(); /* flushes the non-global page: the second half must be new */
	printf("gjx: pair after %08x\n", (unsigned)call_at(VA_PAIR + 0xffe));
	printf("gjx: pair again %08x\n", (unsigned)calls(VA_PAIR + 0xffe, 4));
	unmap_page(VA_PAIR);
	unmap_page(VA_PAIR + 0x1000);
}

static void on_gp(struct trapframe *tf)
{
	f_vec = tf->vector;
	if (!recover_eip) {
		printf("gjx: unexpected trap %u at 0x%08x\n", (unsigned)tf->vector,
		       (unsigned)tf->eip);
		guest_exit(EXIT_FAIL);
	}
	tf->eip = recover_eip;
	tf->fs = tf->gs = SEL_KDATA;
	recover_eip = 0;
}

/* An indirect call to va with fs/gs loaded with sel: its value, or 0x100 + the vector. */
static uint32_t seg_call(uint32_t va, uint16_t sel)
{
	uint32_t v;

	f_vec = 0;
	__asm__ volatile("movw %w2, %%fs\n\t"
	                 "movw %w2, %%gs\n\t"
	                 "movl $1f, recover_eip\n\t"
	                 "movl %%esp, seg_esp\n\t"
	                 "call *%1\n"
	                 "1:\tmovl seg_esp, %%esp\n\t"
	                 "movl $0, recover_eip\n\t"
	                 "movw %w3, %%fs\n\t"
	                 "movw %w3, %%gs"
	                 : "=a"(v)
	                 : "r"(va), "r"(sel), "r"(SEL_KDATA)
	                 : "memory", "ecx", "edx");
	return f_vec ? 0x100 + f_vec : v;
}

/*
 * h (no segment of its own) jumps straight to g (mov %gs:seg_word, %eax); f reads it through %fs.
 * Run with flat FS/GS, then with FS/GS based at &seg_word2 - &seg_word after a CR3 load: the global
 * jump cache keys blocks without GS, so h is found, but g must not run under the wrong GS.
 */
static void segs(void)
{
	uint8_t *p = frames[5];
	static const uint8_t h[] = {0xe9, 0xfb, 0, 0, 0};
	static const uint8_t g[] = {0x65, 0xa1, 4, 0, 0, 0, 0xc3};
	static const uint8_t f[] = {0x64, 0xa1, 4, 0, 0, 0, 0xc3};
	uint32_t r[6], w = (uint32_t)&seg_word;

	memset(p, 0xcc, 4096);
	memcpy(p, h, sizeof(h));
	memcpy(p + 0x100, g, sizeof(g));
	memcpy(p + 0x200, f, sizeof(f));
	memcpy(p + 0x102, &w, 4);
	memcpy(p + 0x202, &w, 4);
	map_page(VA_SEG, (uint32_t)p, PTE_W | PTE_G);
	trap_set_handler(13, on_gp);
	for (int i = 0; i < 4; i++) {
		r[0] = seg_call(VA_SEG, SEL_KDATA);
		r[1] = seg_call(VA_SEG + 0x200, SEL_KDATA);
		reload_cr3();
	}
	r[2] = seg_call(VA_SEG, SEL_BASE);
	r[3] = seg_call(VA_SEG + 0x200, SEL_BASE);
	reload_cr3();
	r[4] = seg_call(VA_SEG, SEL_BASE);
	r[5] = seg_call(VA_SEG + 0x200, SEL_BASE);
	printf("gjx: segs flat %x %x based %x %x after cr3 %x %x\n", (unsigned)r[0], (unsigned)r[1],
	       (unsigned)r[2], (unsigned)r[3], (unsigned)r[4], (unsigned)r[5]);
	trap_set_handler(13, NULL);
	unmap_page(VA_SEG);
}

/*
 * Two spaces call a global function in turn under a 1 kHz PIT (kicks between and in
 * indirect branches); every 64 calls space B rewrites its immediate through the
 * identity map: each call returns what the code holds then.
 */
static void kick_loop(void)
{
	uint8_t *p = frames[4];
	uint32_t a = read_cr3(), bad = 0, want = 1;

	memcpy(dir_b, rt_page_dir, 4096);
	put_fn(p, want);
	map_page(VA_K, (uint32_t)p, PTE_W | PTE_G);
	dir_b[VA_K >> 22] = rt_page_dir[VA_K >> 22];
	timer_start(1000);
	__asm__ volatile("sti");
	for (uint32_t i = 0; i < 20000 || (timer_ticks < 30 && i < 2000000); i++) {
		write_cr3(i & 1 ? (uint32_t)dir_b : a);
		if ((i & 63) == 63) {
			want = i;
			memcpy(p + 1, &want, 4);
		}
		bad += call_at(VA_K) != want;
	}
	__asm__ volatile("cli");
	timer_stop();
	write_cr3(a);
	printf("gjx: kick loop bad %u\n", (unsigned)bad);
	unmap_page(VA_K);
}

/* From CPL 1: back to ring1_back at CPL 0, on the stack saved before the iret. */
static void on_fault(struct trapframe *tf)
{
	extern char ring1_back[];

	f_vec = tf->vector;
	f_cs = tf->cs;
	tf->eip = (uint32_t)ring1_back;
	tf->cs = SEL_KCODE;
	tf->ds = tf->es = tf->fs = tf->gs = SEL_KDATA;
}

/* #GP from CPL 3 at the rdtsc: skip it (2 bytes) */
static void on_skip(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_cs = tf->cs;
	tf->eip += 2;
}

/* Ring 3: an indirect call to arg */
extern int u_call(uint32_t va);
__asm__(".globl u_call\n"
        "u_call:\n\t"
        "movl 4(%esp), %eax\n\t"
        "call *%eax\n\t"
        "ret");

/*
 * rdtsc on a global page under CR4.TSD: run by indirect calls at CPL 0 (no fault),
 * then by one at CPL 1, where it must #GP(0) (a block translated for CPL 0 lets
 * it through); a ud2 after the call tells the two apart.
 */
static void ring1(void)
{
	int r3;
	uint8_t *f = frames[7];

	f[0] = 0x0f, f[1] = 0x31; /* rdtsc */
	put_fn(f + 2, 0x55);
	map_page(VA_R1, (uint32_t)f, PTE_W | PTE_G);
	write_cr4(read_cr4() | 0x4u); /* TSD */
	printf("gjx: ring0 rdtsc %x\n", (unsigned)calls(VA_R1, 6));
	trap_set_handler(13, on_fault);
	trap_set_handler(6, on_fault);
	tss_set_esp0((uint32_t)stack0 + sizeof(stack0));
	__asm__ volatile("pushal\n\t"
	                 "movl %%esp, saved_esp\n\t"
	                 "movl %0, %%eax\n\t" /* FS, GS flat DPL 1: kept by the iret */
	                 "movw %%ax, %%fs\n\t"
	                 "movw %%ax, %%gs\n\t"
	                 "pushl %0\n\t"
	                 "pushl %1\n\t"
	                 "pushfl\n\t"
	                 "pushl %2\n\t"
	                 "pushl $1f\n\t"
	                 "iret\n"
	                 "1:\tmovl %0, %%eax\n\t"
	                 "movw %%ax, %%ds\n\t"
	                 "movw %%ax, %%es\n\t"
	                 "movl %3, %%eax\n\t"
	                 "call *%%eax\n\t"
	                 "ud2\n"
	                 ".globl ring1_back\n"
	                 "ring1_back:\tmovl saved_esp, %%esp\n\t"
	                 "popal"
	                 :
	                 : "i"(SEL_D1), "c"((uint32_t)stack1 + sizeof(stack1)), "i"(SEL_C1),
	                   "i"(VA_R1)
	                 : "memory", "cc");
	__asm__ volatile("movw %w0, %%ss\n\tmovw %w0, %%ds\n\tmovw %w0, %%es\n\t"
	                 "movw %w0, %%fs\n\tmovw %w0, %%gs" ::"r"(SEL_KDATA));
	printf("gjx: ring1 rdtsc vector %u from cpl %u\n", (unsigned)f_vec, (unsigned)(f_cs & 3));
	/* the same page user-accessible, called again at CPL 0, then from ring 3 */
	map_page(VA_R1, (uint32_t)f, PTE_W | PTE_G | PTE_U);
	printf("gjx: ring0 rdtsc again %x\n", (unsigned)calls(VA_R1, 6));
	f_vec = f_cs = 0;
	trap_set_handler(13, on_skip);
	r3 = rt_enter_user(u_call, VA_R1, stack1 + sizeof(stack1), 0);
	printf("gjx: ring3 rdtsc vector %u from cpl %u, then %x\n", (unsigned)f_vec,
	       (unsigned)(f_cs & 3), (unsigned)r3);
	trap_set_handler(13, NULL);
	trap_set_handler(6, NULL);
	write_cr4(read_cr4() & ~0x4u);
	unmap_page(VA_R1);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	struct dtr old, d;

	(void)magic;
	if (mbi->flags & (1u << 2)) {
		const char *c = (const char *)mbi->cmdline;

		for (; *c; c++)
			sdm |= c[0] == 's' && c[1] == 'd' && c[2] == 'm';
	}
	enable_paging();
	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[8] = 0xffffull | (uint64_t)0xba << 40 | (uint64_t)0xcf << 48;
	gdt2[9] = 0xffffull | (uint64_t)0xb2 << 40 | (uint64_t)0xcf << 48;
	{
		uint32_t b = (uint32_t)&seg_word2 - (uint32_t)&seg_word;

		gdt2[10] = 0xffffull | (uint64_t)(b & 0xffffffu) << 16 | (uint64_t)0x92 << 40 |
		           (uint64_t)0xcf << 48 | (uint64_t)(b >> 24) << 56;
	}
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	write_cr4(read_cr4() | CR4_PGE);
	big_page();
	wrap(0);
	wrap(1);
	pair();
	ring1();
	segs();
	kick_loop();
	write_cr4(read_cr4() & ~CR4_PGE);
	printf("gjx: done\n");
	return EXIT_OK;
}
