/* st.h: the selftest guest's check framework (runner, fault catcher, helpers). */
#ifndef TANDEM_SELFTEST_ST_H
#define TANDEM_SELFTEST_ST_H

#include "rt.h"

/* ---- checks ---- */
struct check {
	const char *name;
	void (*fn)(void);
};
#define CHECK_LIST(area) const struct check area##_checks[]
#define CHECK_END                                                                                  \
	{                                                                                          \
		NULL, NULL                                                                         \
	}

extern const struct check exc_checks[], ring_checks[], pg_checks[], smc_checks[], tc_checks[],
    intr_checks[], misc_checks[], dbg_checks[], fpu_checks[], seg_checks[], bus_checks[],
    as_checks[];

/* Inside a check: record the first failure (later ones are ignored) or a skip. */
void st_fail(const char *fmt, ...) RT_PRINTF(1, 2);
void st_skip(const char *fmt, ...) RT_PRINTF(1, 2); /* the check cannot run here: SKIP, why */
int st_failed(void);                                /* a failure or skip is recorded */

#define EXPECT_EQ(what, got, want)                                                                 \
	do {                                                                                       \
		uint32_t g_ = (uint32_t)(got), w_ = (uint32_t)(want);                              \
		if (g_ != w_)                                                                      \
			st_fail("%s = 0x%x, want 0x%x", what, g_, w_);                             \
	} while (0)
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			st_fail(__VA_ARGS__);                                                      \
	} while (0)

#define ASMVAR __attribute__((used)) /* a variable named in inline asm */

/* ---- the fault catcher ----
 * The runner installs st_catch for vectors 0-31 before every check. It records the
 * fault; if st_resume is set it resumes there (and clears it), a trap (#BP, #OF)
 * resumes after the instruction, anything else aborts the check (FAIL, next check). */
struct fault {
	uint32_t vec, err, eip, cs, eflags, cr2, esp, ss, frame;
};
#define ST_MAX_FAULTS 8
extern volatile unsigned st_nfaults;
extern struct fault st_faults[ST_MAX_FAULTS];
extern volatile uint32_t st_resume, st_at;
void st_catch(struct trapframe *tf);        /* the catcher described above (vectors 0-31) */
void st_record(struct trapframe *tf);       /* record only (for check-specific handlers) */
void st_abort(const char *why) RT_NORETURN; /* abort the running check from ring 0 */

/* Expect exactly one fault: vector, error code, and (if eip) the faulting EIP. */
void expect_fault(const char *what, uint32_t vec, uint32_t err, uint32_t eip);

/* Inline asm around an instruction expected to fault: it sits at local label 1 (its
 * address goes to st_at), execution resumes at label 2 (which disarms, flags intact,
 * in case the instruction did not fault): ST_ARM "insn" ST_RESUME. */
#define ST_ARM "movl $2f, st_resume\n\tmovl $1f, st_at\n1:\t"
#define ST_RESUME "\n2:\tmovl $0, st_resume"

/* ---- ring 3 ---- */
/* Like st_user, with explicit EFLAGS for the iret to ring 3 (bit 1 forced): rt_enter_user
 * on the check's user stack. The user function returns (or SYS_exit) its status. */
int st_enter_user(int (*fn)(void), uint32_t eflags);
int st_user(int (*fn)(void), int irq_on); /* enter_user on the check's user stack */
extern uint8_t st_user_stack[8192];
extern uint32_t user_kernel_esp; /* runtime trap.S: nonzero while in ring 3 */
uint32_t st_tss_esp0(void);      /* the ring 0 stack top a CPL 3 -> 0 transition loads */
#define TF_SIZE ((uint32_t)sizeof(struct trapframe)) /* frame with user ss:esp */

/* ---- machine helpers ---- */
#define EFLAGS_CF 0x001u
#define EFLAGS_PF 0x004u
#define EFLAGS_ZF 0x040u
#define EFLAGS_SF 0x080u
#define EFLAGS_DF 0x400u
#define EFLAGS_OF 0x800u
#define EFLAGS_IOPL3 0x3000u
#define EFLAGS_ARITH 0x8D5u /* CF PF AF ZF SF OF */

extern int st_has_tsc, st_has_sep, st_has_pse, st_has_msr;
/* Running under QEMU TCG: where QEMU deviates from the SDM a check accepts QEMU's known
 * value there (and says so in a comment), and asserts the SDM's everywhere else. */
extern int st_on_qemu;
/* "model" on the command line: also the checks only an engine that enforces the CPU model
 * passes (#UD for what CPUID lacks) and FERR#/IRQ13 (QEMU 7.2 aborts there): bt. */
extern int st_model;
/* "pge" on the command line: the CPU has PGE (tandem's "max" model, QEMU): as.global_* run. */
extern int st_pge;
uint32_t test_va(unsigned page);   /* VA of test page n (0..255) in the test region */
uint32_t *test_pte(unsigned page); /* the PTE mapping test page n (0..1023) */
void set_pte(unsigned page, uint32_t pa, uint32_t flags); /* write PTE and invlpg */
void st_pic_reset(void);      /* IRQs masked but the cascade, nothing in service */
uint16_t pit_read(void);      /* latch + read channel 0 */
int pit_wait_ms(unsigned ms); /* spin ms channel-0 periods (1 kHz); -1 if the PIT stalls */
void pit_start_1khz(void);    /* PIT channel 0 in mode 2 at 1 kHz (IRQ0 left as masked) */
extern volatile uint32_t st_stray_irqs;
/* The task register selector (`str`). */
static inline uint16_t str(void)
{
	uint16_t v;
	__asm__ volatile("str %0" : "=r"(v));
	return v;
}
/* Write MSR msr (ring 0; #GP for an MSR the CPU lacks). */
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
/* Read MSR msr (ring 0; #GP for an MSR the CPU lacks). */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}
/* Load the GDT register from *d (ring 0). */
static inline void lgdt(const struct dtr *d)
{
	__asm__ volatile("lgdt %0" : : "m"(*d));
}

/* Physical scratch frames (identity mapped, unused by the kernel image). */
#define SCRATCH_PA 0x00800000u
#define SCRATCH_FRAME(n) (SCRATCH_PA + (uint32_t)(n)*PAGE_SIZE)
#define PSE_VA 0x40000000u
#define TEST_REGION 0x50000000u

#endif
