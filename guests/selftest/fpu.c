/* fpu.c: the x87 FPU: results and status word, memory formats, fnsave/frstor,
 * fnstenv/fldenv, a store that page-faults, #NM from CR0.EM/TS, a deferred #MF,
 * and #UD for what the CPU's feature bits do not advertise. (The guest is built
 * -mgeneral-regs-only: the FPU is reached from inline asm only.) */
#include "st.h"

#define CR0_MP 0x2u
#define CR0_EM 0x4u
#define CR0_TS 0x8u
#define CR0_NE 0x20u
#define FSW_TOP(sw) (((sw) >> 11) & 7)
#define FSW_C0 0x100u
#define FSW_C2 0x400u
#define FSW_C3 0x4000u
#define FPU_PAGE 40 /* test page left not present */

static inline uint16_t fnstsw(void)
{
	uint16_t sw;
	__asm__ volatile("fnstsw %%ax" : "=a"(sw));
	return sw;
}

static inline uint16_t fnstcw(void)
{
	uint16_t cw;
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	return cw;
}

/* 7/2 in the FPU, stored as an integer under each rounding mode; the compare's flags. */
static void c_arith(void)
{
	static volatile int32_t seven = 7, two = 2;
	int32_t r[4], sq;
	uint16_t sw, cw, rc;

	__asm__ volatile("fninit");
	EXPECT_EQ("fnstcw after fninit", fnstcw(), 0x37F);
	EXPECT_EQ("fnstsw after fninit", fnstsw(), 0);
	for (rc = 0; rc < 4; rc++) {
		cw = (uint16_t)(0x37F | rc << 10);
		__asm__ volatile("fldcw %1\n\tfildl %2\n\tfildl %3\n\tfdivrp\n\tfistpl %0"
		                 : "=m"(r[rc])
		                 : "m"(cw), "m"(seven), "m"(two)
		                 : "memory");
	}
	EXPECT_EQ("7/2 rounded to nearest", r[0], 4);
	EXPECT_EQ("7/2 rounded down", r[1], 3);
	EXPECT_EQ("7/2 rounded up", r[2], 4);
	EXPECT_EQ("7/2 truncated", r[3], 3);
	cw = 0x37F;
	__asm__ volatile("fldcw %2\n\tfildl %1\n\tfmul %%st(0), %%st(0)\n\tfsqrt\n\tfistpl %0"
	                 : "=m"(sq)
	                 : "m"(seven), "m"(cw)
	                 : "memory");
	EXPECT_EQ("sqrt(7*7)", sq, 7);
	/* 2 < 7: C0 set; equal: C3 set */
	__asm__ volatile("fildl %1\n\tfildl %2\n\tfcompp\n\tfnstsw %%ax"
	                 : "=a"(sw)
	                 : "m"(seven), "m"(two)
	                 : "memory");
	EXPECT_EQ("fcompp 2 vs 7: C3 C2 C0", sw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C0);
	__asm__ volatile("fildl %1\n\tfildl %1\n\tfcompp\n\tfnstsw %%ax"
	                 : "=a"(sw)
	                 : "m"(seven)
	                 : "memory");
	EXPECT_EQ("fcompp 7 vs 7: C3 C2 C0", sw & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C3);
	EXPECT_EQ("stack empty again: TOP", FSW_TOP(sw), 0);
	__asm__ volatile("fld1\n\tfldz\n\tfnstsw %%ax\n\tfcompp" : "=a"(sw));
	EXPECT_EQ("two loads: TOP", FSW_TOP(sw), 6);
}

/* P6 additions: fcomi sets EFLAGS, fcmov moves on them; fxch, fincstp/fdecstp. */
static void c_p6(void)
{
	static volatile int32_t one = 1, five = 5;
	uint32_t efl;
	int32_t a, b;
	uint16_t sw;

	__asm__ volatile(
	    "fninit\n\tfildl %1\n\tfildl %2\n\tfcomi %%st(1), %%st\n\tpushfl\n\tpopl %0\n\t"
	    "fstp %%st(0)\n\tfstp %%st(0)"
	    : "=r"(efl)
	    : "m"(five), "m"(one)
	    : "memory", "cc");
	EXPECT_EQ("fcomi 1 vs 5: ZF PF CF", efl & (EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF), EFLAGS_CF);
	__asm__ volatile("fildl %2\n\tfildl %3\n\tstc\n\tfcmovb %%st(1), %%st\n\tfistpl %0\n\t"
	                 "fistpl %1"
	                 : "=m"(a), "=m"(b)
	                 : "m"(five), "m"(one)
	                 : "memory", "cc");
	EXPECT_EQ("fcmovb with CF: st0", a, 5);
	EXPECT_EQ("fcmovb with CF: st1", b, 5);
	__asm__ volatile("fildl %2\n\tfildl %3\n\tfxch\n\tfistpl %0\n\tfistpl %1"
	                 : "=m"(a), "=m"(b)
	                 : "m"(five), "m"(one)
	                 : "memory");
	EXPECT_EQ("fxch: st0", a, 5);
	EXPECT_EQ("fxch: st1", b, 1);
	__asm__ volatile("fincstp\n\tfnstsw %%ax\n\tfdecstp" : "=a"(sw));
	EXPECT_EQ("fincstp: TOP", FSW_TOP(sw), 1);
	EXPECT_EQ("fdecstp: TOP", FSW_TOP(fnstsw()), 0);
}

/* Every memory format: single, double, extended, int16/32/64, packed BCD. */
static void c_formats(void)
{
	static volatile int32_t three = 3, two = 2;
	uint32_t f32;
	uint32_t f64[2], f80[3] = {0, 0, 0}, bcd[3] = {0, 0, 0};
	int16_t i16;
	int32_t back;
	uint32_t i64[2];

	__asm__ volatile("fninit\n\tfildl %1\n\tfildl %2\n\tfdivrp\n\tfsts %0" /* 1.5 */
	                 : "=m"(f32)
	                 : "m"(three), "m"(two)
	                 : "memory");
	__asm__ volatile("fstl %0\n\tfld %%st(0)\n\tfstpt %1" : "=m"(f64), "=m"(f80) : : "memory");
	EXPECT_EQ("1.5 as m32", f32, 0x3FC00000);
	EXPECT_EQ("1.5 as m64 high", f64[1], 0x3FF80000);
	EXPECT_EQ("1.5 as m64 low", f64[0], 0);
	EXPECT_EQ("1.5 as m80 mantissa high", f80[1], 0xC0000000);
	EXPECT_EQ("1.5 as m80 exponent", f80[2] & 0xFFFF, 0x3FFF);
	__asm__ volatile("fstp %%st(0)\n\tfldt %1\n\tfadd %%st(0), %%st(0)\n\tfistps %0" /* 3 */
	                 : "=m"(i16)
	                 : "m"(f80)
	                 : "memory");
	EXPECT_EQ("m80 reloaded, doubled, as m16", i16, 3);
	__asm__ volatile("fldl %1\n\tflds %2\n\tfaddp\n\tfistpll %0" /* 1.5 + 1.5 */
	                 : "=m"(i64)
	                 : "m"(f64), "m"(f32)
	                 : "memory");
	EXPECT_EQ("m64 + m32 as m64 int low", i64[0], 3);
	EXPECT_EQ("m64 + m32 as m64 int high", i64[1], 0);
	__asm__ volatile("fildl %1\n\tfbstp %0" : "=m"(bcd) : "m"(three) : "memory");
	EXPECT_EQ("fbstp 3", bcd[0], 3);
	bcd[0] = 0x12345678;
	__asm__ volatile("fbld %1\n\tfistpl %0" : "=m"(back) : "m"(bcd) : "memory");
	EXPECT_EQ("fbld 12345678", back, 12345678);
	EXPECT_EQ("stack empty: TOP", FSW_TOP(fnstsw()), 0);
}

/* fnsave stores the 108-byte image and reinitializes; frstor brings it all back. */
static void c_save(void)
{
	static volatile int32_t v1 = 11, v2 = 22;
	uint32_t img[27], after[7];
	int32_t a = 0, b = 0;
	uint16_t cw = 0x27F;

	__asm__ volatile("fninit\n\tfldcw %2\n\tfildl %0\n\tfildl %1"
	                 :
	                 : "m"(v1), "m"(v2), "m"(cw));
	__asm__ volatile("fnsave %0" : "=m"(img) : : "memory");
	EXPECT_EQ("image control word", img[0] & 0xFFFF, 0x27F);
	EXPECT_EQ("image TOP", FSW_TOP(img[1]), 6);
	EXPECT_EQ("image tag word", img[2] & 0xFFFF, 0x0FFF);
	EXPECT_EQ("image st0 mantissa high (22)", img[8], 0xB0000000);
	EXPECT_EQ("image st0 exponent (22)", img[9] & 0xFFFF, 0x4003);
	__asm__ volatile("fnstenv %0" : "=m"(after) : : "memory");
	EXPECT_EQ("after fnsave: control word", after[0] & 0xFFFF, 0x37F);
	EXPECT_EQ("after fnsave: tag word", after[2] & 0xFFFF, 0xFFFF);
	__asm__ volatile("frstor %2\n\tfistpl %0\n\tfistpl %1"
	                 : "=m"(a), "=m"(b)
	                 : "m"(img)
	                 : "memory");
	EXPECT_EQ("frstor: st0", a, 22);
	EXPECT_EQ("frstor: st1", b, 11);
	EXPECT_EQ("frstor: control word", fnstcw(), 0x27F);
	__asm__ volatile("fninit");
}

/* fnstenv stores the 28-byte environment and masks every exception; fldenv loads one. */
static void c_env(void)
{
	uint32_t env[7], env2[7];
	uint16_t cw = 0x0360; /* all exceptions unmasked, double precision */

	__asm__ volatile("fninit\n\tfldcw %1\n\tfld1\n\tfnstenv %0"
	                 : "=m"(env)
	                 : "m"(cw)
	                 : "memory");
	EXPECT_EQ("env control word", env[0] & 0xFFFF, 0x360);
	EXPECT_EQ("env TOP", FSW_TOP(env[1]), 7);
	EXPECT_EQ("env tag word", env[2] & 0xFFFF, 0x3FFF);
	/* QEMU 7.2's fnstenv leaves the masks as they were (the SDM: it masks them all) */
	EXPECT_EQ("control word after fnstenv: masked", fnstcw(), st_on_qemu ? 0x360 : 0x37F);
	env[0] = (env[0] & ~0xFFFFu) | 0x0B7F; /* round down */
	__asm__ volatile("fldenv %1\n\tfnstenv %0" : "=m"(env2) : "m"(env) : "memory");
	EXPECT_EQ("fldenv control word", env2[0] & 0xFFFF, 0x0B7F);
	EXPECT_EQ("fldenv TOP", FSW_TOP(env2[1]), 7);
	/* With an operand-size prefix: the 14-byte 16-bit layout (CW, SW, TW, ...) */
	memset(env2, 0xAA, sizeof(env2));
	__asm__ volatile("data16 fnstenv %0" : "=m"(env2) : : "memory");
	EXPECT_EQ("16-bit env control word", env2[0] & 0xFFFF, 0x0B7F);
	EXPECT_EQ("16-bit env tag word", env2[1] & 0xFFFF, 0x3FFF);
	EXPECT_EQ("16-bit env: bytes 14-17 untouched", env2[3] >> 16, 0xAAAA);
	EXPECT_EQ("16-bit env: bytes 16-19 untouched", env2[4], 0xAAAAAAAA);
	__asm__ volatile("fninit");
}

/* An x87 store or load through a not-present page: precise #PF, nothing written or popped. */
static void c_pf(void)
{
	static volatile int32_t nine = 9;
	uint32_t va = test_va(FPU_PAGE) + 0x10;
	uint32_t *frame = (uint32_t *)SCRATCH_FRAME(FPU_PAGE);
	int32_t back = 0;
	uint16_t sw;

	frame[4] = 0x5A5A5A5A;
	set_pte(FPU_PAGE, SCRATCH_FRAME(FPU_PAGE), 0);
	__asm__ volatile("fninit\n\tfildl %0" : : "m"(nine));
	__asm__ volatile(ST_ARM "fstps (%0)" ST_RESUME : : "r"(va) : "memory");
	expect_fault("fstps to a not-present page", 14, 0x2, st_at);
	EXPECT_EQ("cr2", st_faults[0].cr2, va);
	sw = fnstsw();
	EXPECT_EQ("TOP after the faulting fstp (not popped)", FSW_TOP(sw), 7);
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "fldl (%0)" ST_RESUME : : "r"(va + 0xFFC) : "memory");
	expect_fault("fldl from a not-present page", 14, 0x0, st_at);
	EXPECT_EQ("cr2 of the load", st_faults[0].cr2, va + 0xFFC);
	set_pte(FPU_PAGE, SCRATCH_FRAME(FPU_PAGE), PTE_P | PTE_W);
	EXPECT_EQ("nothing written", *(volatile uint32_t *)va, 0x5A5A5A5A);
	__asm__ volatile("fistpl %0" : "=m"(back) : : "memory");
	EXPECT_EQ("value still on the stack", back, 9);
	__asm__ volatile("fldz\n\tfstps (%0)" : : "r"(va) : "memory");
	EXPECT_EQ("store after the page came", *(volatile uint32_t *)va, 0);
}

/* CR0.EM: every x87 instruction #NM, wait is not affected. */
static void c_nm_em(void)
{
	uint32_t cr0 = read_cr0();

	write_cr0((cr0 & ~(CR0_TS | CR0_MP)) | CR0_EM);
	__asm__ volatile(ST_ARM "fld1" ST_RESUME);
	expect_fault("fld1 with EM", 7, 0, st_at);
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "fnstsw %%ax" ST_RESUME : : : "eax");
	expect_fault("fnstsw with EM", 7, 0, st_at);
	st_nfaults = 0;
	__asm__ volatile("fwait");
	EXPECT_EQ("fwait with EM: faults", st_nfaults, 0);
	write_cr0(cr0 & ~(CR0_EM | CR0_TS));
	__asm__ volatile("fninit\n\tfld1\n\tfstp %st(0)");
	EXPECT_EQ("fld1 after EM cleared: faults", st_nfaults, 0);
}

/* CR0.TS: x87 #NM, wait #NM only with MP; clts lets them run again. */
static void c_nm_ts(void)
{
	uint32_t cr0 = read_cr0() & ~(CR0_EM | CR0_TS);

	write_cr0(cr0 | CR0_TS);
	__asm__ volatile("fwait");
	EXPECT_EQ("fwait with TS, MP=0: faults", st_nfaults, 0);
	__asm__ volatile(ST_ARM "fninit" ST_RESUME);
	expect_fault("fninit with TS", 7, 0, st_at);
	write_cr0(cr0 | CR0_TS | CR0_MP);
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "fwait" ST_RESUME);
	expect_fault("fwait with TS and MP", 7, 0, st_at);
	st_nfaults = 0;
	__asm__ volatile("clts\n\tfninit\n\tfld1\n\tfstp %st(0)\n\tfwait");
	EXPECT_EQ("x87 after clts: faults", st_nfaults, 0);
	EXPECT_EQ("cr0.TS after clts", read_cr0() & CR0_TS, 0);
	write_cr0(cr0);
}

/* An unmasked divide by zero: no fault at the fdiv, #MF at the next waiting instruction. */
static void c_mf(void)
{
	uint32_t cr0 = read_cr0();
	uint16_t cw = 0x37B, sw; /* ZM clear */

	write_cr0(cr0 | CR0_NE);
	__asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivrp" : : "m"(cw));
	EXPECT_EQ("faults at the fdiv", st_nfaults, 0);
	__asm__ volatile(ST_ARM "fwait" ST_RESUME);
	expect_fault("#MF on the fwait", 16, 0, st_at);
	sw = fnstsw();
	EXPECT_EQ("status word ZE|ES", sw & 0x84, 0x84);
	__asm__ volatile("fnclex");
	EXPECT_EQ("status word after fnclex", fnstsw() & 0x80FF, 0);
	__asm__ volatile("fninit\n\tfwait");
	write_cr0(cr0);
}

/* Ring 3: the same FPU, user memory operands, #NM from TS. */
static volatile int32_t u_one = 1, u_out;

static int u_fpu(void)
{
	__asm__ volatile("fninit\n\tfildl %1\n\tfadd %%st(0), %%st(0)\n\tfistpl %0"
	                 : "=m"(u_out)
	                 : "m"(u_one)
	                 : "memory");
	return 0;
}

static int u_fld1(void)
{
	__asm__ volatile(ST_ARM "fld1" ST_RESUME);
	return 0;
}

static void c_ring3(void)
{
	uint32_t cr0 = read_cr0() & ~(CR0_EM | CR0_TS);

	u_out = 0;
	EXPECT_EQ("ring 3 x87 status", st_user(u_fpu, 0), 0);
	EXPECT_EQ("ring 3: 1+1", u_out, 2);
	write_cr0(cr0 | CR0_TS);
	st_user(u_fld1, 0);
	expect_fault("ring 3 fld1 with TS", 7, 0, st_at);
	EXPECT_EQ("#NM from ring 3: saved cs", st_faults[0].cs, SEL_UCODE);
	__asm__ volatile("clts\n\tfninit");
	write_cr0(cr0);
}

/* CR0.NE clear: the PC way, FERR# on IRQ13; the handler clears it (fnclex, port 0xF0). */
static volatile uint32_t irq13_hits, irq13_sw;

static void irq13(struct trapframe *tf)
{
	uint16_t sw;

	(void)tf;
	__asm__ volatile("fnstsw %%ax\n\tfnclex" : "=a"(sw));
	irq13_sw = sw;
	irq13_hits++;
	outb(0xF0, 0);
	pic_eoi(13);
}

static void c_ferr(void)
{
	uint32_t cr0 = read_cr0();
	uint16_t cw = 0x37B; /* ZM clear */

	if (!st_model) { /* qemu-system-i386 7.2 aborts (tcg_handle_interrupt without the BQL) */
		st_skip("only with 'model' on the command line");
		return;
	}
	irq13_hits = 0;
	trap_set_handler(IRQ_BASE + 13, irq13);
	pic_unmask(13);
	write_cr0(cr0 & ~CR0_NE);
	sti();
	__asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivrp\n\tfwait\n\tnop\n\tnop"
	                 :
	                 : "m"(cw));
	cli();
	EXPECT_EQ("faults", st_nfaults, 0);
	EXPECT_EQ("IRQ13 taken", irq13_hits, 1);
	EXPECT_EQ("status word in the handler: ZE|ES", irq13_sw & 0x84, 0x84);
	EXPECT_EQ("status word after the handler", fnstsw() & 0x80FF, 0);
	__asm__ volatile("fninit\n\tfwait");
	write_cr0(cr0);
}

/* The FPU state survives interrupts (the guest's, and the host's signals under bt). */
static volatile uint32_t fpu_ticks;

static void fpu_tick(struct trapframe *tf)
{
	(void)tf;
	fpu_ticks++;
	pic_eoi(0);
}

static void c_irq(void)
{
	static volatile int32_t one = 1;
	uint32_t n = 0, lo = 0, hi = 0;
	uint32_t sum[2];

	fpu_ticks = 0;
	trap_set_handler(IRQ_BASE + 0, fpu_tick);
	pit_start_1khz();
	pic_unmask(0);
	__asm__ volatile("fninit\n\tfildl %0\n\tfldz" : : "m"(one));
	sti();
	while (fpu_ticks < 20 && ++n < 50000000u)
		__asm__ volatile("fadd %st(1), %st\n\tfld %st(0)\n\tfsqrt\n\tfstp %st(0)");
	cli();
	pic_mask(0);
	__asm__ volatile("fistpll %0\n\tfstp %%st(0)" : "=m"(sum) : : "memory");
	lo = sum[0];
	hi = sum[1];
	EXPECT(fpu_ticks >= 20, "only %u timer interrupts", fpu_ticks);
	EXPECT_EQ("sum of ones, low", lo, n);
	EXPECT_EQ("sum of ones, high", hi, 0);
	EXPECT_EQ("stack empty: TOP", FSW_TOP(fnstsw()), 0);
}

/* SSE with CR4.OSFXSR clear: #UD on every CPU. */
static void c_ud_sse(void)
{
	__asm__ volatile(ST_ARM ".byte 0x0f, 0x57, 0xc0" ST_RESUME); /* xorps xmm0, xmm0 */
	expect_fault("xorps with CR4.OSFXSR clear", 6, 0, st_at);
}

/*
 * fisttp (SSE3) and MMX: #UD unless CPUID advertises them. Only where the CPU model
 * is enforced ('model' on the command line: bt); a hardware-virtualized CPU runs
 * them whatever CPUID says.
 */
static void c_ud(void)
{
	uint32_t r[4], v = 0;

	if (!st_model) {
		st_skip("only with 'model' on the command line");
		return;
	}
	cpuid(1, r);
	__asm__ volatile("fninit\n\tfld1");
	__asm__ volatile(ST_ARM "fisttpl %0" ST_RESUME : "=m"(v) : : "memory");
	if (r[2] & 1) { /* SSE3 */
		EXPECT_EQ("fisttp with SSE3: faults", st_nfaults, 0);
		EXPECT_EQ("fisttp 1.0", v, 1);
	} else {
		expect_fault("fisttp without SSE3", 6, 0, st_at);
	}
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "emms" ST_RESUME);
	if (r[3] & (1u << 23))
		EXPECT_EQ("emms with MMX: faults", st_nfaults, 0);
	else
		expect_fault("emms without MMX", 6, 0, st_at);
	__asm__ volatile("fninit");
}

CHECK_LIST(fpu) = {
    {"fpu.arith_status", c_arith},
    {"fpu.fcomi_fcmov_fxch", c_p6},
    {"fpu.memory_formats", c_formats},
    {"fpu.fnsave_frstor", c_save},
    {"fpu.fnstenv_fldenv", c_env},
    {"fpu.pf_precise", c_pf},
    {"fpu.nm_em", c_nm_em},
    {"fpu.nm_ts_clts", c_nm_ts},
    {"fpu.ring3", c_ring3},
    {"fpu.mf_deferred", c_mf},
    {"fpu.ferr_irq13", c_ferr},
    {"fpu.state_across_interrupts", c_irq},
    {"fpu.ud_sse_without_osfxsr", c_ud_sse},
    {"fpu.ud_beyond_cpuid", c_ud},
    CHECK_END,
};
