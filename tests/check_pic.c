/* check_pic.c: the 8259A pair through its ports, as a guest kernel drives it. */
#include <check.h>

#include "bus.h"
#include "check_suites.h"
#include "pic8259.h"
#include "check_io.h"

static struct bus ports;
static struct pic pic;

CHECK_PORT_HELPERS(ports)

/* The classic remap: master to 0x20, slave to 0x28, everything unmasked. */
static void remap(void)
{
	CHECK_PIC_REMAP();
	outb(0x21, 0x00);
	outb(0xa1, 0x00);
}

static void setup(void)
{
	bus_init(&ports, "port");
	pic_init(&pic);
	ck_assert_int_eq(pic_register(&pic, &ports), 0);
}

static void setup_remapped(void)
{
	setup();
	remap();
}

static uint8_t read_isr(uint16_t cmd)
{
	outb(cmd, 0x0b);
	return inb(cmd);
}

static uint8_t read_irr(uint16_t cmd)
{
	outb(cmd, 0x0a);
	return inb(cmd);
}

START_TEST(test_reset_masks_all)
{
	ck_assert_uint_eq(inb(0x21), 0xff);
	ck_assert_uint_eq(inb(0xa1), 0xff);
	pic_pulse_irq(&pic, 1);
	ck_assert(!pic_pending(&pic));
	/* Re-registering the same ports collides. */
	ck_assert_int_ne(pic_register(&pic, &ports), 0);
}
END_TEST

START_TEST(test_init_sequence)
{
	outb(0x21, 0x5a); /* OCW1 before init */
	outb(0x20, 0x11);
	ck_assert_uint_eq(pic.chip[0].init_step, 1);
	/* ICW1 cleared IMR and selected IRR reads. */
	ck_assert_uint_eq(inb(0x21), 0x00);
	outb(0x21, 0x20);
	ck_assert_uint_eq(pic.chip[0].init_step, 2);
	outb(0x21, 0x04);
	ck_assert_uint_eq(pic.chip[0].init_step, 3);
	outb(0x21, 0x01);
	ck_assert_uint_eq(pic.chip[0].init_step, 0);
	ck_assert_uint_eq(pic.chip[0].vector_base, 0x20);
	/* Back to OCW1: the data port is IMR again. */
	outb(0x21, 0xfb);
	ck_assert_uint_eq(inb(0x21), 0xfb);

	/* Single mode without ICW4: ICW2 is the whole sequence; low bits of ICW2 ignored. */
	outb(0xa0, 0x12);
	outb(0xa1, 0x77);
	ck_assert_uint_eq(pic.chip[1].init_step, 0);
	ck_assert_uint_eq(pic.chip[1].vector_base, 0x70);
	outb(0xa1, 0x3c);
	ck_assert_uint_eq(inb(0xa1), 0x3c);
}
END_TEST

START_TEST(test_remap_vectors)
{
	pic_pulse_irq(&pic, 1);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x21);
	outb(0x20, 0x20);
	pic_pulse_irq(&pic, 9);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x29);
	ck_assert(!pic_pending(&pic));
	ck_assert_uint_eq(pic.acks, 2);
	ck_assert_uint_eq(pic.spurious, 0);
}
END_TEST

START_TEST(test_masking)
{
	outb(0x21, 0x08);
	pic_pulse_irq(&pic, 3);
	ck_assert(!pic_pending(&pic));
	ck_assert_uint_eq(read_irr(0x20), 0x08);
	outb(0x21, 0x00);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x23);

	/* Masking the cascade input hides every slave IRQ. */
	outb(0x20, 0x20);
	outb(0x21, 0x04);
	pic_pulse_irq(&pic, 14);
	ck_assert(!pic_pending(&pic));
	outb(0x21, 0x00);
	ck_assert_uint_eq(pic_ack(&pic), 0x2e);
}
END_TEST

START_TEST(test_priority_order)
{
	pic_pulse_irq(&pic, 4);
	pic_pulse_irq(&pic, 0);
	ck_assert_uint_eq(read_irr(0x20), 0x11);
	ck_assert_uint_eq(pic_ack(&pic), 0x20);
	outb(0x20, 0x20);
	ck_assert_uint_eq(pic_ack(&pic), 0x24);
	outb(0x20, 0x20);
	ck_assert(!pic_pending(&pic));
	/* Slave IRQs rank at the master's IR2: above IRQ3, below IRQ1. */
	pic_pulse_irq(&pic, 3);
	pic_pulse_irq(&pic, 8);
	pic_pulse_irq(&pic, 1);
	ck_assert_uint_eq(pic_ack(&pic), 0x21);
	outb(0x20, 0x20);
	ck_assert_uint_eq(pic_ack(&pic), 0x28);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	ck_assert_uint_eq(pic_ack(&pic), 0x23);
}
END_TEST

START_TEST(test_isr_blocks_lower)
{
	pic_pulse_irq(&pic, 4);
	ck_assert_uint_eq(pic_ack(&pic), 0x24);
	ck_assert_uint_eq(read_isr(0x20), 0x10);
	pic_pulse_irq(&pic, 5);
	ck_assert(!pic_pending(&pic));
	pic_pulse_irq(&pic, 4); /* same level also waits */
	ck_assert(!pic_pending(&pic));
	pic_pulse_irq(&pic, 3); /* higher nests */
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x23);
	ck_assert_uint_eq(read_isr(0x20), 0x18);
	outb(0x20, 0x20); /* non-specific EOI retires the highest: 3 */
	ck_assert_uint_eq(read_isr(0x20), 0x10);
	ck_assert(!pic_pending(&pic));
	outb(0x20, 0x20);
	ck_assert_uint_eq(read_isr(0x20), 0x00);
	ck_assert_uint_eq(pic_ack(&pic), 0x24);
	outb(0x20, 0x20);
	ck_assert_uint_eq(pic_ack(&pic), 0x25);
}
END_TEST

START_TEST(test_slave_cascade)
{
	pic_pulse_irq(&pic, 10);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(read_irr(0x20), 0x04);
	ck_assert_uint_eq(pic_ack(&pic), 0x2a);
	ck_assert_uint_eq(read_isr(0x20), 0x04);
	ck_assert_uint_eq(read_isr(0xa0), 0x04);
	ck_assert_uint_eq(read_irr(0xa0), 0x00);

	/* A lower slave IRQ waits for the slave's EOI, then the master's. */
	pic_pulse_irq(&pic, 12);
	ck_assert(!pic_pending(&pic));
	outb(0xa0, 0x20);
	ck_assert(!pic_pending(&pic));
	outb(0x20, 0x20);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x2c);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);

	/* Two slave requests at once come out one after the other. */
	pic_pulse_irq(&pic, 15);
	pic_pulse_irq(&pic, 8);
	ck_assert_uint_eq(pic_ack(&pic), 0x28);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x2f);
	ck_assert_uint_eq(pic.spurious, 0);
}
END_TEST

START_TEST(test_specific_eoi)
{
	pic_pulse_irq(&pic, 5);
	ck_assert_uint_eq(pic_ack(&pic), 0x25);
	pic_pulse_irq(&pic, 1);
	ck_assert_uint_eq(pic_ack(&pic), 0x21);
	ck_assert_uint_eq(read_isr(0x20), 0x22);
	outb(0x20, 0x65); /* retire 5, leaving the higher 1 in service */
	ck_assert_uint_eq(read_isr(0x20), 0x02);
	outb(0x20, 0x61);
	ck_assert_uint_eq(read_isr(0x20), 0x00);
}
END_TEST

START_TEST(test_spurious)
{
	ck_assert(!pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x27);
	ck_assert_uint_eq(read_isr(0x20), 0x00);
	ck_assert_uint_eq(pic.spurious, 1);
	ck_assert_uint_eq(pic.acks, 1);

	/* The request is masked away between INTR and INTA. */
	pic_pulse_irq(&pic, 3);
	ck_assert(pic_pending(&pic));
	outb(0x21, 0x08);
	ck_assert_uint_eq(pic_ack(&pic), 0x27);
	ck_assert_uint_eq(read_isr(0x20), 0x00);
	ck_assert_uint_eq(pic.spurious, 2);
	ck_assert_uint_eq(pic.acks, 2);

	/* Same on the slave: its IR7 vector, and the master's IR2 needs its EOI. */
	pic_pulse_irq(&pic, 11);
	ck_assert(pic_pending(&pic));
	outb(0xa1, 0x08);
	ck_assert_uint_eq(pic_ack(&pic), 0x2f);
	ck_assert_uint_eq(read_isr(0xa0), 0x00);
	ck_assert_uint_eq(read_isr(0x20), 0x04);
	ck_assert_uint_eq(pic.spurious, 3);
	ck_assert_uint_eq(pic.acks, 3);
}
END_TEST

START_TEST(test_ocw3_reads)
{
	outb(0x21, 0xff);
	pic_pulse_irq(&pic, 1);
	pic_pulse_irq(&pic, 6);
	/* IRR reads are the reset default. */
	ck_assert_uint_eq(inb(0x20), 0x42);
	ck_assert_uint_eq(read_isr(0x20), 0x00);
	/* The selection sticks until changed. */
	ck_assert_uint_eq(inb(0x20), 0x00);
	ck_assert_uint_eq(read_irr(0x20), 0x42);
	outb(0x21, 0xbf);
	ck_assert_uint_eq(pic_ack(&pic), 0x26);
	ck_assert_uint_eq(read_isr(0x20), 0x40);
	ck_assert_uint_eq(read_irr(0x20), 0x02);
	/* OCW3 without RR set changes nothing. */
	outb(0x20, 0x08);
	ck_assert_uint_eq(inb(0x20), 0x02);
}
END_TEST

START_TEST(test_edge_triggered)
{
	pic_set_irq(&pic, 3, 1);
	ck_assert_uint_eq(pic_ack(&pic), 0x23);
	outb(0x20, 0x20);
	/* Holding the line high is not a new request. */
	pic_set_irq(&pic, 3, 1);
	ck_assert(!pic_pending(&pic));
	ck_assert_uint_eq(read_irr(0x20), 0x00);
	pic_set_irq(&pic, 3, 0);
	ck_assert(!pic_pending(&pic));
	pic_set_irq(&pic, 3, 1);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x23);
	/* A pulse stays latched in IRR after the line drops. */
	outb(0x20, 0x20);
	pic_set_irq(&pic, 3, 0);
	pic_pulse_irq(&pic, 7);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x27);
	ck_assert_uint_eq(pic.spurious, 0);
}
END_TEST

START_TEST(test_auto_eoi)
{
	outb(0x20, 0x11);
	outb(0x21, 0x30);
	outb(0x21, 0x04);
	outb(0x21, 0x03);
	pic_pulse_irq(&pic, 4);
	ck_assert_uint_eq(pic_ack(&pic), 0x34);
	ck_assert_uint_eq(read_isr(0x20), 0x00);
	pic_pulse_irq(&pic, 5);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x35);
}
END_TEST

START_TEST(test_rotation_and_special_mask)
{
	/* Set priority: 3 lowest, so 4 is highest and beats 1. */
	outb(0x20, 0xc3);
	pic_pulse_irq(&pic, 1);
	pic_pulse_irq(&pic, 4);
	ck_assert_uint_eq(pic_ack(&pic), 0x24);
	/* Rotate on non-specific EOI: 4 becomes the lowest. */
	outb(0x20, 0xa0);
	ck_assert_uint_eq(pic.chip[0].priority_base, 4);
	ck_assert_uint_eq(pic_ack(&pic), 0x21);
	outb(0x20, 0x20);
	outb(0x20, 0xc7); /* back to IRQ0 highest */

	/* Special mask mode: masking the in-service level lets lower ones in. */
	pic_pulse_irq(&pic, 3);
	ck_assert_uint_eq(pic_ack(&pic), 0x23);
	pic_pulse_irq(&pic, 6);
	ck_assert(!pic_pending(&pic));
	outb(0x20, 0x68); /* OCW3: set SMM */
	ck_assert(!pic_pending(&pic));
	outb(0x21, 0x08);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x26);
	outb(0x20, 0x48); /* reset SMM: 3 blocks again */
	pic_pulse_irq(&pic, 7);
	ck_assert(!pic_pending(&pic));
}
END_TEST

START_TEST(test_wide_access)
{
	uint64_t v = 0;

	/* A 16-bit read of 0x20 is IRR (or ISR) then IMR. */
	outb(0x21, 0xa5);
	ck_assert_int_eq(bus_access(&ports, 0x20, 2, false, &v), 0);
	ck_assert_uint_eq(v, 0xa500);
	v = 0x5a0b; /* OCW3 read-ISR to 0x20, IMR 0x5a to 0x21 */
	ck_assert_int_eq(bus_access(&ports, 0x20, 2, true, &v), 0);
	ck_assert_uint_eq(inb(0x21), 0x5a);
	ck_assert(pic.chip[0].read_isr);
}
END_TEST

Suite *pic_suite(void)
{
	Suite *s = suite_create("pic");
	TCase *raw = tcase_create("reset");
	TCase *tc = tcase_create("remapped");

	tcase_add_checked_fixture(raw, setup, NULL);
	tcase_add_test(raw, test_reset_masks_all);
	tcase_add_test(raw, test_init_sequence);
	suite_add_tcase(s, raw);

	tcase_add_checked_fixture(tc, setup_remapped, NULL);
	tcase_add_test(tc, test_remap_vectors);
	tcase_add_test(tc, test_masking);
	tcase_add_test(tc, test_priority_order);
	tcase_add_test(tc, test_isr_blocks_lower);
	tcase_add_test(tc, test_slave_cascade);
	tcase_add_test(tc, test_specific_eoi);
	tcase_add_test(tc, test_spurious);
	tcase_add_test(tc, test_ocw3_reads);
	tcase_add_test(tc, test_edge_triggered);
	tcase_add_test(tc, test_auto_eoi);
	tcase_add_test(tc, test_rotation_and_special_mask);
	tcase_add_test(tc, test_wide_access);
	suite_add_tcase(s, tc);
	return s;
}
