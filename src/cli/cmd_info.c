/* cmd_info.c: `tandem info`: the host, how each fact was established, and what each engine runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "backends.h"
#include "cli.h"
#include "engine.h"
#include "hostcaps.h"
#include "hostinfo.h"
#include "status.h"

/* `tandem info --cap NAME`: "yes" (status 0) or "no" (status 1), for scripts. */
static int info_cap(const char *name)
{
	int cap = host_cap_by_name(name);

	if (cap < 0)
		return usage_error(
		    "info --cap: unknown capability '%s' (fsgsbase, ia32, kvm, nested, "
		    "qemu-user)",
		    name);
	puts(host_has((enum host_cap)cap) ? "yes" : "no");
	return host_has((enum host_cap)cap) ? STATUS_OK : 1;
}

static void print_fact(enum host_cap cap)
{
	const struct host_fact *f = host_cap(cap);
	char key[32];

	snprintf(key, sizeof(key), "host.%s", host_cap_name(cap));
	if (f->masked)
		printf("%-19s no (masked by TANDEM_HOST_MASK; the probe found: %s)\n", key, f->how);
	else
		printf("%-19s %s (%s)\n", key, f->yes ? "yes" : "no", f->how);
}

int cmd_info(int argc, char **argv)
{
	const char *mask = getenv("TANDEM_HOST_MASK");
	struct utsname u;
	char model[256], why[256], vendor[16];
	size_t i;

	if (argc == 3 && !strcmp(argv[1], "--cap"))
		return info_cap(argv[2]);
	if (argc > 1)
		return usage_error("info takes no arguments but --cap NAME");
	host_cpu_model(model, sizeof(model));
	uname(&u);
	printf("host.cpu            %s\n", model);
	printf("host.tsc-khz        %llu (TSC ticks over 50 ms of CLOCK_MONOTONIC_RAW)\n",
	       (unsigned long long)host_tsc_khz());
	printf("host.kernel         %s %s %s\n", u.sysname, u.release, u.machine);
	host_hypervisor_vendor(vendor, sizeof(vendor));
	if (host_under_hypervisor())
		printf("host.hypervisor     yes (CPUID.1:ECX[31] set: this host is a guest; "
		       "vendor '%s' in CPUID 0x40000000)\n",
		       vendor);
	else
		printf("host.hypervisor     no (CPUID.1:ECX[31] clear)\n");
	for (i = 0; i < HOST_CAP_NR; i++)
		print_fact((enum host_cap)i);
	printf("host.mask           %s\n", mask && *mask ? mask : "(TANDEM_HOST_MASK unset)");
	/* The engines of the registry's engine rows (backends.c). */
	for (i = 0; backend_engine_at(i); i++) {
		const struct engine_ops *e = backend_engine_at(i);

		e->info(stdout);
		if (e->probe(why, sizeof(why)) == 0)
			printf("engine.%-12s runs i386 paged guests\n", e->name);
		else
			printf("engine.%-12s unavailable: %s\n", e->name, why);
	}
	return STATUS_OK;
}
