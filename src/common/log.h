/* log.h: leveled logging to stderr (kvmtool style). */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* The current threshold; messages above it are dropped. Default LOG_WARN. */
extern enum log_level log_threshold;

/* Print "tandem: <msg>" (file:line at LOG_DEBUG) to stderr when lvl <= log_threshold. */
void log_msg(enum log_level lvl, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Print "tandem: <msg>" and exit(status). Only during set-up. */
void die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#define log_err(...) log_msg(LOG_ERR, __FILE__, __LINE__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_threshold >= LOG_DEBUG)                                                    \
			log_msg(LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__);                       \
	} while (0)

/* Hot-path tracing compiles out unless built with -DTANDEM_TRACE. */
#ifdef TANDEM_TRACE
#define trace(...) log_debug(__VA_ARGS__)
#else
#define trace(...) ((void)0)
#endif

#endif
