/* bt_options.c: the binary translator's own `tandem run` options (engine_ops.options). */
#include <stdio.h>
#include <string.h>

#include "engine.h"
#include "monitor.h"

/* --trace=tc (each new translation) or --trace=adapt (each adaptive retranslation). */
static int set_trace(struct monitor_opts *o, const char *arg, char *why, size_t len)
{
	if (!strcmp(arg, "tc"))
		o->trace |= TRACE_TC;
	else if (!strcmp(arg, "adapt"))
		o->trace |= TRACE_ADAPT;
	else
		return snprintf(why, len, "--trace=%s: known traces: tc, adapt", arg), -1;
	return 0;
}

/* --no-adaptive: never retranslate an instruction that faults (the paper's plain BT). */
static int set_no_adaptive(struct monitor_opts *o, const char *arg, char *why, size_t len)
{
	(void)arg, (void)why, (void)len;
	o->no_adaptive = true;
	return 0;
}

const struct engine_option bt_engine_options[] = {
    {"trace", true, "--trace=tc|adapt",
     "log each new translation (tc) or adaptive retranslation (adapt)", set_trace},
    {"no-adaptive", false, "--no-adaptive", "never retranslate instructions that fault",
     set_no_adaptive},
    {NULL, false, NULL, NULL, NULL},
};
