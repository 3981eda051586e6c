/* stats.c: printing the counter table and the exit-reason names. */
#include "stats.h"

#include <inttypes.h>

const char *const exit_reason_names[EXIT_NR] = {
#define X(e, s) [EXIT_##e] = s,
    EXIT_REASONS(X)
#undef X
};

void stats_print(const struct stats *s, FILE *f)
{
	int i;

	fprintf(f, "== engine exits (returns from the engine's run, by reason) ==\n");
	for (i = 0; i < EXIT_NR; i++)
		fprintf(f, "  exit.%-20s %12" PRIu64 "\n", exit_reason_names[i], s->exits[i]);
	fprintf(f, "== dispatched (device accesses and events the core handled) ==\n");
	for (i = 0; i < EXIT_NR; i++)
		fprintf(f, "  dispatch.%-16s %12" PRIu64 "\n", exit_reason_names[i],
		        s->dispatched[i]);
	fprintf(f, "== core ==\n");
#define X(fld, d) fprintf(f, "  %-25s %12" PRIu64 "   %s\n", #fld, s->fld, d);
	CORE_STATS(X)
#undef X
	fprintf(f, "  %-25s %12.3f   %s\n", "wall_ms", (double)s->wall_ns / 1e6,
	        "guest run time, milliseconds");
}
