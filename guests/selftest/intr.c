/* intr.c: IF and EFLAGS in ring 0 (cli/sti/pushf/popf/iret) and timer interrupts
 * through the PIC: blocked by IF=0, by the IMR, by a missing EOI; taken in ring 3;
 * waking hlt. Time is measured with PIT channel 0 (1 kHz) count readbacks. */
#include "st.h"

#define PIT_DIV 1193         /* 1193182 Hz / 1193 = 1000.15 Hz */
#define PIT_SAMPLES 5000000u /* bound on readbacks per wait: a stalled PIT cannot hang us */
/*
 * A wait for ticks that must come gives them up to WAIT_MS PIT periods and returns as
 * soon as they are there: the checks assert that interrupts arrive, not how fast (a
 * host under load delays QEMU's timer thread by tens of milliseconds).
 */
#define WAIT_MS 1000u
#define PIT_STALL 10000u /* readbacks without any change: the PIT is not running */

uint16_t pit_read(void)
{
	outb(0x43, 0x00); /* latch channel 0 */
	uint8_t lo = inb(0x40);
	uint8_t hi = inb(0x40);
	return (uint16_t)(lo | hi << 8);
}

void pit_start_1khz(void)
{
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2, binary */
	outb(0x40, PIT_DIV & 0xFF);
	outb(0x40, PIT_DIV >> 8);
}

static volatile uint32_t ticks, bad_if, bad_frame, ring3_ticks, no_eoi;

/* Spins until *until >= target (if until) or ms PIT periods passed. Returns the
 * periods seen, or -1 if the PIT count never wrapped. */
static int pit_spin(unsigned ms, volatile uint32_t *until, uint32_t target)
{
	uint16_t prev = pit_read();
	unsigned wraps = 0, changed = 0;

	for (uint32_t i = 0; i < PIT_SAMPLES; i++) {
		if (until && *until >= target)
			return (int)wraps;
		uint16_t c = pit_read();
		if (c != prev)
			changed = 1;
		else if (!changed && i >= PIT_STALL)
			return -1;
		if (c > prev && ++wraps >= ms)
			return (int)wraps;
		prev = c;
	}
	return changed && wraps ? (int)wraps : -1;
}

int pit_wait_ms(unsigned ms)
{
	return pit_spin(ms, NULL, 0) < 0 ? -1 : 0;
}

static void tick(struct trapframe *tf)
{
	ticks++;
	if (!(tf->eflags & EFLAGS_IF) || (read_eflags() & EFLAGS_IF))
		bad_if++;
	if ((tf->cs & 3) == 3) {
		ring3_ticks++;
		if ((uint32_t)tf != st_tss_esp0() - TF_SIZE || tf->ss != SEL_UDATA)
			bad_frame++;
	} else if (tf->cs != SEL_KCODE) {
		bad_frame++;
	}
	if (!no_eoi)
		pic_eoi(0);
}

static uint8_t pic_irr(void)
{
	outb(0x20, 0x0A);
	return inb(0x20);
}

static uint8_t pic_isr(void)
{
	outb(0x20, 0x0B);
	uint8_t v = inb(0x20);
	outb(0x20, 0x0A);
	return v;
}

static void timer_setup(int unmask)
{
	ticks = bad_if = bad_frame = ring3_ticks = no_eoi = 0;
	trap_set_handler(IRQ_BASE + 0, tick);
	pit_start_1khz();
	if (unmask)
		pic_unmask(0);
}

static void expect_clean_ticks(void)
{
	EXPECT_EQ("ticks with IF wrong (saved or in the handler)", bad_if, 0);
	EXPECT_EQ("ticks with a wrong frame", bad_frame, 0);
}

static void c_cli_sti(void)
{
	cli();
	EXPECT_EQ("IF after cli", read_eflags() & EFLAGS_IF, 0);
	sti();
	EXPECT_EQ("IF after sti", read_eflags() & EFLAGS_IF, EFLAGS_IF);
	cli();
	EXPECT_EQ("IF after cli again", read_eflags() & EFLAGS_IF, 0);
}

static void c_popf(void)
{
	uint32_t base = read_eflags() & ~(EFLAGS_ARITH | EFLAGS_DF | EFLAGS_IF);
	uint32_t sets[] = {base | EFLAGS_IF, base, base | EFLAGS_ARITH | EFLAGS_DF,
	                   base | EFLAGS_IF | EFLAGS_CF | EFLAGS_ZF, base};
	uint32_t mask = EFLAGS_ARITH | EFLAGS_DF | EFLAGS_IF;

	for (unsigned i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		uint32_t got;
		__asm__ volatile("pushl %1\n\tpopfl\n\tpushfl\n\tpopl %0\n\tcld\n\tcli"
		                 : "=r"(got)
		                 : "r"(sets[i])
		                 : "cc", "memory");
		EXPECT_EQ("eflags after popf", got & mask, sets[i] & mask);
	}
}

static void c_iret_ring0(void)
{
	uint32_t base = read_eflags() & ~(EFLAGS_ARITH | EFLAGS_DF | EFLAGS_IF);
	uint32_t sets[] = {base | EFLAGS_CF | EFLAGS_ZF, base | EFLAGS_SF | EFLAGS_OF | EFLAGS_DF,
	                   base | EFLAGS_IF | EFLAGS_PF, base};
	uint32_t mask = EFLAGS_ARITH | EFLAGS_DF | EFLAGS_IF;

	for (unsigned i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		uint32_t got, cs;
		__asm__ volatile("pushl %2\n\tpushl %%cs\n\tpushl $1f\n\tiret\n"
		                 "1:\tpushfl\n\tpopl %0\n\tcld\n\tcli\n\tmovl %%cs, %1"
		                 : "=r"(got), "=r"(cs)
		                 : "r"(sets[i])
		                 : "cc", "memory");
		EXPECT_EQ("eflags after iret", got & mask, sets[i] & mask);
		EXPECT_EQ("cs after iret", cs & 0xFFFF, SEL_KCODE);
	}
}

static void c_timer_if0(void)
{
	timer_setup(1);
	if (pit_wait_ms(20) < 0) {
		st_fail("PIT channel 0 count does not run");
		return;
	}
	EXPECT_EQ("ticks delivered with IF=0", ticks, 0);
	EXPECT_EQ("IRQ0 pending in the IRR", pic_irr() & 1, 1);
	sti();
	pit_spin(WAIT_MS, &ticks, 1);
	cli();
	EXPECT(ticks >= 1, "the pending tick was not delivered after sti");
	expect_clean_ticks();
}

static void c_timer_sti(void)
{
	timer_setup(1);
	sti();
	int ms = pit_spin(2 * WAIT_MS, &ticks, 10);
	cli();
	EXPECT(ms >= 0, "PIT channel 0 count does not run");
	EXPECT(ticks >= 10, "%u ticks in %d ms with IF=1, want 10", ticks, ms);
	expect_clean_ticks();
}

static void c_timer_imr(void)
{
	timer_setup(0); /* IRQ0 masked in the IMR */
	sti();
	int ms = pit_wait_ms(20);
	uint32_t masked = ticks;
	EXPECT(ms >= 0, "PIT channel 0 count does not run");
	EXPECT_EQ("ticks delivered while masked in the IMR", masked, 0);
	cli();
	EXPECT_EQ("IRQ0 pending in the IRR", pic_irr() & 1, 1);
	sti();
	pic_unmask(0);
	pit_spin(WAIT_MS, &ticks, 2);
	cli();
	EXPECT(ticks >= 2, "%u ticks after unmasking, want 2", ticks);
	expect_clean_ticks();
}

static void c_timer_eoi(void)
{
	timer_setup(1);
	no_eoi = 1;
	sti();
	pit_spin(WAIT_MS, &ticks, 1);
	EXPECT_EQ("first tick", ticks, 1);
	pit_wait_ms(20);
	cli();
	EXPECT_EQ("ticks without an EOI (IRQ0 in service)", ticks, 1);
	EXPECT_EQ("IRQ0 in the ISR", pic_isr() & 1, 1);
	sti();
	pic_eoi(0);
	pit_spin(WAIT_MS, &ticks, 2);
	cli();
	EXPECT_EQ("ticks after the EOI", ticks, 2);
	expect_clean_ticks();
}

static int u_timer(void)
{
	pit_spin(WAIT_MS, &ticks, 5); /* IOPL 3: ring 3 may read the PIT */
	return 0;
}

static void c_timer_ring3(void)
{
	timer_setup(1);
	st_enter_user(u_timer, EFLAGS_IF | EFLAGS_IOPL3);
	EXPECT(ticks >= 5, "%u ticks in ring 3, want 5", ticks);
	EXPECT_EQ("ticks taken in ring 3", ring3_ticks, ticks);
	expect_clean_ticks();
}

static void c_hlt(void)
{
	timer_setup(1);
	sti();
	pit_spin(WAIT_MS, &ticks, 1);
	if (ticks < 1) {
		cli();
		st_fail("no tick before hlt; not halting");
		return;
	}
	for (int i = 0; i < 3; i++) {
		uint32_t t = ticks;
		hlt();
		EXPECT(ticks > t, "hlt returned without an interrupt");
	}
	cli();
	expect_clean_ticks();
}

CHECK_LIST(intr) = {
    {"intr.cli_sti_pushf", c_cli_sti},
    {"intr.popf_ring0", c_popf},
    {"intr.iret_ring0_eflags", c_iret_ring0},
    {"intr.timer_blocked_by_if0", c_timer_if0},
    {"intr.timer_delivered_with_if1", c_timer_sti},
    {"intr.timer_blocked_by_imr", c_timer_imr},
    {"intr.timer_eoi_required", c_timer_eoi},
    {"intr.timer_in_ring3", c_timer_ring3},
    {"intr.hlt_wakes_on_timer", c_hlt},
    CHECK_END,
};
