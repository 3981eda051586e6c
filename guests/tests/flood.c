/*
 * flood.c: test guest that writes COM1 with interrupts off, forever (a stalled
 * reader must not defeat --timeout), or "lines=N" lines and then exits 0; "pit"
 * on the command line programs the PIT at 100 Hz first (kicks keep coming while
 * the host's output blocks).
 */
#include "rt.h"

static uint32_t arg_lines(const char *s)
{
	uint32_t n = 0;

	for (; *s; s++) {
		if (!memcmp(s, "lines=", 6)) {
			for (s += 6; *s >= '0' && *s <= '9'; s++)
				n = n * 10 + (uint32_t)(*s - '0');
			return n;
		}
	}
	return 0;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	const char *cmd = (mbi->flags & (1u << 2)) ? (const char *)mbi->cmdline : "";
	uint32_t n = 0, lines = arg_lines(cmd);

	(void)magic;
	__asm__ volatile("cli");
	for (const char *s = cmd; *s; s++)
		if (!memcmp(s, "pit", 3))
			timer_start(100); /* IRQ0 stays pending: IF is off */
	while (!lines || n < lines)
		printf("flood: line %u, written until --timeout stops the guest\n", n++);
	return EXIT_OK;
}
