/*
 * platform.c: the PC platform a kernel written for QEMU's i386 `pc` machine
 * expects, one PASS/FAIL line per piece: fw_cfg, the CMOS/RTC and its periodic
 * interrupt, the ACPI PM timer, the local APIC (timer one-shot and periodic, a
 * self-IPI, priorities), the I/O APIC routing the PIT, and a Multiboot module.
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
	const uint32_t p6 = 1u | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 9 | 1u << 11 | 1u << 15;
	uint32_t r[4];
	char vendor[13] = { 0 }, d[96];
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
	printf("platform: the PC devices of QEMU's pc machine\n");
	test_cpu();
	test_fwcfg();
	test_pmtimer();
	test_lapic();
	test_ioapic();
	test_rtc();
	test_i8042();
	test_module(mbi);
	printf("platform: %u passed, %u failed\n", npass, nfail);
	return nfail ? EXIT_FAIL : EXIT_OK;
}
