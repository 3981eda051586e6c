/*
 * bt_raise.c: the leaf service that records why the guest cannot go on: a pending
 * exception in cpu.exc, or an unsupported operation in bt->core_exit. It calls
 * nothing in src/bt, so every layer may raise.
 */
#include <stdarg.h>
#include <stdio.h>

#include "bt.h"

void bt_raise(struct bt *bt, int vector, bool has_err, uint32_t err)
{
	bt->cpu.exc = (struct bt_exc){.vector = vector, .has_err = has_err, .err = err};
}

void bt_unsupported(struct bt *bt, uint32_t eip, const char *fmt, ...)
{
	struct exit_record *ex = &bt->core_exit;
	va_list ap;

	exit_make(ex, EXIT_UNSUPPORTED, eip, false);
	va_start(ap, fmt);
	vsnprintf(ex->what, sizeof(ex->what), fmt, ap);
	va_end(ap);
}
