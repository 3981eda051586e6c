/* check_platform.c: fw_cfg, the CMOS/RTC (fake clocks) and the ACPI PM timer on a port bus. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "bus.h"
#include "check_suites.h"
#include "cpumodel.h"
#include "fwcfg.h"
#include "i8042.h"
#include "pic8259.h"
#include "pmtimer.h"
#include "rtc.h"
#include "check_io.h"

static struct bus ports;
static struct pic pic;
static struct fwcfg fw;
static struct rtc rtc;
static struct pmtimer pm;
static uint64_t fake_ns, fake_wall;

CHECK_PORT_HELPERS(ports)

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_ns;
}

static uint64_t fake_wall_s(void *ctx)
{
	(void)ctx;
	return fake_wall;
}

static void setup(void)
{
	fake_ns = 5000000000ULL;
	fake_wall = 1767225599; /* 2025-12-31 23:59:59 UTC, a Wednesday */
	bus_init(&ports, "port");
	pic_init(&pic);
	fwcfg_init(&fw, 64ULL << 20, 1);
	rtc_init(&rtc, &pic, 64ULL << 20, fake_clock, fake_wall_s, NULL);
	pmtimer_init(&pm, fake_clock, NULL);
	ck_assert_int_eq(pic_register(&pic, &ports), 0);
	ck_assert_int_eq(fwcfg_register(&fw, &ports), 0);
	ck_assert_int_eq(rtc_register(&rtc, &ports), 0);
	ck_assert_int_eq(pmtimer_register(&pm, &ports), 0);
	CHECK_PIC_REMAP();
}

static void select_item(uint16_t key)
{
	uint64_t v = key;

	ck_assert_int_eq(bus_access(&ports, FWCFG_PORT_SEL, 2, true, &v), 0);
}

static uint64_t read_le(int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v |= (uint64_t)inb(FWCFG_PORT_DATA) << (8 * i);
	return v;
}

START_TEST(test_fwcfg_items)
{
	char sig[5] = {0};

	select_item(FWCFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FWCFG_PORT_DATA);
	ck_assert_str_eq(sig, "QEMU");
	select_item(FWCFG_ID);
	ck_assert_uint_eq(read_le(4), 1);
	select_item(FWCFG_RAM_SIZE);
	ck_assert_uint_eq(read_le(8), 64ULL << 20);
	select_item(FWCFG_NB_CPUS);
	ck_assert_uint_eq(read_le(2), 1);
	select_item(FWCFG_MAX_CPUS);
	ck_assert_uint_eq(read_le(2), 1);
	select_item(0x1234); /* unknown keys read zeros, not the open bus's all-ones */
	ck_assert_uint_eq(read_le(4), 0);
}
END_TEST

START_TEST(test_fwcfg_files)
{
	uint8_t dir[4 + 64];

	ck_assert_int_eq(fwcfg_add_file(&fw, "etc/tandem/hello", "hi!", 3), 0);
	select_item(FWCFG_FILE_DIR);
	for (unsigned i = 0; i < sizeof(dir); i++)
		dir[i] = inb(FWCFG_PORT_DATA);
	ck_assert_uint_eq(dir[3], 1);                  /* count, big-endian */
	ck_assert_uint_eq(dir[7], 3);                  /* size */
	ck_assert_uint_eq(dir[8] << 8 | dir[9], 0x20); /* select */
	ck_assert_str_eq((char *)dir + 12, "etc/tandem/hello");
	select_item(0x20);
	ck_assert_uint_eq(read_le(3), 'h' | 'i' << 8 | '!' << 16);
	ck_assert_int_eq(fwcfg_add_file(&fw, "x", "", 1000), -E2BIG);
}
END_TEST

static uint8_t cmos(uint8_t idx)
{
	outb(0x70, idx);
	return inb(0x71);
}

static void cmos_set(uint8_t idx, uint8_t v)
{
	outb(0x70, idx);
	outb(0x71, v);
}

START_TEST(test_rtc_time_bcd_and_binary)
{
	ck_assert_uint_eq(cmos(0x00), 0x59);
	ck_assert_uint_eq(cmos(0x02), 0x59);
	ck_assert_uint_eq(cmos(0x04), 0x23);
	ck_assert_uint_eq(cmos(0x06), 0x04); /* Wednesday: Sunday is 1 */
	ck_assert_uint_eq(cmos(0x07), 0x31);
	ck_assert_uint_eq(cmos(0x08), 0x12);
	ck_assert_uint_eq(cmos(0x09), 0x25);
	ck_assert_uint_eq(cmos(0x32), 0x20);
	fake_wall++; /* the year rolls over */
	ck_assert_uint_eq(cmos(0x09), 0x26);
	ck_assert_uint_eq(cmos(0x04), 0x00);
	cmos_set(RTC_REG_B, 0x06); /* binary, 24 h */
	ck_assert_uint_eq(cmos(0x09), 26);
	cmos_set(RTC_REG_B, 0x04); /* binary, 12 h: midnight is 12 AM */
	ck_assert_uint_eq(cmos(0x04), 12);
	cmos_set(0x04, 0x80 | 3); /* set 3 PM */
	ck_assert_uint_eq(cmos(0x04), 0x80 | 3);
	cmos_set(RTC_REG_B, 0x06);
	ck_assert_uint_eq(cmos(0x04), 15);
	ck_assert_uint_eq(cmos(0x15) | cmos(0x16) << 8, 640);
	ck_assert_uint_eq(cmos(0x34) | cmos(0x35) << 8, (64 - 16) * 16);
	ck_assert_uint_eq(cmos(RTC_REG_D), 0x80);
}
END_TEST

START_TEST(test_rtc_periodic)
{
	ck_assert_uint_eq(rtc_period_ns(0x26), 976562);              /* 1024 Hz */
	ck_assert_uint_eq(rtc_period_ns(0x2f), 500000000);           /* 2 Hz */
	ck_assert_uint_eq(rtc_period_ns(0x21), rtc_period_ns(0x28)); /* 256 Hz */
	ck_assert_uint_eq(rtc_next_deadline(&rtc), 0);               /* PIE off */
	cmos_set(RTC_REG_A, 0x2f);
	cmos_set(RTC_REG_B, 0x42); /* PIE */
	ck_assert_uint_eq(rtc_next_deadline(&rtc), fake_ns + 500000000);
	rtc_update(&rtc);
	ck_assert(!pic_pending(&pic));
	fake_ns += 500000000;
	rtc_update(&rtc);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x28);   /* IRQ8: the slave's line 0, at 0x28 */
	ck_assert_uint_eq(cmos(RTC_REG_C), 0xc0); /* IRQF | PF, cleared by the read */
	ck_assert_uint_eq(cmos(RTC_REG_C), 0x00);
	ck_assert_uint_eq(rtc.irqs, 1);
	fake_ns += 3 * 500000000ULL; /* three periods late: one edge, coalesced */
	rtc_update(&rtc);
	ck_assert_uint_eq(rtc.irqs, 2);
	outb(0x70, 0x80 | RTC_REG_C); /* the NMI-mask bit rides on the index port */
	ck_assert(rtc.nmi_masked);
}
END_TEST

/* Linux's mc146818_set_time: SET, the bytes one by one, SET cleared (fake now: Dec 31). */
START_TEST(test_rtc_set_clock)
{
	fake_wall -= 31 * 86400;   /* 2025-11-30: a month with 30 days */
	cmos_set(RTC_REG_B, 0x82); /* SET, 24 h, BCD */
	cmos_set(0x00, 0x00);
	cmos_set(0x02, 0x00);
	cmos_set(0x04, 0x12);
	ck_assert_uint_eq(cmos(0x04), 0x12); /* frozen: the written byte reads back */
	cmos_set(0x07, 0x31);                /* "Nov 31" while the month is still 11 */
	cmos_set(0x08, 0x01);
	cmos_set(0x09, 0x27);
	cmos_set(RTC_REG_B, 0x02);
	ck_assert_uint_eq(cmos(0x07), 0x31);
	ck_assert_uint_eq(cmos(0x08), 0x01);
	ck_assert_uint_eq(cmos(0x09), 0x27);
	ck_assert_uint_eq(cmos(0x04), 0x12);
	cmos_set(0x08, 0x13); /* an invalid month, set directly: ignored */
	ck_assert_uint_eq(cmos(0x08), 0x01);
}
END_TEST

/* Rewriting B with PIE on does not restart the period (QEMU, the datasheet). */
START_TEST(test_rtc_b_rewrite_keeps_phase)
{
	cmos_set(RTC_REG_A, 0x2f); /* 2 Hz */
	cmos_set(RTC_REG_B, 0x42);
	for (int i = 0; i < 10; i++) {
		fake_ns += 100000000; /* 0.1 s */
		cmos_set(RTC_REG_B, 0x42);
		rtc_update(&rtc);
	}
	ck_assert_uint_eq(rtc.irqs, 2);
	cmos_set(RTC_REG_B, 0x02); /* PIE off: IRQ8 drops */
	(void)pic_ack(&pic);
	ck_assert(!pic_pending(&pic));
}
END_TEST

START_TEST(test_pmtimer)
{
	uint64_t v;

	ck_assert_uint_eq(pmtimer_read(&pm), 0);
	fake_ns += 1000000000ULL;
	ck_assert_int_eq(bus_access(&ports, PMTIMER_PORT, 4, false, &v), 0);
	ck_assert_uint_eq(v, PMTIMER_HZ & 0xffffff);
	fake_ns += 5ULL * 1000000000ULL; /* wraps at 2^24 (~4.7 s) */
	ck_assert_uint_eq(pmtimer_read(&pm), (6 * PMTIMER_HZ) & 0xffffff);
}
END_TEST

START_TEST(test_cpu_models)
{
	const struct cpu_model *p6 = cpu_model_find("p6"), *max = cpu_model_find("max");
	uint32_t r[4], hi[4];
	uint32_t leaves[16];
	uint64_t v;

	ck_assert_ptr_eq(cpu_model_default(), p6);
	ck_assert_ptr_null(cpu_model_find("pentium4"));
	cpu_model_cpuid(p6, 0, 0, r);
	ck_assert_uint_eq(r[0], 2);
	ck_assert_mem_eq(&r[1], "Genu", 4);
	ck_assert_mem_eq(&r[3], "ineI", 4);
	ck_assert_mem_eq(&r[2], "ntel", 4);
	cpu_model_cpuid(p6, 1, 0, r);
	ck_assert_uint_eq(r[0], 0x633);
	ck_assert_uint_eq(r[3] & (1u << 11), 1u << 11); /* SEP: valid from model 3 stepping 3 */
	ck_assert_uint_eq(r[3] & (1u << 13), 0);        /* p6 has no PGE; max has */
	cpu_model_cpuid(p6, 2, 0, hi);
	cpu_model_cpuid(p6, 7, 0, r); /* above the maximum: the highest basic leaf */
	ck_assert_mem_eq(r, hi, sizeof(r));
	cpu_model_cpuid(p6, 0x80000000u, 0, r);
	ck_assert_mem_eq(r, hi, sizeof(r));
	cpu_model_cpuid(max, 0x80000000u, 0, r);
	ck_assert_uint_eq(r[0], 0x80000004u);
	cpu_model_cpuid(max, 0x80000002u, 0, r);
	ck_assert_mem_eq(r, "tandem virtual C", 16);
	ck_assert_int_eq(cpu_model_leaves(p6, leaves, 16), 3);
	ck_assert_int_eq(cpu_model_leaves(max, leaves, 16), 8);
	ck_assert_int_eq(cpu_model_msr(p6, 0x1a0, &v), -1);
	ck_assert_int_eq(cpu_model_msr(max, 0x1a0, &v), 0);
	ck_assert_int_eq(cpu_model_msr(p6, 0xc0010000u, &v), -1); /* AMD perf: #GP */
}
END_TEST

static int resets;

static void on_reset(void *opaque)
{
	(void)opaque;
	resets++;
}

START_TEST(test_i8042)
{
	struct i8042 k;

	i8042_init(&k, &pic, on_reset, NULL);
	ck_assert_int_eq(i8042_register(&k, &ports), 0);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	outb(0x64, 0xaa);
	ck_assert_uint_eq(inb(0x64) & 0x05, 0x05); /* OBF, and SYS after the self-test */
	ck_assert_uint_eq(inb(0x60), 0x55);
	outb(0x64, 0x60); /* write the command byte */
	outb(0x60, 0x47);
	outb(0x64, 0x20);
	ck_assert_uint_eq(inb(0x60), 0x47);
	outb(0x60, 0xff);             /* keyboard reset: ACK, passed */
	ck_assert(pic_pending(&pic)); /* IRQ1 (the command byte enables it) */
	ck_assert_uint_eq(inb(0x60), 0xfa);
	ck_assert_uint_eq(inb(0x60), 0xaa);
	ck_assert_uint_eq(inb(0x64) & 1, 0);
	outb(0x64, 0xd3); /* echo as from the aux port */
	outb(0x60, 0x12);
	ck_assert_uint_eq(inb(0x64) & 0x21, 0x21); /* OBF | AUXDATA */
	ck_assert_uint_eq(inb(0x60), 0x12);
	ck_assert_int_eq(resets, 0);
	outb(0x64, 0xfe); /* pulse the reset line */
	ck_assert_int_eq(resets, 1);
	outb(0x64, 0xd1); /* output port with bit 0 low: reset too */
	outb(0x60, 0x02);
	ck_assert_int_eq(resets, 2);
}
END_TEST

Suite *platform_suite(void)
{
	Suite *s = suite_create("platform");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_fwcfg_items);
	tcase_add_test(tc, test_fwcfg_files);
	tcase_add_test(tc, test_rtc_time_bcd_and_binary);
	tcase_add_test(tc, test_rtc_periodic);
	tcase_add_test(tc, test_pmtimer);
	tcase_add_test(tc, test_rtc_set_clock);
	tcase_add_test(tc, test_rtc_b_rewrite_keeps_phase);
	tcase_add_test(tc, test_cpu_models);
	tcase_add_test(tc, test_i8042);
	suite_add_tcase(s, tc);
	return s;
}
