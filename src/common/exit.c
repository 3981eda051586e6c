/* exit.c: the exit record's message constructor (the others are inline in exit.h). */
#include "exit.h"

#include <stdarg.h>
#include <stdio.h>

void exit_make_msg(struct exit_record *ex, enum exit_reason r, uint32_t eip, uint64_t code,
                   const char *fmt, ...)
{
	va_list ap;

	exit_make(ex, r, eip, false);
	ex->code = code;
	va_start(ap, fmt);
	vsnprintf(ex->what, sizeof(ex->what), fmt, ap);
	va_end(ap);
}
