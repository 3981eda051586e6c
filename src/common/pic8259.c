/* pic8259.c: the cascaded 8259A pair, edge triggered, as wired in a PC. */
#include "pic8259.h"

#include "log.h"

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define PIC_CASCADE_IRQ 2

static const uint16_t pic_ports[2] = {0x20, 0xa0};

static void chip_reset(struct pic_chip *c)
{
	c->irr = 0;
	c->isr = 0;
	c->imr = 0;
	c->last_level = 0;
	c->init_step = 0;
	c->icw4_needed = false;
	c->single = false;
	c->auto_eoi = false;
	c->read_isr = false;
	c->special_mask = false;
	c->priority_base = 7;
}

/*
 * Priority (0 highest .. 7 lowest) of the best request in mask, or 8 when mask
 * is empty. Rotation makes priority_base the lowest level and the one after it
 * the highest.
 */
static int chip_priority(const struct pic_chip *c, uint8_t mask)
{
	int p;

	if (!mask)
		return 8;
	for (p = 0; p < 8; p++)
		if (mask & (1u << ((c->priority_base + 1 + p) & 7)))
			break;
	return p;
}

static int prio_to_irq(const struct pic_chip *c, int p)
{
	return (c->priority_base + 1 + p) & 7;
}

/* The IRQ (0..7) this chip would present on INT, or -1. */
static int chip_best(const struct pic_chip *c)
{
	uint8_t in_service = c->isr;
	int req = chip_priority(c, c->irr & ~c->imr);

	if (req == 8)
		return -1;
	/* Special mask mode: a masked in-service level stops blocking lower ones. */
	if (c->special_mask)
		in_service &= ~c->imr;
	if (req < chip_priority(c, in_service))
		return prio_to_irq(c, req);
	return -1;
}

static void chip_set_line(struct pic_chip *c, int line, int level)
{
	uint8_t bit = 1u << line;

	if (level) {
		if (!(c->last_level & bit))
			c->irr |= bit;
		c->last_level |= bit;
	} else {
		c->last_level &= ~bit;
	}
}

/* The slave's INT output is the master's IR2 line; call after any change. */
static void pic_update(struct pic *pic)
{
	chip_set_line(&pic->chip[PIC_MASTER], PIC_CASCADE_IRQ,
	              chip_best(&pic->chip[PIC_SLAVE]) >= 0);
}

void pic_init(struct pic *pic)
{
	int i;

	for (i = 0; i < 2; i++) {
		chip_reset(&pic->chip[i]);
		pic->chip[i].imr = 0xff;
	}
	/* Where a PC BIOS leaves them; a guest remaps with ICW2. */
	pic->chip[PIC_MASTER].vector_base = 0x08;
	pic->chip[PIC_SLAVE].vector_base = 0x70;
	pic->acks = 0;
	pic->spurious = 0;
}

void pic_set_irq(struct pic *pic, int irq, int level)
{
	if (irq < 0 || irq > 15) {
		log_warn("pic: irq %d out of range", irq);
		return;
	}
	chip_set_line(&pic->chip[irq >> 3], irq & 7, level);
	pic_update(pic);
	if (pic->mirror)
		pic->mirror(pic->mirror_opaque, irq, level);
}

void pic_pulse_irq(struct pic *pic, int irq)
{
	pic_set_irq(pic, irq, 1);
	pic_set_irq(pic, irq, 0);
}

bool pic_pending(const struct pic *pic)
{
	return chip_best(&pic->chip[PIC_MASTER]) >= 0;
}

static void chip_intack(struct pic_chip *c, int irq)
{
	if (!c->auto_eoi)
		c->isr |= 1u << irq;
	c->irr &= ~(1u << irq);
}

uint8_t pic_ack(struct pic *pic)
{
	struct pic_chip *m = &pic->chip[PIC_MASTER], *s = &pic->chip[PIC_SLAVE];
	int irq = chip_best(m);
	uint8_t vec;

	pic->acks++;
	if (irq < 0) {
		/* INTR dropped before INTA: the 8259A answers with IR7, ISR untouched. */
		pic->spurious++;
		return m->vector_base + 7;
	}
	if (irq == PIC_CASCADE_IRQ && !m->single) {
		int sirq = chip_best(s);

		if (sirq >= 0) {
			chip_intack(s, sirq);
			vec = s->vector_base + sirq;
		} else {
			/* Slave spurious: master IR2 still goes in service. */
			pic->spurious++;
			vec = s->vector_base + 7;
		}
	} else {
		vec = m->vector_base + irq;
	}
	chip_intack(m, irq);
	pic_update(pic);
	return vec;
}

static void chip_eoi(struct pic_chip *c, uint8_t val)
{
	int p, irq;

	switch (val >> 5) {
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		p = chip_priority(c, c->isr);
		if (p == 8)
			break;
		irq = prio_to_irq(c, p);
		c->isr &= ~(1u << irq);
		if (val >> 5 == 5)
			c->priority_base = irq;
		break;
	case 3: /* specific EOI */
		c->isr &= ~(1u << (val & 7));
		break;
	case 6: /* set priority */
		c->priority_base = val & 7;
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= ~(1u << (val & 7));
		c->priority_base = val & 7;
		break;
	default: /* 0/4: rotate in auto-EOI clear/set; 2: no-op */
		log_debug("pic: OCW2 %#x accepted, no effect", val);
		break;
	}
}

static void chip_write_cmd(struct pic_chip *c, uint8_t val)
{
	if (val & 0x10) { /* ICW1 */
		uint8_t base = c->vector_base;

		chip_reset(c);
		c->vector_base = base;
		c->icw4_needed = val & 0x01;
		c->single = val & 0x02;
		if (val & 0x08)
			log_debug("pic: ICW1 asks for level triggering; staying edge triggered");
		c->init_step = 1;
	} else if (val & 0x08) { /* OCW3 */
		if (val & 0x04)
			log_debug("pic: OCW3 poll command ignored");
		if (val & 0x02)
			c->read_isr = val & 0x01;
		if (val & 0x40)
			c->special_mask = val & 0x20;
	} else {
		chip_eoi(c, val);
	}
}

static void chip_write_data(struct pic_chip *c, uint8_t val)
{
	switch (c->init_step) {
	case 0: /* OCW1 */
		c->imr = val;
		break;
	case 1: /* ICW2 */
		c->vector_base = val & 0xf8;
		c->init_step = !c->single ? 2 : c->icw4_needed ? 3 : 0;
		break;
	case 2: /* ICW3: the wiring is fixed (slave on IR2), nothing to learn */
		c->init_step = c->icw4_needed ? 3 : 0;
		break;
	default: /* ICW4 */
		if (!(val & 0x01))
			log_debug("pic: ICW4 %#x selects 8080 mode; treated as 8086", val);
		c->auto_eoi = val & 0x02;
		c->init_step = 0;
		break;
	}
}

static uint8_t pic_io_byte(struct pic *pic, int idx, unsigned reg, bool is_write, uint8_t val)
{
	struct pic_chip *c = &pic->chip[idx];

	if (!is_write)
		return reg ? c->imr : c->read_isr ? c->isr : c->irr;
	trace("pic%d: write %#x <- %#x", idx, pic_ports[idx] + reg, val);
	if (reg)
		chip_write_data(c, val);
	else
		chip_write_cmd(c, val);
	pic_update(pic);
	return 0;
}

/* Wider accesses split into byte accesses, as the ISA bus does. */
static void pic_io(struct pic *pic, int idx, uint64_t offset, unsigned size, bool is_write,
                   uint64_t *val)
{
	uint64_t out = 0;
	unsigned i;

	for (i = 0; i < size; i++) {
		uint64_t reg = offset + i;
		uint8_t b = 0xff;

		if (reg < 2)
			b = pic_io_byte(pic, idx, (unsigned)reg, is_write,
			                is_write ? (uint8_t)(*val >> (8 * i)) : 0);
		out |= (uint64_t)b << (8 * i);
	}
	if (!is_write)
		*val = out;
}

static void pic_master_io(void *opaque, uint64_t offset, unsigned size, bool is_write,
                          uint64_t *val)
{
	pic_io(opaque, PIC_MASTER, offset, size, is_write, val);
}

static void pic_slave_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	pic_io(opaque, PIC_SLAVE, offset, size, is_write, val);
}

int pic_register(struct pic *pic, struct bus *ports)
{
	int ret;

	ret = bus_register(ports, pic_ports[PIC_MASTER], 2, pic_master_io, pic, "pic-master");
	if (ret)
		return ret;
	return bus_register(ports, pic_ports[PIC_SLAVE], 2, pic_slave_io, pic, "pic-slave");
}
