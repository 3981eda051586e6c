/* engines.c: the table of engines selectable with --backend. */
#include "engine.h"

#include <string.h>

static const struct engine_ops *const engines[] = {&kvm_engine_ops, &bt_engine_ops};

const struct engine_ops *engine_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(engines) / sizeof(engines[0]); i++)
		if (strcmp(engines[i]->name, name) == 0)
			return engines[i];
	return NULL;
}

const char *engine_names(void)
{
	return "kvm, bt";
}
