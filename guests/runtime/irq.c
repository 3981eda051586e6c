/* irq.c: the 8259 PIC pair (remapped to 0x20/0x28) and PIT channel 0 as the tick source. */
#include "rt.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182u

volatile uint32_t timer_ticks;

void pic_init(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_BASE); /* ICW2: vector base */
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02); /* ICW3: slave id 2 */
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode, normal EOI */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xFB); /* all masked but the cascade line */
	outb(PIC2_DATA, 0xFF);
}

void pic_mask(unsigned irq)
{
	uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
	outb(port, (uint8_t)(inb(port) | 1u << (irq & 7)));
}

void pic_unmask(unsigned irq)
{
	uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
	outb(port, (uint8_t)(inb(port) & ~(1u << (irq & 7))));
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

void timer_irq(struct trapframe *tf)
{
	(void)tf;
	timer_ticks++;
	pic_eoi(0);
}

void timer_start(uint32_t hz)
{
	uint32_t div = (PIT_HZ + hz / 2) / hz; /* 100 Hz -> 11932 */

	if (div > 0xFFFF)
		div = 0; /* 0 means 65536 */
	trap_set_handler(IRQ_BASE + 0, timer_irq);
	outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
	outb(PIT_CH0, (uint8_t)div);
	outb(PIT_CH0, (uint8_t)(div >> 8));
	pic_unmask(0);
}

void timer_stop(void)
{
	pic_mask(0);
}
