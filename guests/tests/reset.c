/* reset.c: test guest that resets the machine through the keyboard controller (0xFE to 0x64). */
#include "rt.h"

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	printf("reset: pulsing the reset line through the i8042\n");
	outb(0x64, 0xfe);
	for (volatile int i = 0; i < 1000000; i++)
		;
	printf("reset: still running after the reset pulse\n");
	return EXIT_FAIL;
}
