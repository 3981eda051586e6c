/* bench_signal.c: SIGINT/SIGTERM/SIGHUP during `tandem bench`: end the child's group, remove temp
 * files. */
#include "bench_signal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTMP 8
#define GRACE_TICKS 150 /* 20 ms each: 3 s for the group to end on SIGTERM */

static volatile sig_atomic_t child_pgid;
static char tmp_paths[NTMP][256];
static volatile sig_atomic_t tmp_used[NTMP];

/*
 * Only async-signal-safe calls here. SIGTERM first, so the nested-KVM script's
 * EXIT trap removes its own files and QEMU exits; SIGKILL what is left after the grace.
 */
static void on_signal(int sig)
{
	struct timespec tick = {0, 20 * 1000 * 1000};
	pid_t pg = (pid_t)child_pgid;

	if (pg > 0) {
		kill(-pg, SIGTERM);
		for (int i = 0; i < GRACE_TICKS; i++) {
			if (waitpid(pg, NULL, WNOHANG) != 0 && kill(-pg, 0) && errno == ESRCH)
				break;
			nanosleep(&tick, NULL);
		}
		kill(-pg, SIGKILL);
		waitpid(pg, NULL, WNOHANG);
	}
	for (int i = 0; i < NTMP; i++)
		if (tmp_used[i])
			unlink(tmp_paths[i]);
	_exit(128 + sig);
}

int nb_sig_install(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_ONSTACK; /* bt may run with RSP in guest memory (src/bt/bt_rsp.h) */
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]); /* a second Ctrl-C waits for the first cleanup */
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

void nb_sig_child(pid_t pgid)
{
	child_pgid = pgid;
}

int nb_sig_tmp(const char *path)
{
	for (int i = 0; i < NTMP; i++) {
		if (tmp_used[i])
			continue;
		snprintf(tmp_paths[i], sizeof(tmp_paths[i]), "%s", path);
		tmp_used[i] = 1;
		return 0;
	}
	return -1;
}

void nb_sig_untmp(const char *path)
{
	for (int i = 0; i < NTMP; i++)
		if (tmp_used[i] && !strcmp(tmp_paths[i], path))
			tmp_used[i] = 0;
}

int nb_mktemp(const char *what, char *path, size_t len)
{
	const char *dir = getenv("TMPDIR");
	sigset_t all, old;
	int fd, ret = 0;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(path, len, "%s/tandem-bench-%s.XXXXXX", dir, what) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* No signal between creating the file and registering it. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	fd = mkstemp(path);
	if (fd < 0 || nb_sig_tmp(path)) {
		if (fd >= 0) {
			unlink(path);
			errno = ENFILE;
		}
		ret = -1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (fd >= 0)
		close(fd);
	return ret;
}
