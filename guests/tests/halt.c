/* halt.c: test guest that halts with interrupts off (and halts again if woken). */
#include "rt.h"

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("halt: halting with interrupts off\n");
	__asm__ volatile("cli\n1:\thlt\n\tjmp 1b");
	return EXIT_FAIL;
}
