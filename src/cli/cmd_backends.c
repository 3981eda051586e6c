/* cmd_backends.c: `tandem backends`: the registry (backends.c) and what this host can run. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "backends.h"
#include "bench_common.h"
#include "cli.h"
#include "status.h"

/* The suites a row belongs to, as "nano,macro,...", into buf. */
static const char *suites_text(const struct backend *b, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned bit = 1; bit & SUITE_ALL; bit <<= 1)
		if (b->suites & bit)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
			                         backend_suite_name(bit));
	if (!used)
		snprintf(buf, len, "-");
	return buf;
}

int cmd_backends(int argc, char **argv)
{
	char tandem[PATH_MAX], guest[PATH_MAX], nested[PATH_MAX], why[256], suites[64];
	bool names = false, avail_only = false, defaults = false;
	unsigned suite = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--names"))
			names = true;
		else if (!strcmp(argv[i], "--available"))
			avail_only = true;
		else if (!strcmp(argv[i], "--defaults"))
			defaults = names = true;
		else if (!strcmp(argv[i], "--suite") && i + 1 < argc) {
			suite = backend_suite_bit(argv[++i]);
			if (!suite)
				return usage_error(
				    "backends --suite %s: known suites: nano, macro, "
				    "linux, compute",
				    argv[i]);
		} else
			return usage_error("backends: unknown argument '%s'", argv[i]);
	}
	if (defaults && !suite)
		return usage_error("backends --defaults: needs --suite NAME");
	if (bench_paths(tandem, guest, nested, sizeof(nested)))
		return STATUS_HOST;
	for (size_t i = 0; i < backend_count(); i++) {
		const struct backend *b = backend_at(i);
		bool ok;

		if (suite ? !((defaults ? b->defaults : b->suites) & suite) : false)
			continue;
		ok = backend_available(b, suite, nested, why, sizeof(why));
		if (avail_only && !ok)
			continue;
		if (names) {
			puts(b->name);
			continue;
		}
		printf("%-14s %-6s %-3s %-25s %s%s%s\n", b->name, backend_kind_name(b->kind),
		       b->runs_guest ? "run" : "-", suites_text(b, suites, sizeof(suites)),
		       ok ? "yes" : "no", ok ? "" : ": ", why);
	}
	return STATUS_OK;
}
