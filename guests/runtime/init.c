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
