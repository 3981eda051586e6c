/* dbg.c: single-step (EFLAGS.TF, DR6.BS) over plain, flag, software-interrupt,
 * faulting, iret and mov ss instructions; the interrupt shadow of sti. Each traced
 * sequence is exact machine code below; the #DB handler records every trap's EIP. */
#include "st.h"

#define EFLAGS_TF 0x100u
#define DR6_BS 0x4000u
#define SOFT_VEC 0x2E /* a vector with a gate, no device behind it */

/* Each sequence sets TF with popf (or iret), runs, and clears it with popf. */
__asm__(".text\n"
        ".globl dbg_step_basic, sb1, sb2, sb3, sb4, sb5, sb6, sb7, sb8\n"
        "dbg_step_basic:\n"
        "	pushfl\n"
        "	orl $0x100, (%esp)\n"
        "	popfl\n" /* no trap after the popf that sets TF */
        "	nop\n"
        "sb1:	movl $5, %eax\n"
        "sb2:	pushfl\n" /* pushes TF set */
        "sb3:	popl %ecx\n"
        "sb4:	movl %ecx, dbg_pushed\n"
        "sb5:	andl $0xfffffeff, %ecx\n"
        "sb6:	pushl %ecx\n"
        "sb7:	popfl\n" /* clears TF: still traps after itself */
        "sb8:	ret\n"

        ".globl dbg_step_int, si1, si2, si3, si4, si5, si6, si7, si8\n"
        "dbg_step_int:\n"
        "	pushfl\n"
        "	orl $0x100, (%esp)\n"
        "	popfl\n"
        "	nop\n"
        "si1:	int $0x2E\n" /* the handler is not traced; no trap for the int */
        "si2:	nop\n"
        "si3:	ud2\n" /* a fault: #UD, no trap; the handler skips it */
        "si4:	nop\n"
        "si5:	pushfl\n"
        "si6:	andl $0xfffffeff, (%esp)\n"
        "si7:	popfl\n"
        "si8:	ret\n"

        ".globl dbg_step_iret, ir1, ir2, ir3, ir4, ir5, ir6, ir7, ir8, ir9, ir10, ir11\n"
        "dbg_step_iret:\n"
        "	pushfl\n"
        "	orl $0x100, (%esp)\n"
        "	pushl $0x08\n"
        "	pushl $ir1\n"
        "	iret\n" /* sets TF: no trap after the iret */
        "ir1:	nop\n"
        "ir2:	movw %ss, %ax\n"
        "ir3:	movw %ax, %ss\n" /* no trap: mov ss holds it over the next instruction */
        "ir4:	nop\n"
        "ir5:	pushl %ss\n"
        "ir6:	popl %ss\n" /* the same for pop ss */
        "ir7:	nop\n"
        "ir8:	pushfl\n"
        "ir9:	andl $0xfffffeff, (%esp)\n"
        "ir10:	popfl\n"
        "ir11:	ret\n");

/* sti at the last byte of a page (the block ends there), hlt on the next page. */
__asm__(".text\n"
        ".balign 4096\n"
        ".skip 4095, 0xcc\n"
        ".globl sti_hlt_page_end, sh_after\n"
        "sti_hlt_page_end:\n"
        "	sti\n"
        "	hlt\n"
        "sh_after:\n"
        "	cli\n"
        "	ret\n"
        /* sti as the 32nd instruction of the block that starts at the call */
        ".balign 16\n"
        ".globl sti_hlt_32nd, s32_after\n"
        "sti_hlt_32nd:\n"
        "	.rept 31\n"
        "	nop\n"
        "	.endr\n"
        "	sti\n"
        "	hlt\n"
        "s32_after:\n"
        "	cli\n"
        "	ret\n");

void dbg_step_basic(void), dbg_step_int(void), dbg_step_iret(void);
void sti_hlt_page_end(void), sti_hlt_32nd(void);
extern char sb1[], sb2[], sb3[], sb4[], sb5[], sb6[], sb7[], sb8[];
extern char si1[], si2[], si3[], si4[], si5[], si6[], si7[], si8[];
extern char ir1[], ir2[], ir3[], ir4[], ir5[], ir6[], ir7[], ir8[], ir9[], ir10[], ir11[];
extern char sh_after[], s32_after[];

#define MAX_EV 24
static volatile unsigned nev;
static volatile uint32_t ev_vec[MAX_EV], ev_eip[MAX_EV];
static volatile uint32_t dbg_pushed ASMVAR, dr6_no_bs;

static uint32_t read_dr6(void)
{
	uint32_t v;
	__asm__ volatile("movl %%dr6, %0" : "=r"(v));
	return v;
}

static void write_dr6(uint32_t v)
{
	__asm__ volatile("movl %0, %%dr6" : : "r"(v));
}

static void ev_add(uint32_t vec, uint32_t eip)
{
	unsigned n = nev;

	if (n < MAX_EV) {
		ev_vec[n] = vec;
		ev_eip[n] = eip;
	}
	nev = n + 1;
}

static void on_db(struct trapframe *tf)
{
	if (!(read_dr6() & DR6_BS))
		dr6_no_bs++;
	write_dr6(0);
	ev_add(tf->vector, tf->eip);
	if (nev > MAX_EV) /* a runaway trace: stop it */
		tf->eflags &= ~EFLAGS_TF;
}

static void on_ud(struct trapframe *tf)
{
	ev_add(tf->vector, tf->eip);
	tf->eip += 2;
}

static void on_soft(struct trapframe *tf)
{
	ev_add(tf->vector, tf->eip);
}

struct ev {
	uint32_t vec;
	const char *eip;
};

static void trace(void (*fn)(void), const struct ev *want, unsigned n)
{
	nev = 0;
	dr6_no_bs = 0;
	write_dr6(0);
	trap_set_handler(1, on_db);
	trap_set_handler(6, on_ud);
	trap_set_handler(SOFT_VEC, on_soft);
	fn();
	EXPECT_EQ("events", nev, n);
	for (unsigned i = 0; i < n && i < nev && !st_failed(); i++) {
		if (ev_vec[i] != want[i].vec || ev_eip[i] != (uint32_t)want[i].eip)
			st_fail("event %u: vector %u at 0x%x, want vector %u at 0x%x", i, ev_vec[i],
			        ev_eip[i], want[i].vec, (uint32_t)want[i].eip);
	}
	EXPECT_EQ("traps without DR6.BS", dr6_no_bs, 0);
	EXPECT_EQ("TF left set", read_eflags() & EFLAGS_TF, 0);
}

static void c_step_basic(void)
{
	static const struct ev want[] = {{1, sb1}, {1, sb2}, {1, sb3}, {1, sb4},
	                                 {1, sb5}, {1, sb6}, {1, sb7}, {1, sb8}};

	trace(dbg_step_basic, want, 8);
	EXPECT_EQ("TF in the pushf image", dbg_pushed & EFLAGS_TF, EFLAGS_TF);
}

static void c_step_int_fault(void)
{
	static const struct ev want[] = {{1, si1},        {SOFT_VEC, si2}, {1, si3}, {6, si3},
	                                 {1, si5},        {1, si6},        {1, si7}, {1, si8}};

	trace(dbg_step_int, want, 8);
}

static void c_step_iret_movss(void)
{
	static const struct ev want[] = {{1, ir2}, {1, ir3}, {1, ir5}, {1, ir6},
	                                 {1, ir8}, {1, ir9}, {1, ir10}, {1, ir11}};

	trace(dbg_step_iret, want, 8);
}

static volatile uint32_t sh_ticks, sh_eip;

static void sh_tick(struct trapframe *tf)
{
	if (sh_ticks++ == 0)
		sh_eip = tf->eip;
	pic_eoi(0);
}

/* IRQ0 pending with IF=0, then sti; hlt: one interrupt, taken after the hlt. */
static void sti_hlt(const char *what, void (*fn)(void), const char *after)
{
	sh_ticks = 0;
	sh_eip = 0;
	trap_set_handler(IRQ_BASE + 0, sh_tick);
	pit_start_1khz();
	pic_unmask(0);
	if (pit_wait_ms(3) < 0) {
		st_fail("%s: the PIT does not run", what);
		return;
	}
	fn();
	pic_mask(0);
	if (sh_ticks != 1 || sh_eip != (uint32_t)after)
		st_fail("%s: %u interrupts, the first at 0x%x; want 1 at 0x%x", what, sh_ticks, sh_eip,
		        (uint32_t)after);
}

static void c_sti_shadow(void)
{
	sti_hlt("sti at a page end", sti_hlt_page_end, sh_after);
	sti_hlt("sti 32nd in its block", sti_hlt_32nd, s32_after);
}

CHECK_LIST(dbg) = {
    {"dbg.single_step_trace", c_step_basic},
    {"dbg.single_step_int_and_fault", c_step_int_fault},
    {"dbg.single_step_iret_mov_ss", c_step_iret_movss},
    {"dbg.sti_shadow_hlt_at_block_end", c_sti_shadow},
    CHECK_END,
};
