/* vcpu.c: building the entry register state. */
#include "vcpu.h"

#include <string.h>

static struct vcpu_seg flat_seg(uint16_t sel, uint8_t type)
{
	return (struct vcpu_seg){.base = 0,
	                         .limit = 0xffffffff,
	                         .sel = sel,
	                         .type = type,
	                         .s = 1,
	                         .dpl = 0,
	                         .present = 1,
	                         .db = 1,
	                         .g = 1};
}

void vcpu_multiboot_state(struct vcpu_regs *r, uint32_t entry, uint32_t mbi)
{
	memset(r, 0, sizeof(*r));
	r->eax = MULTIBOOT_BOOTLOADER_MAGIC;
	r->ebx = mbi;
	r->eip = entry;
	r->eflags = 0x2;
	r->cr0 = X86_CR0_PE | X86_CR0_ET;
	r->cs = flat_seg(0x08, 0xb);                                 /* execute/read, accessed */
	r->ds = r->es = r->fs = r->gs = r->ss = flat_seg(0x10, 0x3); /* read/write, accessed */
	r->tr = (struct vcpu_seg){.limit = 0xffff, .type = 0xb, .present = 1}; /* busy 32-bit TSS */
	r->ldt = (struct vcpu_seg){.limit = 0xffff, .type = 0x2, .present = 1};
	r->gdt_limit = 0xffff;
	r->idt_limit = 0xffff;
}

void vcpu_linux_state(struct vcpu_regs *r, uint32_t entry, uint32_t boot_params, uint32_t gdt_base,
                      uint16_t gdt_limit)
{
	vcpu_multiboot_state(r, entry, 0);
	r->eax = 0;
	r->esi = boot_params;
	r->cs = flat_seg(0x10, 0xb);
	r->ds = r->es = r->fs = r->gs = r->ss = flat_seg(0x18, 0x3);
	r->gdt_base = gdt_base;
	r->gdt_limit = gdt_limit;
}
