/* desc.c: the GDT (flat ring 0/3 segments + TSS), the IDT and the C trap dispatcher. */
#include "rt.h"

struct tss {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
};
_Static_assert(sizeof(struct tss) == 104, "i386 TSS is 104 bytes");

struct gate {
	uint16_t off_lo, sel;
	uint8_t zero, type; /* P | DPL | 0xE (32-bit interrupt gate) */
	uint16_t off_hi;
};

/* trap.S reads rt_tss.esp0 at offset 4. */
struct tss rt_tss __attribute__((aligned(16)));
static uint64_t gdt[6] __attribute__((aligned(16)));
static struct gate idt[256] __attribute__((aligned(16)));
struct dtr rt_idtr;
static trap_handler_t handlers[256];
static int in_fatal;

extern char boot_stack_top[];
extern const uint32_t trap_vectors[49]; /* 0..47, 0x80 */
void gdt_load(const struct dtr *d);
void trap_dispatch(struct trapframe *tf);

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
	       (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

void gdt_init(void)
{
	struct dtr d;

	gdt[0] = 0;
	gdt[SEL_KCODE >> 3] = seg_desc(0, 0xFFFFF, 0x9A, 0xC); /* 4 KiB granular, 32-bit */
	gdt[SEL_KDATA >> 3] = seg_desc(0, 0xFFFFF, 0x92, 0xC);
	gdt[SEL_UCODE >> 3] = seg_desc(0, 0xFFFFF, 0xFA, 0xC);
	gdt[SEL_UDATA >> 3] = seg_desc(0, 0xFFFFF, 0xF2, 0xC);
	gdt[SEL_TSS >> 3] = seg_desc((uint32_t)&rt_tss, sizeof(rt_tss) - 1, 0x89, 0x0);
	rt_tss.ss0 = SEL_KDATA;
	rt_tss.esp0 = (uint32_t)boot_stack_top;
	rt_tss.iomap_base = sizeof(rt_tss); /* no I/O bitmap: ring 3 in/out faults */
	d.limit = sizeof(gdt) - 1;
	d.base = (uint32_t)gdt;
	gdt_load(&d);
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

void tss_set_esp0(uint32_t esp0)
{
	rt_tss.esp0 = esp0;
}

static void set_gate(unsigned vec, uint32_t off, unsigned dpl)
{
	idt[vec].off_lo = (uint16_t)off;
	idt[vec].sel = SEL_KCODE;
	idt[vec].zero = 0;
	idt[vec].type = (uint8_t)(0x8E | dpl << 5);
	idt[vec].off_hi = (uint16_t)(off >> 16);
}

void idt_init(void)
{
	for (unsigned v = 0; v < 48; v++)
		set_gate(v, trap_vectors[v], 0);
	set_gate(SYSCALL_VEC, trap_vectors[48], 3);
	set_gate(RT_USER_EXIT_VEC, (uint32_t)rt_user_exit_gate, 3);
	rt_idtr.limit = sizeof(idt) - 1;
	rt_idtr.base = (uint32_t)idt;
	lidt(&rt_idtr);
}

void trap_set_handler(unsigned vec, trap_handler_t h)
{
	if (vec < 256)
		handlers[vec] = h;
}

trap_handler_t trap_get_handler(unsigned vec)
{
	return vec < 256 ? handlers[vec] : NULL;
}

void trap_dispatch(struct trapframe *tf)
{
	unsigned v = tf->vector;

	if (handlers[v]) {
		handlers[v](tf);
		return;
	}
	/* Spurious IRQ7/IRQ15 (masked lines): ignore; the master saw IRQ2 for 15. */
	if (v == IRQ_BASE + 7)
		return;
	if (v == IRQ_BASE + 15) {
		outb(0x20, 0x20);
		return;
	}
	if (in_fatal++) /* a fault while reporting one: do not recurse */
		guest_exit(EXIT_TRAP);
	printf("unexpected trap %u at eip=0x%08x err=0x%x cs=0x%x", v, tf->eip, tf->err, tf->cs);
	if (v == 14)
		printf(" cr2=0x%08x", read_cr2());
	printf("\n");
	guest_exit(EXIT_TRAP);
}
