/*
 * kmain.c: minios boot: parse the command line, build the kernel mappings, start init
 * (user/main.c), which runs the chosen workloads and exits the guest.
 *
 * Command line (after the kernel's path): work=forkwait|pingpong|pagetouch|compute|all
 * (default all), n=N (the workload's count; each has a default small enough for CI),
 * repeat=R (timed runs of each, 1..16, default 3). A bad command line prints one line
 * and exits 1 through the debug-exit port.
 */
#include "macro/manifest.h"
#include "minios.h"
#include "user/ulib.h"

/* Does the NUL-terminated s start with prefix? */
static int starts_with(const char *s, const char *prefix)
{
	while (*prefix && *s == *prefix)
		s++, prefix++;
	return !*prefix;
}

/* A decimal number ending at a blank or NUL; -1 if not one (or >= 2^31). */
static int32_t number(const char **pp)
{
	const char *p = *pp;
	uint32_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 0x0FFFFFFFu)
			return -1;
		v = v * 10 + (uint32_t)(*p - '0');
	}
	*pp = p;
	return *p && *p != ' ' ? -1 : (int32_t)v;
}

/* "all", then bench/macro/manifest.h's workloads: work=<name> is index i + 1. */
static const char *const work_names[] = {"all",
#define X(name, paper, dn, per, an, anote, d) #name,
                                         MACRO_ROWS(X)
#undef X
};
#define NWORK (sizeof(work_names) / sizeof(work_names[0]))
#define WORK_CHOICE(name, paper, dn, per, an, anote, d) #name "|"
#define WORK_CHOICES MACRO_ROWS(WORK_CHOICE) "all" /* "forkwait|...|all" */

static int parse_cmdline(const char *p, uint32_t *work, uint32_t *n, uint32_t *repeat)
{
	for (;;) {
		int32_t v;

		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		if (starts_with(p, "work=")) {
			uint32_t w;

			p += 5;
			for (w = 0; w < NWORK; w++) {
				size_t len = strlen(work_names[w]);

				if (starts_with(p, work_names[w]) && (p[len] == ' ' || !p[len]))
					break;
			}
			if (w == NWORK)
				return -1;
			*work = w;
			p += strlen(work_names[w]);
			continue;
		}
		if (starts_with(p, "n=") || starts_with(p, "repeat=")) {
			uint32_t *dst = p[0] == 'n' ? n : repeat;

			p += p[0] == 'n' ? 2 : 7;
			if ((v = number(&p)) <= 0)
				return -1;
			*dst = (uint32_t)v;
			continue;
		}
		while (*p && *p != ' ') /* another word (the first is the kernel's path) */
			p++;
	}
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t work = 0, n = 0, repeat = 3, mem = 0;
	const char *cmd;

	if (magic != MB_BOOT_MAGIC || !mbi) {
		printf("minios: FAIL not booted by a Multiboot loader\n");
		return EXIT_FAIL;
	}
	cmd = (mbi->flags & MBI_FLAG_CMDLINE) && mbi->cmdline ? (const char *)mbi->cmdline : "";
	if (parse_cmdline(cmd, &work, &n, &repeat) || repeat > 16) {
		printf("minios: FAIL bad command line (want "
		       "work=" WORK_CHOICES " "
		       "n=N repeat=1..16)\n");
		return EXIT_FAIL;
	}
	if (mbi->flags & MBI_FLAG_MEM)
		mem = 0x100000u + mbi->mem_upper * 1024u;
	if (mem < 2 * FRAME_BASE || vm_init(mem)) {
		printf("minios: FAIL needs PSE and at least 8 MiB (mem=%u)\n", mem);
		return EXIT_FAIL;
	}
	syscall_install();
	sched_init();
	struct proc *init = proc_create((uint32_t)user_start, work, n, repeat);

	if (!init) {
		printf("minios: FAIL cannot create init\n");
		return EXIT_FAIL;
	}
	printf("minios-info: booted pge=%d frames=%u\n", have_pge, frames_free());
	sched_start(init);
}
