/* vcpu.h: the engine-neutral i386 register file. */
#ifndef TANDEM_VCPU_H
#define TANDEM_VCPU_H

#include <stdint.h>

struct vcpu_seg {
	uint32_t base, limit; /* limit in bytes (granularity already applied) */
	uint16_t sel;
	uint8_t type; /* descriptor type field, 4 bits */
	uint8_t s, dpl, present, db, g;
};

struct vcpu_regs {
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t eip, eflags;
	uint32_t cr0, cr2, cr3, cr4;
	struct vcpu_seg cs, ds, es, fs, gs, ss, tr, ldt;
	uint32_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
};

#define X86_CR0_PE (1u << 0)
#define X86_CR0_MP (1u << 1)
#define X86_CR0_EM (1u << 2)
#define X86_CR0_TS (1u << 3)
#define X86_CR0_ET (1u << 4)
#define X86_CR0_NE (1u << 5)
#define X86_CR0_WP (1u << 16)
#define X86_CR0_PG (1u << 31)
#define X86_CR4_PSE (1u << 4)
#define X86_EFLAGS_IF (1u << 9)

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u

/*
 * The Multiboot v1 entry state: EAX magic, EBX info, flat 4 GiB CS (32-bit,
 * selector 0x08) and data segments (0x10), CR0.PE=1, PG=0, IF=0.
 */
void vcpu_multiboot_state(struct vcpu_regs *r, uint32_t entry, uint32_t mbi);

/*
 * The Linux 32-bit boot protocol's entry state (boot.rst): CS = 0x10 and DS = ES =
 * SS = 0x18, flat, from the GDT at gdt_base (limit gdt_limit); ESI = boot_params,
 * EBX = EBP = EDI = 0; CR0.PE=1, PG=0; IF=0.
 */
void vcpu_linux_state(struct vcpu_regs *r, uint32_t entry, uint32_t boot_params, uint32_t gdt_base,
                      uint16_t gdt_limit);

#endif
