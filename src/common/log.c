/* log.c: leveled logging to stderr. */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>

enum log_level log_threshold = LOG_WARN;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_msg(enum log_level lvl, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_threshold)
		return;
	if (lvl == LOG_DEBUG)
		fprintf(stderr, "tandem: debug: %s:%d: ", file, line);
	else
		fprintf(stderr, "tandem: %s: ", level_names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("tandem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}
