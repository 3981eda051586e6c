/* triple.c: test guest that triple-faults (zero-limit IDT, then int3). */
#include "rt.h"

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	static const struct dtr empty = {0, 0};

	(void)magic;
	(void)mbi;
	printf("triple: about to triple fault\n");
	lidt(&empty);
	/* int3 -> #GP (vector beyond the IDT limit) -> #DF -> shutdown. */
	__asm__ volatile("int3");
	__asm__ volatile("xorl %%ecx, %%ecx; divl %%ecx" : : : "eax", "ecx", "edx");
	printf("triple: FAIL still running\n");
	return EXIT_FAIL;
}
