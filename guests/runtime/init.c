/* init.c: runtime start-up (called by entry.S before kmain) and guest_exit. */
#include "rt.h"

#define DEBUG_EXIT_PORT 0xF4

uint32_t rt_boot_magic;
struct multiboot_info *rt_boot_mbi;
void syscall_init(void);

void rt_init(uint32_t magic, struct multiboot_info *mbi)
{
	rt_boot_magic = magic;
	rt_boot_mbi = mbi;
	console_init();
	gdt_init();
	idt_init();
	pic_init();
	syscall_init();
}

void guest_exit(uint32_t code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;) {
		cli();
		hlt();
	}
}

uint32_t cpu_features(void)
{
	uint32_t r[4], f0 = read_eflags(), f1;

	/* cpuid exists if EFLAGS.ID (bit 21) can be toggled. */
	__asm__ volatile("pushl %1; popfl; pushfl; popl %0; pushl %2; popfl"
	                 : "=r"(f1)
	                 : "r"(f0 ^ 0x200000u), "r"(f0));
	if (!((f0 ^ f1) & 0x200000u))
		return 0;
	cpuid(0, r);
	if (r[0] < 1)
		return 0;
	cpuid(1, r);
	return r[3];
}
