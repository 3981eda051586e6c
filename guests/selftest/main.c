/* main.c: selftest, a guest that checks CPU semantics one PASS/FAIL/SKIP line at a time.
 * The runner gives every check a clean machine (handlers, descriptor tables, paging,
 * PIC) and recovers from any unexpected fault inside one, so one bad check cannot
 * break the next. Output is deterministic: no addresses or timings on PASS lines. */
#include "st.h"

struct jmpbuf {
	uint32_t ebx, esi, edi, ebp, esp, eip;
};
int st_setjmp(struct jmpbuf *jb) __attribute__((returns_twice));
void st_longjmp(struct jmpbuf *jb, int v) RT_NORETURN;
void gdt_load(const struct dtr *d); /* runtime entry.S: lgdt + reload all segments */
extern char boot_stack_top[];
extern char __kernel_end[];

volatile unsigned st_nfaults;
struct fault st_faults[ST_MAX_FAULTS];
volatile uint32_t st_resume, st_at;
volatile uint32_t st_stray_irqs;
int st_has_tsc, st_has_sep, st_has_pse, st_has_msr, st_on_qemu, st_model, st_pge;
uint8_t st_user_stack[8192] __attribute__((aligned(16)));

static struct jmpbuf jb;
static volatile int in_check;
static char detail[160];
static volatile int result; /* 0 pass, 1 fail, 2 skip */
static unsigned npass, nfail, nskip;
static trap_handler_t rt_syscall;
static struct dtr boot_gdtr;
static uint64_t boot_gdt[6];
static uint8_t boot_idt[256 * 8];
static uint32_t boot_cr0, boot_cr4;
static uint32_t *test_pt;

static void note(int kind, const char *fmt, va_list ap)
{
	if (result)
		return;
	result = kind;
	vsnprintf(detail, sizeof(detail), fmt, ap);
}

void st_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note(1, fmt, ap);
	va_end(ap);
}

void st_skip(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	note(2, fmt, ap);
	va_end(ap);
}

int st_failed(void)
{
	return result != 0;
}

void st_abort(const char *why)
{
	if (!in_check) {
		printf("selftest: abort outside a check: %s\n", why);
		guest_exit(EXIT_TRAP);
	}
	result = 0; /* the abort reason wins */
	st_fail("%s", why);
	st_longjmp(&jb, 1);
}

void st_record(struct trapframe *tf)
{
	unsigned n = st_nfaults;

	if (n < ST_MAX_FAULTS) {
		struct fault *f = &st_faults[n];
		f->vec = tf->vector;
		f->err = tf->err;
		f->eip = tf->eip;
		f->cs = tf->cs;
		f->eflags = tf->eflags;
		f->cr2 = tf->vector == 14 ? read_cr2() : 0;
		f->esp = (tf->cs & 3) ? tf->esp : 0;
		f->ss = (tf->cs & 3) ? tf->ss : 0;
		f->frame = (uint32_t)tf;
	}
	st_nfaults = n + 1;
}

void st_catch(struct trapframe *tf)
{
	char why[96];

	st_record(tf);
	if (st_nfaults > 32)
		st_abort("fault storm (more than 32 faults)");
	if (st_resume) {
		tf->eip = st_resume;
		st_resume = 0;
		return;
	}
	if (tf->vector == 3 || tf->vector == 4)
		return; /* traps: resume after the instruction */
	snprintf(why, sizeof(why), "unexpected exception %u err=0x%x at eip=0x%x cs=0x%x%s",
	         tf->vector, tf->err, tf->eip, tf->cs, tf->vector == 14 ? " (#PF)" : "");
	if (tf->vector == 14)
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " cr2=0x%x", read_cr2());
	st_abort(why);
}

void expect_fault(const char *what, uint32_t vec, uint32_t err, uint32_t eip)
{
	if (st_nfaults != 1) {
		st_fail("%s: %u faults, want 1", what, st_nfaults);
		return;
	}
	if (st_faults[0].vec != vec)
		st_fail("%s: vector %u, want %u", what, st_faults[0].vec, vec);
	else if (st_faults[0].err != err)
		st_fail("%s: error code 0x%x, want 0x%x", what, st_faults[0].err, err);
	else if (eip && st_faults[0].eip != eip)
		st_fail("%s: eip 0x%x, want 0x%x", what, st_faults[0].eip, eip);
}

static void stray_irq(struct trapframe *tf)
{
	unsigned irq = tf->vector - IRQ_BASE;

	if (irq == 7 || irq == 15) { /* spurious unless the ISR says otherwise */
		outb(irq == 7 ? 0x20 : 0xA0, 0x0B);
		if (!(inb(irq == 7 ? 0x20 : 0xA0) & 0x80)) {
			if (irq == 15)
				pic_eoi(0);
			return;
		}
	}
	st_stray_irqs++;
	pic_eoi(irq);
}

int st_user(int (*fn)(void), int irq_on)
{
	return enter_user(fn, st_user_stack + sizeof(st_user_stack), irq_on);
}

int st_enter_user(int (*fn)(void), uint32_t eflags)
{
	return rt_enter_user((int (*)(uint32_t))(void *)fn, 0,
	                     st_user_stack + sizeof(st_user_stack), eflags);
}

uint32_t test_va(unsigned page)
{
	return TEST_REGION + page * PAGE_SIZE;
}

uint32_t *test_pte(unsigned page)
{
	return &test_pt[page & 1023];
}

void set_pte(unsigned page, uint32_t pa, uint32_t flags)
{
	test_pt[page & 1023] = pa ? (pa & ~0xFFFu) | flags : 0;
	invlpg(test_va(page));
}

void st_pic_reset(void)
{
	outb(0x21, 0xFB);
	outb(0xA1, 0xFF);
	for (int i = 0; i < 8; i++) { /* nothing left in service */
		outb(0xA0, 0x20);
		outb(0x20, 0x20);
	}
}

/* A clean machine for the next check. */
static void restore_env(int aborted)
{
	cli();
	__asm__ volatile("cld");
	write_cr0(boot_cr0);
	write_cr4(boot_cr4);
	memset(test_pt, 0, PAGE_SIZE);
	rt_page_dir[TEST_REGION >> 22] = (uint32_t)test_pt | PTE_U | PTE_W | PTE_P;
	rt_page_dir[PSE_VA >> 22] = 0;
	write_cr3((uint32_t)rt_page_dir);
	memcpy((void *)rt_idtr.base, boot_idt, sizeof(boot_idt));
	lidt(&rt_idtr);
	if (aborted || str() != SEL_TSS ||
	    memcmp((void *)boot_gdtr.base, boot_gdt, sizeof(boot_gdt))) {
		memcpy((void *)boot_gdtr.base, boot_gdt, sizeof(boot_gdt));
		((uint8_t *)boot_gdtr.base)[SEL_TSS + 5] &= (uint8_t)~0x02; /* not busy */
		gdt_load(&boot_gdtr);
		__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
	} else {
		gdt_load(&boot_gdtr);
	}
	user_kernel_esp = 0;
	tss_set_esp0((uint32_t)boot_stack_top);
	for (unsigned v = 0; v < 32; v++)
		trap_set_handler(v, st_catch);
	for (unsigned v = IRQ_BASE; v < IRQ_BASE + 16; v++)
		trap_set_handler(v, stray_irq);
	trap_set_handler(SYSCALL_VEC, rt_syscall);
	st_pic_reset();
	st_nfaults = 0;
	st_resume = 0;
	st_stray_irqs = 0;
	memset(st_faults, 0, sizeof(st_faults));
}

static void run(const struct check *c)
{
	restore_env(0);
	result = 0;
	detail[0] = '\0';
	if (st_setjmp(&jb) == 0) {
		in_check = 1;
		c->fn();
		in_check = 0;
		restore_env(0);
	} else {
		in_check = 0;
		restore_env(1);
	}
	if (result == 0 && st_stray_irqs)
		st_fail("%u stray interrupts", st_stray_irqs);
	switch (result) {
	case 0:
		npass++;
		printf("PASS %s\n", c->name);
		break;
	case 1:
		nfail++;
		printf("FAIL %s: %s\n", c->name, detail);
		break;
	default:
		nskip++;
		printf("SKIP %s: %s\n", c->name, detail);
		break;
	}
}

static void probe_cpu(void)
{
	uint32_t f = cpu_features();

	st_has_pse = !!(f & (1u << 3));
	st_has_tsc = !!(f & (1u << 4));
	st_has_msr = !!(f & (1u << 5));
	st_has_sep = !!(f & (1u << 11));
	if (f) { /* QEMU TCG names itself in the brand string (tandem's CPU model has none) */
		uint32_t r[4];

		cpuid(0x80000000u, r);
		if (r[0] >= 0x80000002u) {
			cpuid(0x80000002u, r);
			st_on_qemu = !memcmp(r, "QEMU", 4);
		}
	}
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	static const struct check *const areas[] = {
	    exc_checks,  ring_checks, pg_checks,  smc_checks, tc_checks,  intr_checks,
	    misc_checks, dbg_checks,  fpu_checks, seg_checks, bus_checks, as_checks};
	const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)mbi->cmdline : "", *w;

	printf("selftest: start\n");
	if (magic != MB_BOOT_MAGIC || (uint32_t)__kernel_end > 0x400000u) {
		printf("selftest: bad boot magic or kernel image over 4 MiB\n");
		return EXIT_FAIL;
	}
	probe_cpu();
	/* "tcg" on the command line: the CPU under this guest is QEMU's TCG although CPUID
	 * does not say so (kvm inside the nested rig, whose CPU model is tandem's). */
	for (w = cmd; *w; w++)
		if ((w == cmd || w[-1] == ' ') && !memcmp(w, "tcg", 3) && (!w[3] || w[3] == ' '))
			st_on_qemu = 1;
		else if ((w == cmd || w[-1] == ' ') && !memcmp(w, "model", 5) &&
		         (!w[5] || w[5] == ' '))
			st_model = 1;
		else if ((w == cmd || w[-1] == ' ') && !memcmp(w, "pge", 3) &&
		         (!w[3] || w[3] == ' '))
			st_pge = 1;
	enable_paging(); /* PSE, WP, identity map of 16 MiB (U|W) */
	if (map_page(TEST_REGION, SCRATCH_FRAME(0), PTE_W)) {
		printf("selftest: no page table for the test region\n");
		return EXIT_FAIL;
	}
	test_pt = (uint32_t *)(rt_page_dir[TEST_REGION >> 22] & ~0xFFFu);
	boot_cr0 = read_cr0();
	boot_cr4 = read_cr4();
	sgdt(&boot_gdtr);
	memcpy(boot_gdt, (void *)boot_gdtr.base, sizeof(boot_gdt));
	memcpy(boot_idt, (void *)rt_idtr.base, sizeof(boot_idt));
	rt_syscall = trap_get_handler(SYSCALL_VEC);

	for (unsigned a = 0; a < sizeof(areas) / sizeof(areas[0]); a++)
		for (const struct check *c = areas[a]; c->name; c++)
			run(c);
	printf("selftest: %u passed, %u failed\n", npass, nfail);
	return nfail ? EXIT_FAIL : EXIT_OK;
}
