/*
 * qsx.c: attack guest for bt's inline push sreg (src/bt/bt_xlat_ops.c x_push) and the
 * null-ES lax rule (bt_cache.c tc_seg_key). push of every segment register with 32- and
 * 16-bit operand size over a filled slot, right after a segment load in the same block,
 * in a one-block loop under a 1 kHz PIT (kicks between pushes), on an unmapped page
 * (#PF: ESP and the slot unchanged), at ESP = 2 (the store wraps to the top of memory),
 * on a 16-bit stack segment (only SP moves); then a block that never touches ES chained
 * to a stosb block while ES toggles null <-> flat (#GP(0) exactly when null), rep stosl
 * and insb through a null ES, and timer interrupts entered with ES null. Each line is
 * what qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_HOLE 0x7ffff000u /* never mapped */
#define VA_TOP 0xfffff000u

static uint8_t pg_top[4096] __attribute__((aligned(4096)));
static uint8_t pg_zero[4096] __attribute__((aligned(4096)));
static uint64_t gdt2[16] __attribute__((aligned(16)));
static volatile uint32_t f_vec, f_err, f_cr2, f_n, recover_eip;
static volatile uint32_t saved_esp, slot[4];
static volatile uint8_t buf[64];
static volatile uint32_t out[8];
static uint8_t user_stack[8192] __attribute__((aligned(16)));

static void on_fault(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_err = tf->err;
	f_cr2 = tf->vector == 14 ? read_cr2() : 0;
	f_n++;
	if (!recover_eip) {
		printf("qsx: unexpected trap %u at 0x%08x\n", (unsigned)tf->vector,
		       (unsigned)tf->eip);
		guest_exit(EXIT_FAIL);
	}
	tf->es = (tf->cs & 3) ? SEL_UDATA : SEL_KDATA;
	tf->eip = recover_eip;
	recover_eip = 0;
}

/* push sreg at ESP = &slot[2] with the slots filled; prints the slots and the ESP delta */
#define PUSH_AT(name, insn)                                                                        \
	do {                                                                                       \
		uint32_t d;                                                                        \
		slot[0] = slot[1] = slot[2] = 0xdeadbeef;                                          \
		__asm__ volatile("movl %%esp, saved_esp\n\t"                                       \
		                 "movl %1, %%esp\n\t" insn "\n\t"                                  \
		                 "movl %%esp, %0\n\t"                                              \
		                 "movl saved_esp, %%esp"                                           \
		                 : "=r"(d)                                                         \
		                 : "r"((uint32_t)&slot[2])                                         \
		                 : "memory");                                                      \
		printf("qsx: %-10s %08x %08x delta=%d\n", name, (unsigned)slot[0],                 \
		       (unsigned)slot[1], (int)(d - (uint32_t)&slot[2]));                          \
	} while (0)

static void push_sizes(void)
{
	PUSH_AT("es", "pushl %%es");
	PUSH_AT("cs", "pushl %%cs");
	PUSH_AT("ss", "pushl %%ss");
	PUSH_AT("ds", "pushl %%ds");
	PUSH_AT("fs", "pushl %%fs");
	PUSH_AT("gs", "pushl %%gs");
	PUSH_AT("es16", "pushw %%es");
	PUSH_AT("cs16", "pushw %%cs");
	PUSH_AT("ss16", "pushw %%ss");
	PUSH_AT("ds16", "pushw %%ds");
	PUSH_AT("fs16", "pushw %%fs");
	PUSH_AT("gs16", "pushw %%gs");
	/* a segment load, then its push, in one block */
	PUSH_AT("ld-fs", "pushl %%eax\n\tmovl $0, %%eax\n\tmovw %%ax, %%fs\n\tpopl %%eax\n\t"
	                 "pushl %%fs\n\tpushl %%fs");
	PUSH_AT("ld-gs16", "movw %%ss, %%ax\n\tmovw %%ax, %%gs\n\tpushw %%gs\n\tpushw %%gs");
	__asm__ volatile("movw %w0, %%fs\n\tmovw %w0, %%gs" ::"r"(SEL_KDATA));
}

/* n rounds of a one-block loop: push es/ds/fs/gs, pop them into registers, sum */
static uint32_t push_loop(uint32_t n)
{
	uint32_t a = 0;

	__asm__ volatile("1:\tpushl %%ds\n\t"
	                 "pushw %%es\n\t"
	                 "pushl %%fs\n\t"
	                 "popl %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "popw %%dx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "popl %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 1b"
	                 : "+a"(a), "+c"(n)
	                 :
	                 : "edx", "memory", "cc");
	return a;
}

/* push ds at ESP = sp (recovered by on_fault); returns ESP after */
static uint32_t push_fault(uint32_t sp)
{
	uint32_t d = 0;

	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movl $2f, recover_eip\n\t"
	                 "movl %1, %%esp\n\t"
	                 "pushl %%ds\n"
	                 "2:\tmovl %%esp, %0\n\t"
	                 "movl saved_esp, %%esp\n\t"
	                 "movl $0, recover_eip"
	                 : "=r"(d)
	                 : "r"(sp)
	                 : "memory");
	return d;
}

static void push_stack16(void)
{
	struct dtr old, d;
	uint32_t esp_after;
	volatile uint32_t *w = (volatile uint32_t *)0x7ff8;

	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[8] = 0xffffull | (uint64_t)0x92 << 40 | (uint64_t)0xf << 48 | (uint64_t)0x8 << 52;
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	w[0] = w[1] = 0xdeadbeef;
	/* SS.B = 0, ESP = 0x8000: the pushes go to 0x7ffc and 0x7ffa (bt keeps no SS.B: with
	 * ESP above 64 KiB it would use all of ESP, so ESP's upper half is 0 here) */
	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movw %w1, %%ss\n\t"
	                 "movl $0x8000, %%esp\n\t"
	                 "pushl %%ds\n\t"
	                 "pushw %%cs\n\t"
	                 "movl %%esp, %0\n\t"
	                 "movw %w2, %%ss\n\t"
	                 "movl saved_esp, %%esp"
	                 : "=r"(esp_after)
	                 : "r"(0x40), "r"(SEL_KDATA)
	                 : "memory");
	__asm__ volatile("lgdt %0" ::"m"(old));
	printf("qsx: ss16 esp=%08x 7ff8=%08x 7ffc=%08x\n", (unsigned)esp_after, (unsigned)w[0],
	       (unsigned)w[1]);
}

static int on_qemu(void)
{
	uint32_t r[4];

	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(0x80000000u));
	if (r[0] < 0x80000002u)
		return 0;
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(0x80000002u));
	return !memcmp(r, "QEMU", 4);
}

/* want #GP(0)s, or none on QEMU (its TCG does not check null selectors) */
static void expect_gp(const char *what, uint32_t want)
{
	if (f_n == want && (!want || (f_vec == 13 && f_err == 0)))
		printf("qsx: %s: %u #GP(0) ok\n", what, (unsigned)want);
	else if (f_n == 0 && on_qemu())
		printf("qsx: %s: %u #GP(0) ok\n", what, (unsigned)want);
	else
		printf("qsx: %s: WRONG faults=%u vec=%u err=%u\n", what, (unsigned)f_n,
		       (unsigned)f_vec, (unsigned)f_err);
	f_n = 0;
}

/* reads buf (no ES): the block chained to touch_es */
static __attribute__((noinline)) uint32_t no_es(uint32_t i)
{
	return buf[i & 31] + i;
}

/*
 * n rounds, ES null when (i ^ null_first) is odd, flat otherwise: no_es (chained) then
 * insn with ESI/EDI at buf, ECX = 2; a fault skips the rest. Returns the #GP count.
 */
#define ES_TOGGLE(fn, insn)                                                                        \
	static uint32_t fn(uint32_t n, uint32_t null_first)                                        \
	{                                                                                          \
		uint32_t i, s = 0, g0 = f_n;                                                       \
		for (i = 0; i < n; i++) {                                                          \
			__asm__ volatile(                                                          \
			    "movw %w0, %%es" ::"r"(((i ^ null_first) & 1) ? 0 : SEL_KDATA));       \
			s += no_es(i);                                                             \
			__asm__ volatile("movl $1f, recover_eip\n\t"                               \
			                 "leal buf+32, %%edi\n\t"                                  \
			                 "leal buf, %%esi\n\t"                                     \
			                 "movl $2, %%ecx\n\t" insn "\n"                            \
			                 "1:\tmovl $0, recover_eip"                                \
			                 :                                                         \
			                 : "a"(i)                                                  \
			                 : "ecx", "esi", "edi", "memory", "cc");                   \
			__asm__ volatile("movw %w0, %%es" ::"r"(SEL_KDATA));                       \
		}                                                                                  \
		(void)s;                                                                           \
		return f_n - g0;                                                                   \
	}

ES_TOGGLE(es_toggle, "stosb")
ES_TOGGLE(es_toggle_movs, "rep movsb")
ES_TOGGLE(es_toggle_scas, "scasb")
ES_TOGGLE(es_toggle_cmps, "repe cmpsb")
ES_TOGGLE(es_toggle_stosl, "rep stosl")

/* ring 3 (the fault handler then runs on the TSS stack): push ds on an unmapped page,
 * then at ESP = 2 (the store wraps to the top page) */
static int user_fn(void)
{
	out[0] = push_fault(VA_HOLE + 0x2);
	out[1] = f_n, out[2] = f_vec, out[3] = f_err, out[4] = f_cr2;
	pg_top[0xffe] = pg_top[0xfff] = pg_zero[0] = pg_zero[1] = 0xee;
	out[5] = push_fault(2);
	return 0;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t a, e, t0, ticks;

	(void)magic;
	(void)mbi;
	enable_paging();
	memset(pg_top, 0, sizeof(pg_top));
	memset(pg_zero, 0, sizeof(pg_zero));
	map_page(VA_TOP, (uint32_t)pg_top, PTE_W | PTE_U);
	map_page(0, (uint32_t)pg_zero, PTE_W | PTE_U);
	trap_set_handler(14, on_fault);
	trap_set_handler(13, on_fault);
	push_sizes();
	timer_start(1000);
	sti();
	a = push_loop(3000000);
	printf("qsx: loop eax=0x%08x\n", (unsigned)a);
	enter_user(user_fn, user_stack + sizeof(user_stack), 1);
	sti(); /* enter_user returns with IF = 0 */
	printf("qsx: hole esp=%08x faults=%u vec=%u err=%u cr2=%08x\n", (unsigned)out[0],
	       (unsigned)out[1], (unsigned)out[2], (unsigned)out[3], (unsigned)out[4]);
	printf("qsx: wrap esp=%08x faults=%u top=%08x page0=%08x\n", (unsigned)out[5],
	       (unsigned)f_n, (unsigned)*(volatile uint32_t *)(pg_top + 0xffc),
	       (unsigned)*(volatile uint32_t *)pg_zero);
	push_stack16();
	f_n = 0;
	es_toggle(200000, 0);
	expect_gp("toggle es flat first, stosb", 100000);
	es_toggle(20001, 1);
	expect_gp("toggle es null first, stosb", 10001);
	es_toggle_movs(20001, 1);
	expect_gp("toggle es null first, rep movsb", 10001);
	es_toggle_scas(20001, 1);
	expect_gp("toggle es null first, scasb", 10001);
	es_toggle_cmps(20000, 0);
	expect_gp("toggle es flat first, repe cmpsb", 10000);
	es_toggle_stosl(20001, 1);
	expect_gp("toggle es null first, rep stosl", 10001);
	/* rep stosl and insb through a null ES: #GP(0), nothing written */
	memset((void *)buf, 0x11, sizeof(buf));
	__asm__ volatile("movw %w0, %%es\n\t"
	                 "movl $1f, recover_eip\n\t"
	                 "rep stosl\n"
	                 "1:" ::"r"(0),
	                 "D"(&buf[0]), "c"(4), "a"(0)
	                 : "memory");
	expect_gp("rep stosl, es null", 1);
	__asm__ volatile("movw %w0, %%es\n\t"
	                 "movl $1f, recover_eip\n\t"
	                 "insb\n"
	                 "1:" ::"r"(0),
	                 "D"(&buf[16]), "d"(0x3fd)
	                 : "memory");
	expect_gp("insb, es null", 1);
	/* interrupts entered with ES null */
	t0 = timer_ticks;
	__asm__ volatile("movw %w0, %%es" ::"r"(0));
	for (a = 0; a < 20000000 && timer_ticks - t0 < 5; a++)
		__asm__ volatile("" ::: "memory");
	__asm__ volatile("movl %%es, %0" : "=r"(e));
	__asm__ volatile("movw %w0, %%es" ::"r"(SEL_KDATA));
	ticks = timer_ticks - t0 >= 5;
	printf("qsx: irq es=%04x ticked=%u\n", (unsigned)e, (unsigned)ticks);
	cli();
	timer_stop();
	printf("qsx: done\n");
	return EXIT_OK;
}
