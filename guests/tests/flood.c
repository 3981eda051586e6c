/* flood.c: test guest that writes COM1 forever with interrupts off (a stalled reader must not defeat --timeout). */
#include "rt.h"

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t n = 0;

	(void)magic;
	(void)mbi;
	__asm__ volatile("cli");
	for (;;)
		printf("flood: line %u, written until --timeout stops the guest\n", n++);
	return EXIT_FAIL;
}
