/* cmd_info.c: `tandem info`: the host, and what each engine can run on it. */
#include <stdio.h>
#include <sys/utsname.h>

#include "cli.h"
#include "engine.h"
#include "hostinfo.h"
#include "status.h"

int cmd_info(int argc, char **argv)
{
	const struct engine_ops *const all[] = { &kvm_engine_ops, &bt_engine_ops };
	struct utsname u;
	char model[256];
	size_t i;

	(void)argv;
	if (argc > 1)
		return usage_error("info takes no arguments");
	host_cpu_model(model, sizeof(model));
	uname(&u);
	printf("host.cpu            %s\n", model);
	printf("host.tsc-khz        %llu\n", (unsigned long long)host_tsc_khz());
	printf("host.kernel         %s %s %s\n", u.sysname, u.release, u.machine);
	printf("host.hypervisor     %s\n", host_under_hypervisor() ? "yes (this host is a guest)" : "no");
	printf("host.fsgsbase       %s\n", host_has_fsgsbase() ? "yes" : "no");
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char why[256];

		all[i]->info(stdout);
		if (all[i]->probe(why, sizeof(why)) == 0)
			printf("engine.%-12s runs i386 paged guests\n", all[i]->name);
		else
			printf("engine.%-12s unavailable: %s\n", all[i]->name, why);
	}
	return STATUS_OK;
}
