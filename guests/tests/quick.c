/* quick.c: test guest that prints one line and exits at once (start-up and exit cost). */
#include "rt.h"

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)mbi;
	printf("quick: booted (multiboot magic %s), exiting\n",
	       magic == MB_BOOT_MAGIC ? "ok" : "bad");
	return EXIT_OK;
}
