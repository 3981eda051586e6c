/*
 * dfx.c: attack guest for bt's DF as cpu->df_step (src/bt/bt_stubs.S LOAD_GUEST,
 * bt_xlat_string.c): string instructions read the step from it, set at every entry
 * and by cld/std. DF changed by iret into ring 3, by popf at CPL 3, kept over a
 * system call from ring 3 (its handler runs cld); string instructions single-stepped
 * under TF with DF set; a backward rep movsb cut by 1 kHz timer interrupts (their
 * handlers run cld) and by hidden faults; a backward rep movsb taking a #PF half way
 * (the handler maps the page and returns); a backward rep stosl into a live page table,
 * hot enough to be adapted; task switches that load DF set, there and back. Each line is
 * what qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_PF 0x60000000u /* two pages: the lower one mapped by the #PF handler */
#define VA_PT 0x61000000u /* sixteen pages through tabs[0] */
#define BIG (256u << 10)

static uint8_t src[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static uint8_t big_a[BIG] __attribute__((aligned(4096)));
static uint8_t big_b[BIG] __attribute__((aligned(4096)));
static uint8_t pf_pages[2][4096] __attribute__((aligned(4096)));
static uint8_t pf_dst[4096];
static uint32_t tabs[1][1024] __attribute__((aligned(4096)));
static uint32_t data[2][1024] __attribute__((aligned(4096)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static volatile uint32_t db_n, pf_n;
volatile uint32_t u_out[8];

/* Ring 3, entered with DF set by the iret (rt_enter_user's eflags) */
extern int u_df(uint32_t arg);
__asm__(".globl u_df\n"
        "u_df:\n\t"
        "movl $src+4, %esi\n\t"
        "lodsb\n\t" /* DF from the iret: ESI src+3 */
        "movl %esi, u_out\n\t"
        "pushfl\n\t"
        "andl $~0x400, (%esp)\n\t"
        "popfl\n\t"
        "lodsb\n\t" /* DF cleared by popf at CPL 3: ESI src+4 */
        "movl %esi, u_out+4\n\t"
        "pushfl\n\t"
        "orl $0x400, (%esp)\n\t"
        "popfl\n\t"
        "lodsb\n\t" /* set again: ESI src+3 */
        "movl %esi, u_out+8\n\t"
        "movl $4, %eax\n\t" /* SYS_inc: its handler runs with DF clear */
        "movl $41, %ebx\n\t"
        "int $0x80\n\t"
        "movl %eax, u_out+12\n\t"
        "lodsb\n\t" /* DF kept over the system call: ESI src+2 */
        "movl %esi, u_out+16\n\t"
        "movzbl %al, %eax\n\t"
        "movl %eax, u_out+20\n\t"
        "cld\n\t"
        "xorl %eax, %eax\n\t"
        "ret");

static void ring3(void)
{
	int r = rt_enter_user(u_df, 0, user_stack + sizeof(user_stack), 0x400);

	printf("dfx: ring3 %d esi %d %d %d sys %u esi %d al %u\n", r,
	       (int)(u_out[0] - (uint32_t)src), (int)(u_out[1] - (uint32_t)src),
	       (int)(u_out[2] - (uint32_t)src), (unsigned)u_out[3], (int)(u_out[4] - (uint32_t)src),
	       (unsigned)u_out[5]);
}

static void on_db(struct trapframe *tf)
{
	(void)tf;
	db_n++;
}

/* TF and DF set by one popf: lodsb, lodsb, movsb, each a #DB, until popf clears both */
static void stepped(void)
{
	uint32_t si = (uint32_t)src + 8, di = (uint32_t)pf_dst + 8, ax, n0, n1;

	trap_set_handler(1, on_db);
	__asm__ volatile("pushfl\n\t"
	                 "orl $0x500, (%%esp)\n\t"
	                 "popfl\n\t"
	                 "lodsb\n\t"
	                 "lodsb\n\t"
	                 "movsb\n\t"
	                 "pushfl\n\t"
	                 "andl $~0x500, (%%esp)\n\t"
	                 "popfl"
	                 : "=a"(ax), "+S"(si), "+D"(di)
	                 :
	                 : "cc", "memory");
	n0 = db_n;
	/* TF set by popf, then an indirect jump: a #DB after it and after each target insn
	 * (four rounds: the target in the jump cache from the second) */
	for (int i = 0; i < 4; i++)
		__asm__ volatile("movl $1f, %%ecx\n\t"
		                 "pushfl\n\t"
		                 "orl $0x100, (%%esp)\n\t"
		                 "popfl\n\t"
		                 "jmp *%%ecx\n\t"
		                 "ud2\n"
		                 "1:\tnop\n\t"
		                 "nop\n\t"
		                 "pushfl\n\t"
		                 "andl $~0x100, (%%esp)\n\t"
		                 "popfl"
		                 :
		                 :
		                 : "ecx", "cc", "memory");
	n1 = db_n - n0;
	trap_set_handler(1, NULL);
	printf("dfx: stepped jmp db %u\n", (unsigned)n1);
	printf("dfx: stepped db %u al %u esi %d edi %d byte %u\n", (unsigned)db_n,
	       (unsigned)(ax & 0xff), (int)(si - (uint32_t)src), (int)(di - (uint32_t)pf_dst),
	       (unsigned)pf_dst[8]);
}

/* Backward rep movsb of 256 KiB, 12 times, under a 1 kHz PIT; each round a new shift */
static void timer_cut(void)
{
	uint32_t sum = 0, bad = 0;

	for (uint32_t i = 0; i < BIG; i++)
		big_a[i] = (uint8_t)(i * 7 + (i >> 9));
	timer_start(1000);
	__asm__ volatile("sti");
	/* 12 rounds, then more (unprinted) until 20 ticks came: some land inside a rep */
	for (uint32_t r = 0; r < 12 || (timer_ticks < 20 && r < 100000); r++) {
		uint32_t k = r % 12, n = BIG - k, si = (uint32_t)big_a + n - 1;
		uint32_t di = (uint32_t)big_b + BIG - 1;

		__asm__ volatile("std\n\trep movsb\n\tcld"
		                 : "+S"(si), "+D"(di), "+c"(n)
		                 :
		                 : "memory", "cc");
		if (r < 12) {
			sum = sum * 31 + big_b[BIG - 1] + big_b[k + 5] * 3 + big_b[BIG / 2] * 5 + n;
			sum += si - (uint32_t)big_a + di - (uint32_t)big_b;
		}
		bad += n != 0 || si != (uint32_t)big_a - 1 || di != (uint32_t)big_b + k - 1 ||
		       memcmp(big_b + k, big_a, BIG - k) != 0;
	}
	__asm__ volatile("cli");
	timer_stop();
	printf("dfx: timer cut sum %08x bad %u\n", (unsigned)sum, (unsigned)bad);
}

static void on_pf(struct trapframe *tf)
{
	uint32_t cr2 = read_cr2();

	(void)tf;
	pf_n++;
	if ((cr2 & ~0xfffu) != VA_PF || map_page(VA_PF, (uint32_t)pf_pages[0], PTE_W)) {
		printf("dfx: unexpected #PF at 0x%08x\n", (unsigned)cr2);
		guest_exit(EXIT_FAIL);
	}
}

/* Backward from VA_PF + 0x1800 down into VA_PF + 0x800: the lower page faults first */
static void pf_half_way(void)
{
	uint32_t si = VA_PF + 0x1800, di = (uint32_t)pf_dst + 0xfff, n = 0x1000, sum = 0;

	for (uint32_t i = 0; i < 4096; i++)
		pf_pages[0][i] = (uint8_t)(i ^ 0x5a), pf_pages[1][i] = (uint8_t)(i + 3);
	unmap_page(VA_PF);
	map_page(VA_PF + 0x1000, (uint32_t)pf_pages[1], PTE_W);
	trap_set_handler(14, on_pf);
	__asm__ volatile("std\n\trep movsb\n\tcld"
	                 : "+S"(si), "+D"(di), "+c"(n)
	                 :
	                 : "memory", "cc");
	trap_set_handler(14, NULL);
	for (uint32_t i = 0; i < 4096; i++)
		sum = sum * 3 + pf_dst[i];
	printf("dfx: pf half way faults %u esi %x edi %d ecx %u sum %08x\n", (unsigned)pf_n,
	       (unsigned)si, (int)(di - (uint32_t)pf_dst), (unsigned)n, (unsigned)sum);
	unmap_page(VA_PF);
	unmap_page(VA_PF + 0x1000);
}

/* rep stosl backward over a live table's sixteen PTEs, 12 rounds (adapted from the 8th) */
static void table_stos(void)
{
	uint32_t sum = 0;

	data[0][0] = 0xaaaa, data[1][0] = 0xbbbb;
	for (uint32_t i = 0; i < 16; i++)
		tabs[0][i] = (uint32_t)data[0] | PTE_W | PTE_P;
	rt_page_dir[VA_PT >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	write_cr3(read_cr3());
	for (uint32_t r = 0; r < 12; r++) {
		uint32_t v = (uint32_t)data[r & 1] | PTE_W | PTE_P, di = (uint32_t)&tabs[0][15],
		         n = 16;

		for (uint32_t i = 0; i < 16; i++)
			sum += *(volatile uint32_t *)(VA_PT + i * 4096) & 0xf;
		__asm__ volatile("std\n\trep stosl\n\tcld"
		                 : "+D"(di), "+c"(n)
		                 : "a"(v)
		                 : "memory", "cc");
		for (uint32_t i = 0; i < 16; i++)
			invlpg(VA_PT + i * 4096);
		sum = sum * 7 + (*(volatile uint32_t *)(VA_PT + 15 * 4096) >> 4) +
		      (*(volatile uint32_t *)VA_PT >> 8) + (di - (uint32_t)tabs[0]);
	}
	rt_page_dir[VA_PT >> 22] = 0;
	write_cr3(read_cr3());
	printf("dfx: table stos sum %08x\n", (unsigned)sum);
}

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
};

static uint64_t gdt2[16] __attribute__((aligned(16)));
static struct tss32 tss2 __attribute__((aligned(128)));
static uint8_t stack2[4096] __attribute__((aligned(16)));
volatile uint32_t t_out[4];

/* The second task, entered with DF set from its TSS; back to the first by ljmp. */
extern char task2[];
__asm__(".globl task2\n"
        "task2:\n\t"
        "movl $src+4, %esi\n\t"
        "lodsb\n\t"
        "movl %esi, t_out\n\t"
        "movzbl %al, %eax\n\t"
        "movl %eax, t_out+4\n\t"
        "ljmp $0x28, $0");

static uint64_t sys_desc(uint32_t base, uint32_t limit, uint8_t access)
{
	return (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16) | (uint64_t)access << 40 |
	       (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(base >> 24) << 56;
}

/* Task switches load EFLAGS: to task2 (DF set in its TSS), back (DF set when it left) */
static void task_switch(void)
{
	struct dtr old, d;

	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[8] = sys_desc((uint32_t)&tss2, sizeof(tss2) - 1, 0x89);
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	{
		/* the runtime's TSS (selector 0x28): its CR3 is loaded on the way back */
		uint64_t t = gdt2[5];
		struct tss32 *rt =
		    (struct tss32 *)(uint32_t)((t >> 16 & 0xffffffu) | (t >> 56) << 24);

		rt->cr3 = read_cr3();
	}
	memset(&tss2, 0, sizeof(tss2));
	tss2.cr3 = read_cr3();
	tss2.eip = (uint32_t)task2;
	tss2.eflags = 0x402;
	tss2.esp = (uint32_t)stack2 + sizeof(stack2) - 16;
	tss2.cs = SEL_KCODE;
	tss2.es = tss2.ss = tss2.ds = tss2.fs = tss2.gs = SEL_KDATA;
	tss2.iomap = sizeof(tss2);
	__asm__ volatile("std\n\t"
	                 "ljmp $0x40, $0\n\t"
	                 "movl $src+4, %%esi\n\t"
	                 "lodsb\n\t"
	                 "movl %%esi, t_out+8\n\t"
	                 "cld"
	                 :
	                 :
	                 : "eax", "ecx", "edx", "ebx", "esi", "edi", "cc", "memory");
	printf("dfx: task switch esi %d al %u, back esi %d\n", (int)(t_out[0] - (uint32_t)src),
	       (unsigned)t_out[1], (int)(t_out[2] - (uint32_t)src));
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	enable_paging();
	ring3();
	stepped();
	timer_cut();
	pf_half_way();
	table_stos();
	task_switch();
	printf("dfx: done\n");
	return EXIT_OK;
}
