/* spin.c: test guest that spins forever with interrupts off. */
#include "rt.h"

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("spin: spinning\n");
	__asm__ volatile("cli\n1:\tjmp 1b");
	return EXIT_FAIL;
}
