/* ring.c: ring 3 <-> ring 0: int 0x80, the TSS stack switch, sysenter/sysexit, gate
 * DPL checks, iret to ring 3 with chosen EFLAGS, IOPL-sensitive instructions. */
#include "st.h"

#define SYS_TEST 0x5E1F /* args in ebx ecx edx esi edi; see test_syscall */
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

static trap_handler_t chain;
static volatile uint32_t k_args[5], k_frame[2], k_esp0[2], k_uesp[2], k_uss, k_ucs, k_calls;
static volatile uint32_t u_esp[2], u_ret[4], u_flags, u_ok;
static uint8_t alt_stack[2048] __attribute__((aligned(16)));

/* SYS_TEST: eax = sum of the args, edx = ~ebx, CF set in the returned EFLAGS. The
 * first call also moves tss.esp0 to alt_stack, so the second must land there. */
static void test_syscall(struct trapframe *tf)
{
	if (tf->eax != SYS_TEST) {
		chain(tf);
		return;
	}
	unsigned n = k_calls++;
	if (n < 2) {
		k_frame[n] = (uint32_t)tf;
		k_esp0[n] = st_tss_esp0();
		k_uesp[n] = tf->esp;
	}
	if (n == 0) {
		k_args[0] = tf->ebx, k_args[1] = tf->ecx, k_args[2] = tf->edx;
		k_args[3] = tf->esi, k_args[4] = tf->edi;
		k_uss = tf->ss, k_ucs = tf->cs;
		tss_set_esp0((uint32_t)(alt_stack + sizeof(alt_stack)));
	}
	tf->eax = tf->ebx + tf->ecx + tf->edx + tf->esi + tf->edi;
	tf->edx = ~tf->ebx;
	tf->eflags |= EFLAGS_CF;
}

static int u_syscalls(void)
{
	for (int i = 0; i < 2; i++) {
		uint32_t a = SYS_TEST, d = 4, b = 1, c = 2, si = 8, di = 16, fl;
		__asm__ volatile("movl %%esp, %[esp]\n\tclc\n\tint $0x80\n\tpushfl\n\tpopl %[fl]"
		                 : "+a"(a), "+d"(d), [esp] "=m"(u_esp[i]), [fl] "=r"(fl)
		                 : "b"(b), "c"(c), "S"(si), "D"(di)
		                 : "memory", "cc");
		u_ret[2 * i] = a;
		u_ret[2 * i + 1] = d;
		u_flags = fl;
	}
	return 0;
}

static void c_int80(void)
{
	k_calls = 0;
	chain = trap_get_handler(SYSCALL_VEC);
	trap_set_handler(SYSCALL_VEC, test_syscall);
	EXPECT_EQ("user status", st_user(u_syscalls, 0), 0);
	EXPECT_EQ("calls", k_calls, 2);
	for (unsigned i = 0; i < 5; i++)
		EXPECT_EQ("syscall arg", k_args[i], 1u << i);
	EXPECT_EQ("return eax", u_ret[0], 31);
	EXPECT_EQ("return edx", u_ret[1], ~1u);
	EXPECT_EQ("second return eax", u_ret[2], 31);
	EXPECT(u_flags & EFLAGS_CF, "CF set by the handler in the saved EFLAGS not seen");
}

static void c_tss_esp0(void)
{
	uint32_t alt_top = (uint32_t)(alt_stack + sizeof(alt_stack));

	k_calls = 0;
	chain = trap_get_handler(SYSCALL_VEC);
	trap_set_handler(SYSCALL_VEC, test_syscall);
	st_user(u_syscalls, 0);
	EXPECT_EQ("calls", k_calls, 2);
	EXPECT_EQ("first frame (tss.esp0 - frame)", k_frame[0], k_esp0[0] - TF_SIZE);
	EXPECT_EQ("second frame after esp0 moved", k_frame[1], alt_top - TF_SIZE);
	EXPECT_EQ("tss.esp0 seen in the second call", k_esp0[1], alt_top);
	EXPECT_EQ("saved user esp", k_uesp[0], u_esp[0]);
	EXPECT_EQ("saved user esp (2)", k_uesp[1], u_esp[1]);
	EXPECT_EQ("saved user ss", k_uss, SEL_UDATA);
	EXPECT_EQ("saved user cs", k_ucs, SEL_UCODE);
}

extern void st_sysenter_entry(void);
extern volatile uint32_t se_esp, se_eflags, se_count;
extern volatile uint16_t se_cs, se_ss;
static uint8_t se_stack[1024] __attribute__((aligned(16)));
static volatile uint32_t u_se_eax[2];
static volatile uint32_t u_se_esp_before ASMVAR, u_se_esp_after ASMVAR, u_se_flags ASMVAR;
static volatile uint16_t u_se_cs ASMVAR, u_se_ss ASMVAR;

static int u_sysenter(void)
{
	for (int i = 0; i < 2; i++) {
		uint32_t r;
		__asm__ volatile("pushl %%ebp\n\t"
		                 "movl %%esp, u_se_esp_before\n\t"
		                 "movl $1f, %%edx\n\t"
		                 "movl %%esp, %%ecx\n\t"
		                 "sysenter\n"
		                 "1:\tmovl %%esp, u_se_esp_after\n\t"
		                 "popl %%ebp\n\t"
		                 "movw %%cs, %%cx\n\tmovw %%cx, u_se_cs\n\t"
		                 "movw %%ss, %%cx\n\tmovw %%cx, u_se_ss\n\t"
		                 "pushfl\n\tpopl u_se_flags"
		                 : "=a"(r)
		                 : "b"(7u + (uint32_t)i), "S"(100u)
		                 : "ecx", "edx", "memory", "cc");
		u_se_eax[i] = r;
	}
	return 0;
}

static int u_sysenter_nocs(void)
{
	__asm__ volatile("movl %%esp, %%ecx\n\t" ST_ARM "sysenter" ST_RESUME
	                 :
	                 :
	                 : "ecx", "edx", "memory");
	return 0;
}

static void c_sysenter(void)
{
	uint32_t top = (uint32_t)(se_stack + sizeof(se_stack));

	if (!st_has_sep || !st_has_msr) {
		st_skip("cpuid: no SEP/MSR");
		return;
	}
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr(MSR_SYSENTER_ESP, top);
	wrmsr(MSR_SYSENTER_EIP, (uint32_t)st_sysenter_entry);
	EXPECT_EQ("rdmsr SYSENTER_ESP", (uint32_t)rdmsr(MSR_SYSENTER_ESP), top);
	EXPECT_EQ("user status", st_user(u_sysenter, 1), 0); /* IF=1 in ring 3 */
	EXPECT_EQ("sysenter entries", se_count, 2);
	EXPECT_EQ("kernel esp at entry", se_esp, top);
	EXPECT_EQ("kernel cs at entry", se_cs, SEL_KCODE);
	EXPECT_EQ("kernel ss at entry", se_ss, SEL_KDATA);
	EXPECT_EQ("IF at entry", se_eflags & EFLAGS_IF, 0);
	EXPECT_EQ("eax via sysexit", u_se_eax[0], 207);
	EXPECT_EQ("eax via sysexit (2)", u_se_eax[1], 208);
	EXPECT_EQ("user cs after sysexit", u_se_cs, SEL_UCODE);
	EXPECT_EQ("user ss after sysexit", u_se_ss, SEL_UDATA);
	EXPECT_EQ("user esp after sysexit", u_se_esp_after, u_se_esp_before);
	EXPECT_EQ("user IF after sysexit", u_se_flags & EFLAGS_IF, 0);
	/* SYSENTER_CS = 0: #GP(0). */
	st_nfaults = 0;
	wrmsr(MSR_SYSENTER_CS, 0);
	st_user(u_sysenter_nocs, 0);
	expect_fault("sysenter with SYSENTER_CS=0", 13, 0, st_at);
}

/* int from ring 3 through a DPL 0 gate: #GP(vector * 8 + 2). */
static uint8_t saved_gate_type;

static void gp_restore_gate(struct trapframe *tf)
{
	((uint8_t *)rt_idtr.base)[SYSCALL_VEC * 8 + 5] = saved_gate_type;
	st_catch(tf);
}

static int u_int_dpl0(void)
{
	__asm__ volatile(ST_ARM "int $0x80" ST_RESUME ::: "memory");
	return 0;
}

static int u_int_irq(void)
{
	__asm__ volatile(ST_ARM "int $0x21" ST_RESUME ::: "memory");
	return 0;
}

static void c_int_dpl0(void)
{
	uint8_t *type = &((uint8_t *)rt_idtr.base)[SYSCALL_VEC * 8 + 5];

	saved_gate_type = *type;
	*type = 0x8E; /* DPL 0 */
	trap_set_handler(13, gp_restore_gate);
	st_user(u_int_dpl0, 0);
	expect_fault("int $0x80, DPL 0 gate", 13, SYSCALL_VEC * 8 + 2, st_at);
	EXPECT_EQ("saved cs", st_faults[0].cs, SEL_UCODE);
	trap_set_handler(13, st_catch);
	st_nfaults = 0;
	st_user(u_int_irq, 0);
	expect_fault("int $0x21 (IRQ vector, DPL 0)", 13, 0x21 * 8 + 2, st_at);
}

/* iret to ring 3 with CF|ZF|IOPL=3: ring 3 sees them (read before any compiled code
 * can touch the flags), and may then cli/sti/in/out. */
static volatile uint32_t u_entry_flags ASMVAR;
int u_iopl3_entry(void);
int u_iopl3(void);
__asm__(".text\n"
        "u_iopl3_entry:\n\t"
        "pushfl\n\t"
        "popl u_entry_flags\n\t"
        "jmp u_iopl3");

int u_iopl3(void)
{
	u_flags = u_entry_flags;
	__asm__ volatile(
	    "cli\n\tsti\n\tcli\n\tmovb $0x3C, %%al\n\toutb %%al, $0x80\n\tinb $0x80, %%al" ::
	        : "eax", "memory");
	u_ok = 1;
	return 3;
}

static void c_iret_ring3(void)
{
	uint32_t fl = EFLAGS_CF | EFLAGS_ZF | EFLAGS_IOPL3;

	EXPECT_EQ("user status", st_enter_user(u_iopl3_entry, fl), 3);
	EXPECT_EQ("eflags seen in ring 3", u_flags & (EFLAGS_ARITH | EFLAGS_IOPL3 | EFLAGS_IF), fl);
	EXPECT_EQ("faults", st_nfaults, 0);
	EXPECT_EQ("ring 3 ran to the end", u_ok, 1);
	EXPECT_EQ("cs back in ring 0", read_cs(), SEL_KCODE);
}

/* IOPL 0, ring 3: popf leaves IF and IOPL alone (no fault), changes CF. */
static int u_popf(void)
{
	uint32_t f0, f1;

	__asm__ volatile("pushfl\n\tpopl %0\n\t"
	                 "movl %0, %1\n\txorl $0x3201, %1\n\t" /* flip IF, IOPL, CF */
	                 "pushl %1\n\tpopfl\n\tpushfl\n\tpopl %1"
	                 : "=&r"(f0), "=&r"(f1)
	                 :
	                 : "cc", "memory");
	u_ret[0] = f0;
	u_ret[1] = f1;
	return 0;
}

static void c_user_popf(void)
{
	for (int irq = 0; irq < 2; irq++) {
		st_user(u_popf, irq);
		EXPECT_EQ("IF before popf", u_ret[0] & EFLAGS_IF, irq ? EFLAGS_IF : 0);
		EXPECT_EQ("IF after popf (unchanged)", u_ret[1] & EFLAGS_IF, irq ? EFLAGS_IF : 0);
		EXPECT_EQ("IOPL after popf (unchanged)", u_ret[1] & EFLAGS_IOPL3, 0);
		EXPECT_EQ("CF after popf (flipped)", (u_ret[0] ^ u_ret[1]) & EFLAGS_CF, EFLAGS_CF);
	}
	EXPECT_EQ("faults", st_nfaults, 0);
}

/* IOPL 0, ring 3: cli, sti, hlt, in, out, mov cr, mov ds,KDATA fault. */
static volatile uint32_t u_case;

static int u_priv(void)
{
	switch (u_case) {
	case 0:
		__asm__ volatile(ST_ARM "cli" ST_RESUME ::: "memory");
		break;
	case 1:
		__asm__ volatile(ST_ARM "sti" ST_RESUME ::: "memory");
		break;
	case 2:
		__asm__ volatile(ST_ARM "hlt" ST_RESUME ::: "memory");
		break;
	case 3:
		__asm__ volatile(ST_ARM "inb $0x80, %%al" ST_RESUME ::: "eax", "memory");
		break;
	case 4:
		__asm__ volatile(ST_ARM "outb %%al, $0x80" ST_RESUME ::: "memory");
		break;
	case 5:
		__asm__ volatile(ST_ARM "movl %%cr0, %%eax" ST_RESUME ::: "eax", "memory");
		break;
	default:
		__asm__ volatile(ST_ARM "movw %w0, %%ds" ST_RESUME : : "r"(SEL_KDATA) : "memory");
		break;
	}
	return 0;
}

static void c_user_priv(void)
{
	static const char *const what[] = {"cli", "sti", "hlt", "in", "out", "mov cr0", "mov ds"};
	for (u_case = 0; u_case < 7 && !st_failed(); u_case++) {
		st_nfaults = 0;
		st_user(u_priv, 0);
		expect_fault(what[u_case], 13, u_case == 6 ? SEL_KDATA : 0, st_at);
		EXPECT_EQ("saved cs", st_faults[0].cs, SEL_UCODE);
	}
}

/* Far ret imm16 to an outer ring: ESP is the outer one plus imm16, and DS/ES holding a
 * DPL 0 segment are null in ring 3 (SDM Vol. 2 RET, return to outer privilege level). */
extern volatile uint32_t st_fr_esp, st_fr_ds, st_fr_es;
void st_farret_entry(void);
int st_farret_outer(void (*entry)(void), uint32_t esp3);

static void c_farret_outer(void)
{
	uint32_t esp3 = (uint32_t)(st_user_stack + sizeof(st_user_stack) - 64);
	int st;

	st_fr_esp = st_fr_ds = st_fr_es = 0xdeadbeef;
	st = st_farret_outer(st_farret_entry, esp3);
	EXPECT_EQ("status through SYS_exit", st, 7);
	EXPECT_EQ("ring 3 esp after lret $8 (imm16 released from the outer stack)", st_fr_esp,
	          esp3 + 8);
	EXPECT_EQ("ds in ring 3 (it held DPL 0 data: null)", st_fr_ds & 0xffff, 0);
	EXPECT_EQ("es in ring 3 (it held DPL 0 data: null)", st_fr_es & 0xffff, 0);
}

/* Iret to ring 3 with FS and GS holding DPL 0 data: both become null, and a load through
 * FS is #GP(0) (SDM Vol. 2 IRET; Vol. 3 5.4.1). QEMU's TCG nulls the selectors but keeps
 * the old base and does not check: the load reads the kernel's data (accepted there). */
extern volatile uint32_t st_ir_fs, st_ir_gs, st_ir_val, st_ir_word;
void st_iret_entry(void);
int st_iret_outer(void (*entry)(void), uint32_t esp3);

static void c_iret_outer_null(void)
{
	uint32_t esp3 = (uint32_t)(st_user_stack + sizeof(st_user_stack) - 64);
	int st;

	st_ir_fs = st_ir_gs = 0xdeadbeef;
	st_ir_val = 0;
	st_nfaults = 0;
	st = st_iret_outer(st_iret_entry, esp3);
	EXPECT_EQ("status through SYS_exit", st, 7);
	EXPECT_EQ("fs in ring 3 (it held DPL 0 data: null)", st_ir_fs & 0xffff, 0);
	EXPECT_EQ("gs in ring 3 (it held DPL 0 data: null)", st_ir_gs & 0xffff, 0);
	if (st_on_qemu) {
		EXPECT_EQ("faults (QEMU: no null-selector check)", st_nfaults, 0);
		return;
	}
	expect_fault("load through the nulled fs", 13, 0, st_at);
	EXPECT_EQ("saved cs", st_faults[0].cs, SEL_UCODE);
	EXPECT_EQ("the load's destination (never written)", st_ir_val, 0);
}

CHECK_LIST(ring) = {
    {"ring.int80_args_and_return", c_int80},
    {"ring.tss_esp0_stack_switch", c_tss_esp0},
    {"ring.sysenter_sysexit", c_sysenter},
    {"ring.int_through_dpl0_gate_gp", c_int_dpl0},
    {"ring.iret_to_ring3_eflags_iopl3", c_iret_ring3},
    {"ring.user_popf_if_iopl_ignored", c_user_popf},
    {"ring.user_privileged_gp", c_user_priv},
    {"ring.far_ret_outer_imm16_null_segs", c_farret_outer},
    {"ring.iret_outer_null_fs_gs", c_iret_outer_null},
    CHECK_END,
};
