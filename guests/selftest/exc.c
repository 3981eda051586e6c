/* exc.c: exceptions: vectors, error codes, CR2, saved EIP/CS/EFLAGS, nesting. */
#include "st.h"

#define NP_PAGE 0  /* left not present */
#define RO_PAGE 1  /* supervisor, read-only */
#define SUP_PAGE 2 /* supervisor, writable */
#define URO_PAGE 3 /* user, read-only */
#define STK_PAGE 5 /* user stack page above NP page 4 */

/* Ring 3 access driven by globals (ring 3 reaches them: the identity map is U|W). */
static volatile uint32_t u_addr, u_write, u_val;
static volatile uint32_t u_saved_esp ASMVAR, u_push_esp ASMVAR;

static int u_access(void)
{
	uint32_t v = 0, a = u_addr;

	if (u_write)
		__asm__ volatile(ST_ARM "movl %1, (%0)" ST_RESUME
		                 :
		                 : "r"(a), "r"(0x5A5A5A5Au)
		                 : "memory");
	else
		__asm__ volatile(ST_ARM "movl (%1), %0" ST_RESUME : "+r"(v) : "r"(a) : "memory");
	u_val = v;
	return 0;
}

static void ring0_access(uint32_t a, int write)
{
	uint32_t v = 0;

	if (write)
		__asm__ volatile(ST_ARM "movl %1, (%0)" ST_RESUME
		                 :
		                 : "r"(a), "r"(0xA5A5A5A5u)
		                 : "memory");
	else
		__asm__ volatile(ST_ARM "movl (%1), %0" ST_RESUME : "+r"(v) : "r"(a) : "memory");
}

static void expect_pf(const char *what, uint32_t addr, uint32_t err)
{
	expect_fault(what, 14, err, st_at);
	if (!st_failed() && st_faults[0].cr2 != addr)
		st_fail("%s: cr2 0x%x, want 0x%x", what, st_faults[0].cr2, addr);
}

static void c_de(void)
{
	uint32_t lo = 7, hi = 0;

	__asm__ volatile(ST_ARM "divl %2" ST_RESUME : "+a"(lo), "+d"(hi) : "r"(0u));
	expect_fault("#DE", 0, 0, st_at);
	EXPECT_EQ("#DE saved cs", st_faults[0].cs, SEL_KCODE);
}

static void c_ud(void)
{
	__asm__ volatile(ST_ARM "ud2" ST_RESUME);
	expect_fault("#UD", 6, 0, st_at);
}

static void c_bp(void)
{
	uint32_t after;

	__asm__ volatile("int3\n1:\tmovl $1b, %0" : "=r"(after));
	expect_fault("#BP", 3, 0, after); /* a trap: EIP after the int3 */
}

static void c_gp_seg(void)
{
	static const struct {
		uint16_t sel, ss;
		uint32_t err;
	} cases[] = {
	    {0x53, 0, 0x50},                 /* beyond the GDT limit (RPL dropped) */
	    {SEL_TSS, 0, SEL_TSS},           /* a system segment into DS */
	    {0, 1, 0},                       /* null selector into SS */
	    {SEL_UDATA, 1, SEL_UDATA & ~3u}, /* SS with DPL 3 != CPL 0 */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]) && !st_failed(); i++) {
		st_nfaults = 0;
		if (cases[i].ss)
			__asm__ volatile(ST_ARM "movw %w0, %%ss" ST_RESUME : : "r"(cases[i].sel));
		else
			__asm__ volatile(ST_ARM "movw %w0, %%ds" ST_RESUME : : "r"(cases[i].sel));
		expect_fault("#GP on segment load", 13, cases[i].err, st_at);
		if (read_ds() != SEL_KDATA || read_ss() != SEL_KDATA)
			st_fail("segment register changed by a faulting load (case %u)", i);
	}
}

static void c_pf_read_np(void)
{
	ring0_access(test_va(NP_PAGE) + 0x123, 0);
	expect_pf("read not-present", test_va(NP_PAGE) + 0x123, 0);
}

static void c_pf_write_np(void)
{
	ring0_access(test_va(NP_PAGE) + 0xFFC, 1);
	expect_pf("write not-present", test_va(NP_PAGE) + 0xFFC, 2);
}

static void c_pf_write_ro(void)
{
	volatile uint32_t *frame = (volatile uint32_t *)SCRATCH_FRAME(RO_PAGE);

	frame[2] = 1;
	set_pte(RO_PAGE, SCRATCH_FRAME(RO_PAGE), PTE_P);
	ring0_access(test_va(RO_PAGE) + 8, 1);
	expect_pf("ring 0 write to read-only, WP=1", test_va(RO_PAGE) + 8, 3);
	EXPECT_EQ("read-only word after faulting write", frame[2], 1);
	/* CR0.WP=0: ring 0 writes ignore R/W. */
	st_nfaults = 0;
	write_cr0(read_cr0() & ~CR0_WP);
	ring0_access(test_va(RO_PAGE) + 8, 1);
	write_cr0(read_cr0() | CR0_WP);
	EXPECT_EQ("faults writing read-only with WP=0", st_nfaults, 0);
	EXPECT_EQ("read-only word written with WP=0", frame[2], 0xA5A5A5A5u);
}

static void c_pf_fetch(void)
{
	uint32_t target = test_va(NP_PAGE) + 0x40;

	__asm__ volatile("movl $2f, st_resume\n\tjmp *%0\n2:" : : "r"(target) : "memory");
	expect_fault("fetch from not-present", 14, 0, target);
	EXPECT_EQ("fetch cr2", st_faults[0].cr2, target);
}

static void user_pf(const char *what, uint32_t addr, int write, uint32_t err)
{
	u_addr = addr;
	u_write = (uint32_t)write;
	int st = st_user(u_access, 0);
	EXPECT_EQ("user status", st, 0);
	expect_pf(what, addr, err);
	EXPECT_EQ("saved cs (user)", st_faults[0].cs, SEL_UCODE);
	EXPECT_EQ("saved ss (user)", st_faults[0].ss, SEL_UDATA);
}

static void c_pf_user_np(void)
{
	user_pf("user read not-present", test_va(NP_PAGE) + 4, 0, 4);
}

static void c_pf_user_sup(void)
{
	set_pte(SUP_PAGE, SCRATCH_FRAME(SUP_PAGE), PTE_P | PTE_W);
	user_pf("user read of supervisor page", test_va(SUP_PAGE) + 0x10, 0, 5);
	st_nfaults = 0;
	user_pf("user write to supervisor page", test_va(SUP_PAGE) + 0x14, 1, 7);
}

static void c_pf_user_ro(void)
{
	set_pte(URO_PAGE, SCRATCH_FRAME(URO_PAGE), PTE_P | PTE_U);
	user_pf("user write to read-only user page", test_va(URO_PAGE) + 0x20, 1, 7);
	/* A user read of the same page is fine. */
	st_nfaults = 0;
	u_write = 0;
	st_user(u_access, 0);
	EXPECT_EQ("faults on user read of read-only user page", st_nfaults, 0);
}

static void c_pf_pde(void)
{
	uint32_t *pde = &rt_page_dir[TEST_REGION >> 22];
	uint32_t old = *pde;

	set_pte(URO_PAGE, SCRATCH_FRAME(URO_PAGE), PTE_P | PTE_U | PTE_W);
	*pde = old & ~PTE_W; /* the PDE says read-only: it wins for ring 3 */
	write_cr3(read_cr3());
	user_pf("user write, PDE read-only", test_va(URO_PAGE), 1, 7);
	*pde = old & ~PTE_U; /* the PDE says supervisor */
	write_cr3(read_cr3());
	st_nfaults = 0;
	user_pf("user read, PDE supervisor", test_va(URO_PAGE), 0, 5);
	*pde = old;
	write_cr3(read_cr3());
}

static int u_push(void)
{
	__asm__ volatile("movl %%esp, u_saved_esp\n\t"
	                 "movl u_push_esp, %%esp\n\t" ST_ARM "pushl $0x1234" ST_RESUME "\n\t"
	                 "movl u_saved_esp, %%esp"
	                 :
	                 :
	                 : "memory");
	return 0;
}

static void c_pf_push(void)
{
	/* Page 4 is not present; ring 3 pushes with ESP at the start of page 5. */
	set_pte(STK_PAGE, SCRATCH_FRAME(STK_PAGE), PTE_P | PTE_W | PTE_U);
	u_push_esp = test_va(STK_PAGE);
	st_user(u_push, 0);
	expect_pf("push to not-present stack page", test_va(STK_PAGE) - 4, 6);
	EXPECT_EQ("saved user esp (push not done)", st_faults[0].esp, u_push_esp);
}

/* #UD handler that itself takes (and survives) a #PF. */
static volatile uint32_t nest_ud_at, nest_pf_at, nest_after ASMVAR;

static void ud_nested(struct trapframe *tf)
{
	uint32_t v = 0;

	st_record(tf);
	nest_ud_at = st_at;
	__asm__ volatile(ST_ARM "movl (%1), %0" ST_RESUME
	                 : "+r"(v)
	                 : "r"(test_va(NP_PAGE) + 0x88)
	                 : "memory");
	nest_pf_at = st_at;
	tf->eip += 2; /* skip the ud2 */
	tf->eax = 0x600D;
}

static void c_nested(void)
{
	uint32_t eax = 0;

	trap_set_handler(6, ud_nested);
	__asm__ volatile("movl $1f, st_at\n1:\tud2\n\tmovl $1, nest_after"
	                 : "+a"(eax)
	                 :
	                 : "memory");
	EXPECT_EQ("faults", st_nfaults, 2);
	EXPECT_EQ("first fault vector", st_faults[0].vec, 6);
	EXPECT_EQ("first fault eip", st_faults[0].eip, nest_ud_at);
	EXPECT_EQ("nested fault vector", st_faults[1].vec, 14);
	EXPECT_EQ("nested fault eip", st_faults[1].eip, nest_pf_at);
	EXPECT_EQ("nested fault cr2", st_faults[1].cr2, test_va(NP_PAGE) + 0x88);
	EXPECT_EQ("nested fault cs", st_faults[1].cs, SEL_KCODE);
	EXPECT(st_faults[1].frame < st_faults[0].frame, "nested frame not below the first");
	EXPECT_EQ("eax set by the #UD handler", eax, 0x600D);
	EXPECT_EQ("code after ud2 ran", nest_after, 1);
}

static void c_frame_eflags(void)
{
	uint32_t want = EFLAGS_CF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF | EFLAGS_PF;
	uint32_t f = (read_eflags() & ~EFLAGS_ARITH) | want, after;

	__asm__ volatile("pushl %1\n\tpopfl\n\t" ST_ARM "ud2" ST_RESUME "\n\tpushfl\n\tpopl %0"
	                 : "=r"(after)
	                 : "r"(f)
	                 : "cc", "memory");
	expect_fault("#UD", 6, 0, st_at);
	EXPECT_EQ("saved eflags", st_faults[0].eflags & (EFLAGS_ARITH | EFLAGS_IF), want);
	EXPECT_EQ("saved cs", st_faults[0].cs, SEL_KCODE);
	EXPECT_EQ("eflags after iret", after & (EFLAGS_ARITH | EFLAGS_IF), want);
}

CHECK_LIST(exc) = {
    {"exc.de_divide_error", c_de},
    {"exc.ud_ud2", c_ud},
    {"exc.bp_int3_trap_eip", c_bp},
    {"exc.gp_segment_load", c_gp_seg},
    {"exc.pf_read_not_present", c_pf_read_np},
    {"exc.pf_write_not_present", c_pf_write_np},
    {"exc.pf_write_read_only_wp", c_pf_write_ro},
    {"exc.pf_fetch_not_present", c_pf_fetch},
    {"exc.pf_user_not_present", c_pf_user_np},
    {"exc.pf_user_supervisor_page", c_pf_user_sup},
    {"exc.pf_user_read_only", c_pf_user_ro},
    {"exc.pf_pde_permissions", c_pf_pde},
    {"exc.pf_push_stack_fault", c_pf_push},
    {"exc.nested_pf_in_ud_handler", c_nested},
    {"exc.saved_eflags_cs", c_frame_eflags},
    CHECK_END,
};
