/* hello.c: the smoke-test guest: boot info, descriptors, paging/PSE, #DE, #PF, ring 3, timer. */
#include "rt.h"

#define PSE_ALIAS_VA 0x40000000u /* 4 MiB page -> physical 0x00400000 */
#define PSE_PHYS 0x00400000u
#define PF_VA 0x30000000u /* unmapped until the #PF handler maps it */
#define USER_EXIT_OK 7
#define TIMER_TICKS 5

static uint32_t pf_page[1024] __attribute__((aligned(4096)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));

/* Fault-test state shared with the handlers. */
static volatile uint32_t fault_at, resume_at, faults, pf_cr2, pf_err;
static volatile int pf_mode; /* 0: map the page and retry; 1: skip to resume_at */
static volatile uint32_t timer_bad_if;

static void fail(int code, const char *what) RT_NORETURN;
static void fail(int code, const char *what)
{
	printf("hello: FAIL %s\n", what);
	guest_exit((uint32_t)code);
}

static void check_boot(uint32_t magic, struct multiboot_info *mbi)
{
	if (magic != MB_BOOT_MAGIC || !mbi)
		fail(1, "multiboot magic");
	if (!(mbi->flags & MBI_FLAG_MEM))
		fail(1, "multiboot: no mem_upper");
	const char *cmd =
	    (mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline ? (const char *)mbi->cmdline : "";
	/* The command line starts with the kernel's path (QEMU, GRUB, tandem): print the rest. */
	while (*cmd && *cmd != ' ')
		cmd++;
	while (*cmd == ' ')
		cmd++;
	printf("tandem hello: multiboot ok, mem_upper=%u KiB, args='%s'\n", mbi->mem_upper, cmd);
}

static void check_descriptors(void)
{
	struct dtr g, i;

	sgdt(&g);
	sidt(&i);
	if (g.limit != 6 * 8 - 1 || i.limit != 256 * 8 - 1 || i.base != rt_idtr.base)
		fail(2, "gdt/idt: sgdt/sidt readback");
	if (read_cs() != SEL_KCODE || read_ds() != SEL_KDATA || read_ss() != SEL_KDATA)
		fail(2, "gdt: segment selectors");
	printf("gdt/idt/tss: ok\n");
}

static void check_paging(void)
{
	volatile uint32_t *ident = (volatile uint32_t *)PSE_PHYS;
	volatile uint32_t *alias = (volatile uint32_t *)PSE_ALIAS_VA;
	const uint32_t last = (PSE_SIZE - 4) / 4; /* last word of the 4 MiB page */

	enable_paging();
	if (!(read_cr0() & CR0_PG) || !(read_cr4() & CR4_PSE))
		fail(3, "paging: CR0.PG/CR4.PSE not set");
	if (map_pse(PSE_ALIAS_VA, PSE_PHYS, PTE_W))
		fail(3, "paging: map_pse");
	ident[0] = 0x5EA15EA1;
	ident[last] = 0xA11A5000;
	if (alias[0] != 0x5EA15EA1 || alias[last] != 0xA11A5000)
		fail(3, "paging: PSE alias read");
	alias[1] = 0x0DDBA11;
	if (ident[1] != 0x0DDBA11)
		fail(3, "paging: PSE alias write");
	printf("paging: on (4 KiB pages + one 4 MiB PSE page), PSE alias ok\n");
}

static void de_handler(struct trapframe *tf)
{
	faults++;
	if (tf->eip != fault_at)
		fail(4, "#DE: wrong eip");
	tf->eip = resume_at;
	tf->eax = 0x600D; /* a handler may rewrite registers */
}

static void check_divide(void)
{
	uint32_t lo = 1000, hi = 0;

	trap_set_handler(0, de_handler);
	__asm__ volatile("movl $1f, %[at]\n\t"
	                 "movl $2f, %[res]\n"
	                 "1:\tdivl %[d]\n"
	                 "2:"
	                 : [at] "=m"(fault_at), [res] "=m"(resume_at), "+a"(lo), "+d"(hi)
	                 : [d] "r"(0u));
	trap_set_handler(0, NULL);
	if (faults != 1 || lo != 0x600D)
		fail(4, "#DE: handler did not run once");
	printf("#DE: caught divide error at expected eip, resumed\n");
}

static void pf_handler(struct trapframe *tf)
{
	pf_cr2 = read_cr2();
	pf_err = tf->err;
	if (++faults > 1)
		fail(5, "#PF: fault repeated");
	if (pf_mode == 0) {
		if (map_page(PF_VA, (uint32_t)pf_page, PTE_W))
			fail(5, "#PF: map_page");
	} else {
		tf->eip = resume_at;
	}
}

static void check_page_fault(void)
{
	volatile uint32_t *p = (volatile uint32_t *)PF_VA;
	uint32_t v = 0;

	trap_set_handler(14, pf_handler);
	faults = 0;
	pf_mode = 0;
	*p = 0xC0FFEE; /* faults, gets mapped, retries */
	if (faults != 1 || pf_cr2 != PF_VA || (pf_err & 7) != 2 ||
	    ((volatile uint32_t *)pf_page)[0] != 0xC0FFEE)
		fail(5, "#PF: not-present write");
	printf("#PF: caught page fault, cr2=0x%08x err=0x%x (not-present write), resumed\n", pf_cr2,
	       pf_err);

	/* After unmap + invlpg the stale translation must be gone: a read faults. */
	unmap_page(PF_VA);
	faults = 0;
	pf_mode = 1;
	__asm__ volatile("movl $1f, %[at]\n\t"
	                 "movl $2f, %[res]\n"
	                 "1:\tmovl (%[p]), %[v]\n"
	                 "2:"
	                 : [at] "=m"(fault_at), [res] "=m"(resume_at), [v] "+r"(v)
	                 : [p] "r"(PF_VA)
	                 : "memory");
	trap_set_handler(14, NULL);
	if (faults != 1 || pf_cr2 != PF_VA || (pf_err & 7) != 0 || v != 0)
		fail(5, "#PF: read after unmap_page");
	printf("invlpg: unmapped page faults again, err=0x%x (not-present read)\n", pf_err);
}

/* Ring 3: everything here must go through int 0x80. */
static int user_main(void)
{
	static const char msg[] = "ring 3: entered, int 0x80 write works\n";
	char buf[64];

	if ((read_cs() & 3) != 3)
		return 10;
	if (sys_write(msg, sizeof(msg) - 1) != (int32_t)sizeof(msg) - 1)
		return 11;
	int32_t a = sys_inc(41), b = sys_inc(42), c = sys_inc(43);
	int n = snprintf(buf, sizeof(buf), "syscall: 3 calls returned %d, %d, %d\n", (int)a, (int)b,
	                 (int)c);
	sys_write(buf, (uint32_t)n);
	if (a != 42 || b != 43 || c != 44)
		return 12;
	return USER_EXIT_OK;
}

static void check_user(void)
{
	int st = enter_user(user_main, user_stack + sizeof(user_stack), 1);

	if (st != USER_EXIT_OK) {
		printf("hello: ring 3 returned status %d\n", st);
		fail(6, "ring 3");
	}
	if (read_cs() != SEL_KCODE || read_ds() != SEL_KDATA || (read_eflags() & EFLAGS_IF))
		fail(6, "ring 3: kernel state after SYS_exit");
}

static void hello_timer(struct trapframe *tf)
{
	/* Interrupted code had IF=1; an interrupt gate cleared it for us. */
	if (!(tf->eflags & EFLAGS_IF) || (read_eflags() & EFLAGS_IF))
		timer_bad_if++;
	timer_irq(tf);
}

static void check_timer(void)
{
	timer_start(100);
	trap_set_handler(IRQ_BASE + 0, hello_timer);
	sti();
	while (timer_ticks < TIMER_TICKS)
		hlt(); /* the timer is periodic: a tick lost to the check/hlt race is harmless */
	cli();
	timer_stop();
	if (timer_bad_if)
		fail(7, "timer: IF wrong in or before the handler");
	printf("timer: %d ticks received with IF=1\n", TIMER_TICKS);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	check_boot(magic, mbi);
	check_descriptors();
	check_paging();
	check_divide();
	check_page_fault();
	check_user();
	check_timer();
	printf("hello: all ok\n");
	return EXIT_OK;
}
