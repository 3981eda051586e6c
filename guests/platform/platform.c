/*
 * platform.c: the PC platform a kernel written for QEMU's i386 `pc` machine
 * expects, one PASS/FAIL line per piece: fw_cfg, the CMOS/RTC and its periodic
 * interrupt, the ACPI PM timer, the local APIC (timer one-shot and periodic, a
 * self-IPI, priorities), the I/O APIC routing the PIT, a Multiboot module, data
 * segments with non-zero bases (per-CPU data through GS and FS, a segment limit)
 * and hardware task switches.
 * The same lines under qemu-system-i386 -kernel, tandem's bt and kvm engines.
 * Nothing timing- or host-dependent is printed. The 8259 pair stays masked:
 * every interrupt here comes through the APICs (vectors 0x28-0x2f).
 *
 * Command line: the module is expected with the string "<path> platform-module".
 */
#include "rt.h"

#define LAPIC 0xfee00000u
#define IOAPIC 0xfec00000u
#define VEC_TIMER 0x28
#define VEC_IPI 0x29
#define VEC_IOAPIC 0x2a
#define VEC_RTC 0x2b
#define VEC_SPURIOUS 0x2f

static unsigned npass, nfail;
static volatile uint32_t hits[48];

static void check(int ok, const char *what, const char *detail)
{
	printf("%s: %s%s%s\n", ok ? "PASS" : "FAIL", what, detail[0] ? ": " : "", detail);
	if (ok)
		npass++;
	else
		nfail++;
}

static uint32_t lapic_rd(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC + reg);
}

static void lapic_wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC + reg) = v;
}

static uint32_t ioapic_rd(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC = reg;
	return *(volatile uint32_t *)(IOAPIC + 0x10);
}

static void ioapic_wr(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC = reg;
	*(volatile uint32_t *)(IOAPIC + 0x10) = v;
}

static volatile uint32_t nmis;

static void nmi_handler(struct trapframe *tf)
{
	(void)tf;
	nmis++;
}

static void apic_irq(struct trapframe *tf)
{
	hits[tf->vector]++;
	if (tf->vector == VEC_RTC) { /* acknowledge at the RTC: read register C */
		outb(0x70, 0x0c);
		(void)inb(0x71);
	}
	lapic_wr(0xb0, 0); /* EOI */
}

/* Wait with interrupts on until hits[vec] reaches n or the spin budget runs out. */
static int wait_hits(unsigned vec, uint32_t n)
{
	for (uint32_t spin = 0; spin < 200000000u && hits[vec] < n; spin++) {
		sti();
		__asm__ volatile("pause");
	}
	cli();
	return hits[vec] >= n;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* What QEMU's qemu32 and tandem's p6 share: the vendor, family 6, the P6 features. */
static void test_cpu(void)
{
	const uint32_t p6 =
	    1u | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 9 | 1u << 11 | 1u << 15;
	uint32_t r[4];
	char vendor[13] = {0}, d[96];
	uint64_t t0, t1;

	cpuid(0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	cpuid(1, r);
	snprintf(d, sizeof(d), "%s family %u, FPU PSE TSC MSR CX8 APIC SEP CMOV", vendor,
	         (r[0] >> 8) & 15);
	check(!strcmp(vendor, "GenuineIntel") && ((r[0] >> 8) & 15) == 6 && (r[3] & p6) == p6,
	      "cpuid", d);
	wrmsr(0x174, 0x1234);
	t0 = rdmsr(0x10);
	t1 = rdmsr(0x10);
	snprintf(d, sizeof(d), "APIC_BASE 0x%08x, SYSENTER_CS 0x%x, TSC readable",
	         (uint32_t)rdmsr(0x1b), (uint32_t)rdmsr(0x174));
	check(rdmsr(0x1b) == 0xfee00900u && rdmsr(0x174) == 0x1234 && t1 >= t0, "msrs", d);
	wrmsr(0x174, 0);
}

static uint64_t fwcfg_read(uint16_t key, int len)
{
	uint64_t v = 0;

	outw(0x510, key);
	for (int i = 0; i < len; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

static void test_fwcfg(void)
{
	char sig[5] = {0}, d[96];
	uint64_t ram = fwcfg_read(0x03, 8), cpus = fwcfg_read(0x05, 2);

	outw(0x510, 0);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(0x511);
	snprintf(d, sizeof(d), "signature %s, %u CPU(s), %u MiB", sig, (unsigned)cpus,
	         (unsigned)(ram >> 20));
	check(!strcmp(sig, "QEMU") && cpus == 1 && (ram >> 20) == 64, "fw_cfg", d);
}

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static int bcd_ok(uint8_t v, int lo, int hi)
{
	int n = (v >> 4) * 10 + (v & 15);

	return (v & 15) < 10 && n >= lo && n <= hi;
}

static void test_rtc(void)
{
	uint8_t b = cmos(0x0b), d = cmos(0x0d);
	int ok = bcd_ok(cmos(0x00), 0, 59) && bcd_ok(cmos(0x02), 0, 59) &&
	         bcd_ok(cmos(0x04), 0, 23) && bcd_ok(cmos(0x07), 1, 31) &&
	         bcd_ok(cmos(0x08), 1, 12) && bcd_ok(cmos(0x09), 24, 99) && cmos(0x32) == 0x20;
	char det[80];

	snprintf(det, sizeof(det), "BCD 24-hour time and date, B=0x%02x D=0x%02x", b, d);
	check(ok && b == 0x02 && d == 0x80, "rtc time", det);

	/* Periodic interrupt at 1024 Hz (A = 0x26) on IRQ8, through the I/O APIC pin 8. */
	ioapic_wr(0x10 + 2 * 8, VEC_RTC); /* edge, fixed, physical destination 0 */
	(void)cmos(0x0c);
	outb(0x70, 0x0b);
	outb(0x71, 0x42); /* PIE */
	snprintf(det, sizeof(det), "%s", "");
	check(wait_hits(VEC_RTC, 8), "rtc periodic interrupt", "8 on IRQ8, acknowledged at C");
	outb(0x70, 0x0b);
	outb(0x71, 0x02);
	ioapic_wr(0x10 + 2 * 8, 0x10000);
	(void)cmos(0x0c);
}

static void test_pmtimer(void)
{
	uint32_t a = inl(0x608) & 0xffffff, b = a, spins = 0;

	while (b == a && spins++ < 10000000)
		b = inl(0x608) & 0xffffff;
	check(b != a && ((b - a) & 0xffffff) < 0x800000 && !(inl(0x608) >> 24), "pm timer",
	      "24 bits at 0x608, counting up");
}

static void test_lapic(void)
{
	char d[80];

	snprintf(d, sizeof(d), "version 0x%02x, %u LVT entries, ID %u", lapic_rd(0x30) & 0xff,
	         ((lapic_rd(0x30) >> 16) & 0xff) + 1, lapic_rd(0x20) >> 24);
	check((lapic_rd(0x30) & 0xff) == 0x14, "lapic version", d);
	lapic_wr(0xf0, 0x100 | VEC_SPURIOUS); /* software enable */
	lapic_wr(0x80, 0);

	lapic_wr(0x3e0, 0xb);       /* divide by 1 */
	lapic_wr(0x320, VEC_TIMER); /* one-shot */
	lapic_wr(0x380, 1000000);   /* 1 ms */
	check(wait_hits(VEC_TIMER, 1) && lapic_rd(0x390) == 0, "lapic timer one-shot",
	      "fired once, count 0");
	lapic_wr(0x320, 0x20000 | VEC_TIMER); /* periodic */
	lapic_wr(0x380, 500000);              /* 0.5 ms */
	check(wait_hits(VEC_TIMER, 6), "lapic timer periodic", "5 more periods, EOI each");
	lapic_wr(0x320, 0x10000);
	lapic_wr(0x380, 0);

	lapic_wr(0x310, 0);
	lapic_wr(0x300, 0x40000 | VEC_IPI); /* fixed, shorthand self */
	check(wait_hits(VEC_IPI, 1), "lapic self-IPI", "fixed, shorthand self");

	/* An NMI to ourselves arrives with interrupts off: IF does not gate it. */
	cli();
	lapic_wr(0x300, 0x40000 | 0x400);
	for (volatile int i = 0; i < 100000 && !nmis; i++)
		;
	check(nmis == 1, "lapic self-NMI", "taken with IF=0, once");

	lapic_wr(0x80, 0x30); /* TPR class 3 holds back class-2 vectors */
	lapic_wr(0x300, 0x40000 | VEC_IPI);
	sti();
	for (volatile int i = 0; i < 100000; i++)
		;
	cli();
	{
		uint32_t held =
		    hits[VEC_IPI] == 1 && (lapic_rd(0x200 + 0x10) & (1u << (VEC_IPI - 32)));

		lapic_wr(0x80, 0);
		check(held && wait_hits(VEC_IPI, 2), "lapic task priority",
		      "TPR 0x30 holds vector 0x29 in IRR until lowered");
	}
}

static void test_ioapic(void)
{
	char d[80];
	uint32_t ver = ioapic_rd(1);

	snprintf(d, sizeof(d), "version 0x%02x, %u pins", ver & 0xff, ((ver >> 16) & 0xff) + 1);
	check((ver & 0xff) == 0x20 && ((ver >> 16) & 0xff) == 23, "ioapic version", d);
	/* The PIT's IRQ0 arrives on pin 2 (QEMU's pc wiring), 1 kHz, mode 2. */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	ioapic_wr(0x10 + 2 * 2 + 1, 0);
	ioapic_wr(0x10 + 2 * 2, VEC_IOAPIC);
	check(wait_hits(VEC_IOAPIC, 5), "ioapic routes the PIT", "pin 2, 5 interrupts");
	ioapic_wr(0x10 + 2 * 2, 0x10000);
	outb(0x43, 0x30); /* channel 0 to mode 0 with no count: quiet */
}

/* ---- segmentation: a GDT of the runtime's six entries and the test's own ---- */
#define SEL_PCPU0 0x30 /* base &pcpu[0], 4 GiB (what kvm-unit-tests loads into GS) */
#define SEL_PCPU1 0x38 /* base &pcpu[1], 4 GiB */
#define SEL_SMALL 0x40 /* base &pcpu[2], 16 bytes, byte granular */
#define SEL_STACK 0x60 /* base &seg_stack, 4 GiB: a stack segment with a base */
#define SEL_HIGH 0x68  /* base 0x80000000, 4 GiB: offsets wrap at 4 GiB */

static uint64_t pgdt[16] __attribute__((aligned(16)));
static volatile uint32_t pcpu[3][8] __attribute__((aligned(16)));
static volatile uint32_t gp_count, gp_err, gp_resume;
static volatile uint32_t seg_stack[256] __attribute__((aligned(16)));

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

/* Copy the runtime's GDT into a larger one (the TSS keeps its busy bit) and load it. */
static void gdt_extend(void)
{
	struct dtr d;

	sgdt(&d);
	memcpy(pgdt, (const void *)d.base, d.limit + 1u);
	pgdt[SEL_PCPU0 >> 3] = seg_desc((uint32_t)&pcpu[0], 0xfffff, 0x92, 0xc);
	pgdt[SEL_PCPU1 >> 3] = seg_desc((uint32_t)&pcpu[1], 0xfffff, 0x92, 0xc);
	pgdt[SEL_SMALL >> 3] = seg_desc((uint32_t)&pcpu[2], 15, 0x92, 0x4);
	pgdt[SEL_STACK >> 3] = seg_desc((uint32_t)seg_stack, 0xfffff, 0x92, 0xc);
	pgdt[SEL_HIGH >> 3] = seg_desc(0x80000000u, 0xfffff, 0x92, 0xc);
	d.base = (uint32_t)pgdt;
	d.limit = sizeof(pgdt) - 1;
	__asm__ volatile("lgdt %0" : : "m"(d));
}

static void on_gp(struct trapframe *tf)
{
	gp_count++;
	gp_err = tf->err;
	tf->eip = gp_resume;
}

static void test_segments(void)
{
	uint32_t a, b, c, i = 3;
	char d[96];

	pcpu[0][2] = 0x600d0000u;
	pcpu[0][3] = 0x600d0003u;
	pcpu[1][2] = 0xf5000002u;
	/* GS then FS with per-CPU bases: stores, loads, base+index, read-modify-write */
	__asm__ volatile("movw %w[s0], %%gs\n\t"
	                 "movw %w[s1], %%fs\n\t"
	                 "movl $0x11223344, %%gs:4\n\t"
	                 "movl $0x55667788, %%fs:4\n\t"
	                 "movl %%gs:8, %[a]\n\t"
	                 "movl %%gs:(,%[i],4), %[b]\n\t"
	                 "addl %%fs:8, %[b]\n\t"
	                 "incl %%fs:8\n\t"
	                 "movl %%fs:8, %[c]\n\t"
	                 "movw %w[k], %%gs\n\t"
	                 "movw %w[k], %%fs"
	                 : [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c)
	                 : [s0] "r"(SEL_PCPU0), [s1] "r"(SEL_PCPU1), [i] "r"(i), [k] "r"(SEL_KDATA)
	                 : "memory");
	snprintf(d, sizeof(d), "gs:8 0x%08x gs:12 0x%08x fs:8+1 0x%08x", a, b, c);
	check(a == 0x600d0000u && b == 0x600d0003u + 0xf5000002u && c == 0xf5000003u &&
	          pcpu[0][1] == 0x11223344u && pcpu[1][1] == 0x55667788u &&
	          pcpu[1][2] == 0xf5000003u,
	      "per-CPU data through GS and FS", d);

	/* A base of 2 GiB: base + offset wraps at 4 GiB, to the same per-CPU words */
	__asm__ volatile(
	    "movw %w[h], %%gs\n\t"
	    "movl %%gs:(%[p]), %[a]\n\t"
	    "movl %%gs:4(%[p]), %[b]\n\t"
	    "movl $0x77665544, %%gs:8(%[p])\n\t"
	    "movw %w[k], %%gs"
	    : [a] "=&r"(a), [b] "=&r"(b)
	    : [h] "r"(SEL_HIGH), [p] "r"((uint32_t)&pcpu[0][2] + 0x80000000u), [k] "r"(SEL_KDATA)
	    : "memory");
	snprintf(d, sizeof(d), "gs:(&pcpu + 2 GiB) 0x%08x, 4 more 0x%08x, stored 0x%08x", a, b,
	         pcpu[0][4]);
	check(a == 0x600d0000u && b == 0x600d0003u && pcpu[0][4] == 0x77665544u,
	      "segment base wrapping at 4 GiB", d);

	/* ES as a string destination, GS as an overridden source: rep stosb, gs movsl */
	pcpu[1][5] = 0x1234abcdu;
	__asm__ volatile("pushl %%es\n\t"
	                 "movw %w[s0], %%es\n\t"
	                 "movw %w[s1], %%gs\n\t"
	                 "movl $16, %%edi\n\t"
	                 "movl $4, %%ecx\n\t"
	                 "movb $0x5a, %%al\n\t"
	                 "cld\n\t"
	                 "rep stosb\n\t"
	                 "movl $20, %%esi\n\t"
	                 "gs movsl\n\t"
	                 "movw %w[k], %%gs\n\t"
	                 "popl %%es"
	                 :
	                 : [s0] "r"(SEL_PCPU0), [s1] "r"(SEL_PCPU1), [k] "r"(SEL_KDATA)
	                 : "eax", "ecx", "esi", "edi", "memory");
	pcpu[1][6] = 0x0000c300u;
	__asm__ volatile("movw %w[s1], %%fs\n\t"
	                 "fs xlat\n\t"
	                 "movw %w[k], %%fs"
	                 : "=a"(a)
	                 : "a"(1), "b"(24), [s1] "r"(SEL_PCPU1), [k] "r"(SEL_KDATA)
	                 : "memory");
	snprintf(d, sizeof(d), "rep stosb to es:edi 0x%08x, gs movsl 0x%08x, fs xlat 0x%02x",
	         pcpu[0][4], pcpu[0][5], a & 0xff);
	check(pcpu[0][4] == 0x5a5a5a5au && pcpu[0][5] == 0x1234abcdu && (a & 0xff) == 0xc3,
	      "string instructions with segment bases", d);

	/* SS with a base: push, call, an ESP-relative load, ret, pop (interrupts are off) */
	__asm__ volatile("movl %%esp, %%edi\n\t"
	                 "movw %w[ss], %%ss\n\t"
	                 "movl $1024, %%esp\n\t"
	                 "pushl $0x5151\n\t"
	                 "call 2f\n\t"
	                 "jmp 3f\n"
	                 "2:\n\t"
	                 "movl 4(%%esp), %%eax\n\t"
	                 "ret\n"
	                 "3:\n\t"
	                 "popl %%ecx\n\t"
	                 "movw %w[k], %%ss\n\t"
	                 "movl %%edi, %%esp"
	                 : "=&a"(a), "=&c"(c)
	                 : [ss] "r"(SEL_STACK), [k] "r"(SEL_KDATA)
	                 : "edi", "memory");
	snprintf(d, sizeof(d), "ss:1020 0x%08x, [esp+4] 0x%08x, pop 0x%08x", seg_stack[255], a, c);
	check(seg_stack[255] == 0x5151u && a == 0x5151u && c == 0x5151u && seg_stack[254] != 0,
	      "stack segment with a base", d);

	/* An override past a 16-byte segment's limit: #GP(0) (SDM Vol 3 5.3) */
	pcpu[2][3] = 0x71717171u;
	gp_count = 0;
	b = 0;
	__asm__ volatile("pushl %%es\n\t"
	                 "movw %w[sm], %%es\n\t"
	                 "movl %%es:12, %[a]\n\t"
	                 "movl $1f, %[res]\n\t"
	                 "movl %%es:14, %[b]\n"
	                 "1:\n\t"
	                 "popl %%es"
	                 : [a] "=&r"(a), [b] "+r"(b), [res] "=m"(gp_resume)
	                 : [sm] "r"(SEL_SMALL)
	                 : "memory");
	if (gp_count == 0 && a == 0x71717171u) {
		/* QEMU's TCG checks no data segment limits: the SDM decides, this notes it */
		printf("NOTE: segment limit: es:14 read without a fault (QEMU's TCG does not "
		       "check data segment limits; the SDM raises #GP(0))\n");
		return;
	}
	snprintf(d, sizeof(d), "es:12 0x%08x, es:14 %s err 0x%x", a,
	         gp_count == 1 ? "#GP" : "no fault", gp_err);
	check(a == 0x71717171u && gp_count == 1 && gp_err == 0, "segment limit", d);
}

/* ---- hardware task switches: a second task entered through a task gate and a far call ---- */
#define SEL_TASK 0x48  /* TSS of the second task */
#define SEL_TGATE 0x50 /* a task gate in the GDT for it */
#define VEC_TASK 0x40  /* a task gate in the IDT for it */

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
};

/* A ring-0 task starting at eip on stack, in the current address space; its
 * available 32-bit TSS descriptor goes into the GDT at sel. */
static void task_init(struct tss32 *t, uint32_t eip, void *stack, uint16_t sel)
{
	t->eip = eip;
	t->esp = (uint32_t)stack;
	t->eflags = 0x2;
	t->cs = SEL_KCODE;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_KDATA;
	t->cr3 = read_cr3();
	t->iomap_base = sizeof(*t);
	pgdt[sel >> 3] = seg_desc((uint32_t)t, sizeof(*t) - 1, 0x89, 0);
}

static struct tss32 task_tss __attribute__((aligned(128)));
static uint32_t task_stack[1024] __attribute__((aligned(16)));
static volatile uint32_t task_runs, task_link, task_eflags;

/* The second task: each entry records how it was entered, then iret returns to the caller. */
static void __attribute__((noreturn, used)) task_main(void)
{
	for (;;) {
		uint32_t f;

		__asm__ volatile("pushfl; popl %0" : "=r"(f));
		task_runs++;
		task_link = task_tss.link;
		task_eflags = f;
		__asm__ volatile("iret" : : : "memory");
	}
}

static volatile uint32_t nm_count;

/* #NM: the lazy FPU switch of a kernel: clear TS, the x87 instruction runs again. */
static void on_nm(struct trapframe *tf)
{
	(void)tf;
	nm_count++;
	__asm__ volatile("clts");
}

static void __attribute__((noinline)) x87_touch(void)
{
	__asm__ volatile("fninit");
}

static uint32_t desc_type(uint16_t sel)
{
	return (uint32_t)(pgdt[sel >> 3] >> 40) & 0xf;
}

static void test_tasks(void)
{
	uint32_t *idt = (uint32_t *)rt_idtr.base, cr0, ts_int, ts_far;
	char d[128];

	task_init(&task_tss, (uint32_t)task_main, &task_stack[1023], SEL_TASK);
	pgdt[SEL_TGATE >> 3] = (uint64_t)SEL_TASK << 16 | (uint64_t)0x85 << 40;
	idt[VEC_TASK * 2] = (uint32_t)SEL_TASK << 16;
	idt[VEC_TASK * 2 + 1] = 0x8500;

	/* int to a task gate in the IDT; the task irets back (NT set, link = our TSS) */
	trap_set_handler(7, on_nm);
	__asm__ volatile("clts");
	x87_touch(); /* TS clear: no #NM */
	__asm__ volatile("int %0" : : "i"(VEC_TASK) : "memory");
	cr0 = read_cr0();
	ts_int = task_runs;
	x87_touch(); /* TS set by the switch: #NM once */
	snprintf(d, sizeof(d),
	         "ran %u time(s), link 0x%x, NT %u, CR0.TS %u, types 0x%x/0x%x, x87 then #NM %u",
	         ts_int, task_link, !!(task_eflags & 0x4000), !!(cr0 & 8), desc_type(SEL_TSS),
	         desc_type(SEL_TASK), nm_count);
	check(ts_int == 1 && task_link == SEL_TSS && (task_eflags & 0x4000) && (cr0 & 8) &&
	          desc_type(SEL_TSS) == 0xb && desc_type(SEL_TASK) == 0x9 && nm_count == 1,
	      "task switch through an IDT task gate", d);
	trap_set_handler(7, NULL);

	/* lcall to the TSS, then to a GDT task gate: the task goes on after its iret */
	__asm__ volatile("clts; lcall %0, $0" : : "i"(SEL_TASK) : "memory");
	__asm__ volatile("lcall %0, $0" : : "i"(SEL_TGATE) : "memory");
	cr0 = read_cr0();
	ts_far = task_runs;
	__asm__ volatile("clts");
	snprintf(d, sizeof(d), "ran %u time(s), link 0x%x, CR0.TS %u, types 0x%x/0x%x", ts_far,
	         task_link, !!(cr0 & 8), desc_type(SEL_TSS), desc_type(SEL_TASK));
	check(ts_far == 3 && task_link == SEL_TSS && (cr0 & 8) && desc_type(SEL_TSS) == 0xb &&
	          desc_type(SEL_TASK) == 0x9,
	      "task switch by lcall to a TSS and a task gate", d);
}

/* ---- a double fault through a task gate, as real kernels handle #DF ---- */
#define SEL_DFTASK 0x58

static struct tss32 df_tss __attribute__((aligned(128)));
static uint32_t df_stack[1024] __attribute__((aligned(16)));
volatile uint32_t platform_df_err, platform_df_runs, platform_df_link, platform_df_resume;
void platform_df_body(void);

/* The #DF task: pop the error code, let C repair the faulting task, iret back to it. */
__asm__(".text\n"
        "platform_df_entry:\n\t"
        "popl platform_df_err\n\t"
        "call platform_df_body\n\t"
        "iret\n\t"
        "jmp platform_df_entry\n");
extern char platform_df_entry[];

/* The faulting task resumes past its fault; vector 0's gate is present again. */
void platform_df_body(void)
{
	uint16_t link = (uint16_t)df_tss.link;
	uint64_t d = pgdt[link >> 3];
	struct tss32 *old = (struct tss32 *)(uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) << 24));
	uint32_t *idt = (uint32_t *)rt_idtr.base;

	platform_df_runs++;
	platform_df_link = link;
	old->eip = platform_df_resume;
	idt[1] |= 0x8000u;
}

static void test_double_fault_task(void)
{
	uint32_t *idt = (uint32_t *)rt_idtr.base, saved[2] = {idt[16], idt[17]};
	char d[128];

	task_init(&df_tss, (uint32_t)platform_df_entry, &df_stack[1023], SEL_DFTASK);
	idt[16] = (uint32_t)SEL_DFTASK << 16; /* vector 8: a task gate */
	idt[17] = 0x8500;
	idt[1] &= ~0x8000u; /* #DE's gate not present: #DE, then #NP delivering it: #DF */
	__asm__ volatile("movl $1f, %0\n\t"
	                 "xorl %%eax, %%eax\n\t"
	                 "xorl %%edx, %%edx\n\t"
	                 "xorl %%ecx, %%ecx\n\t"
	                 "divl %%ecx\n"
	                 "1:"
	                 : "=m"(platform_df_resume)
	                 :
	                 : "eax", "ecx", "edx", "memory");
	idt[16] = saved[0];
	idt[17] = saved[1];
	__asm__ volatile("clts");
	snprintf(d, sizeof(d), "ran %u time(s), error code %u, link 0x%x, types 0x%x/0x%x",
	         platform_df_runs, platform_df_err, platform_df_link, desc_type(SEL_TSS),
	         desc_type(SEL_DFTASK));
	check(platform_df_runs == 1 && platform_df_err == 0 && platform_df_link == SEL_TSS &&
	          desc_type(SEL_TSS) == 0xb && desc_type(SEL_DFTASK) == 0x9 && (idt[1] & 0x8000u),
	      "double fault through a task gate", d);
}

static int kbc_read(void)
{
	for (int i = 0; i < 100000; i++)
		if (inb(0x64) & 1)
			return inb(0x60);
	return -1;
}

static void test_i8042(void)
{
	int self, iface, echo;
	char d[80];

	while (inb(0x64) & 1) /* drain what the firmware left */
		(void)inb(0x60);
	outb(0x64, 0xaa);
	self = kbc_read();
	outb(0x64, 0xab);
	iface = kbc_read();
	outb(0x64, 0xd2); /* write to the keyboard's output buffer: it comes back */
	outb(0x60, 0x5a);
	echo = kbc_read();
	snprintf(d, sizeof(d), "self-test 0x%02x, keyboard interface 0x%02x, echo 0x%02x", self,
	         iface, echo);
	check(self == 0x55 && iface == 0 && echo == 0x5a, "i8042", d);
}

static void test_module(struct multiboot_info *mbi)
{
	const uint32_t *m = (const uint32_t *)mbi->mods_addr;
	const char *s, *args = "";
	uint32_t sum = 0;
	char d[96];

	if (!(mbi->flags & (1u << 3)) || mbi->mods_count != 1) {
		check(0, "multiboot module", "none passed (want one)");
		return;
	}
	s = (const char *)m[2];
	for (const char *p = s; *p; p++)
		if (*p == ' ')
			args = p + 1;
	for (uint32_t a = m[0]; a < m[1]; a++)
		sum = sum * 31 + *(const uint8_t *)a;
	snprintf(d, sizeof(d), "%u bytes, hash 0x%08x, args '%s'", m[1] - m[0], sum, args);
	check(!(m[0] & 0xfff) && m[0] > mbi->mods_addr, "multiboot module", d);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	for (unsigned v = VEC_TIMER; v <= VEC_SPURIOUS; v++)
		trap_set_handler(v, apic_irq);
	trap_set_handler(2, nmi_handler);
	printf("platform: the PC devices of QEMU's pc machine\n");
	test_cpu();
	test_fwcfg();
	test_pmtimer();
	test_lapic();
	test_ioapic();
	test_rtc();
	test_i8042();
	test_module(mbi);
	gdt_extend();
	trap_set_handler(13, on_gp);
	test_segments();
	test_tasks();
	test_double_fault_task();
	printf("platform: %u passed, %u failed\n", npass, nfail);
	return nfail ? EXIT_FAIL : EXIT_OK;
}
