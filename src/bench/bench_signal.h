/*
 * bench_signal.h: clean interruption of `tandem bench`: on SIGINT, SIGTERM or
 * SIGHUP the process group of the engine child running now (an engine, the
 * nested QEMU VM, qemu-system-i386) is ended and the temporary files are removed,
 * then tandem exits with 128 + the signal (130 for SIGINT, 143 for SIGTERM).
 */
#ifndef TANDEM_BENCH_SIGNAL_H
#define TANDEM_BENCH_SIGNAL_H

#include <sys/types.h>

/* Install the handlers (once, before the first child). 0, or -1 with errno. */
int nb_sig_install(void);

/*
 * The process group to end on a signal: pgid > 0 while a child runs, 0 when
 * none does. The child must lead its own group (setpgid) before this is set.
 */
void nb_sig_child(pid_t pgid);

/*
 * Register a temporary file (path stays valid until removed) to unlink on a
 * signal; 0, or -1 when the table (8 entries) is full. nb_sig_untmp() forgets it.
 */
int nb_sig_tmp(const char *path);
void nb_sig_untmp(const char *path);

/*
 * A temporary file "tandem-bench-<what>.XXXXXX" in $TMPDIR (else /tmp), created
 * (mode 0600), closed and registered with nb_sig_tmp. 0, or -1 with errno.
 */
int nb_mktemp(const char *what, char *path, size_t len);

#endif
