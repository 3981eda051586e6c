/*
 * run_qemu.c: `tandem run --backend qemu`: the same guest under qemu-system-i386 (TCG),
 * the reference every test and benchmark compares against. This file is the one place
 * that spells QEMU's command line; scripts and the benchmark runner go through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "monitor.h"
#include "status.h"

#define QEMU_BIN "qemu-system-i386"
#define QEMU_MAX_ARGS 40

/* QEMU's -initrd for Multiboot: "FILE ARGS" per module, joined by commas. */
static int module_list(const struct monitor_opts *o, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < o->nmodules; i++) {
		const struct loader_module *mod = &o->modules[i];
		int n = snprintf(buf + used, len - used, "%s%s%s%s", i ? "," : "", mod->path,
		                 mod->cmdline ? " " : "", mod->cmdline ? mod->cmdline : "");

		if (n < 0 || (size_t)n >= len - used)
			return -1;
		if (strchr(mod->path, ',') || (mod->cmdline && strchr(mod->cmdline, ',')))
			return -1; /* QEMU splits the list at commas */
		used += (size_t)n;
	}
	return 0;
}

/* The argument vector; n arguments, or -1 (the message printed). */
static int qemu_argv(const struct monitor_opts *o, char **argv, char *mem, size_t memlen,
                     char *serial, size_t seriallen, char *mods, size_t modslen)
{
	static char dev[] = "isa-debug-exit,iobase=0xf4,iosize=0x04";
	int n = 0;

	/* in KiB: --mem is any multiple of 4 KiB (8204K was passed as 8M, RAM cut short) */
	snprintf(mem, memlen, "%lluK", (unsigned long long)(o->mem >> 10));
	if (o->serial)
		snprintf(serial, seriallen, "file:%s", o->serial);
	else
		snprintf(serial, seriallen, "stdio");
	if (module_list(o, mods, modslen)) {
		usage_error("--backend qemu: module paths and arguments must not contain ',' "
		            "(QEMU separates modules with commas) and must fit %zu bytes",
		            modslen);
		return -1;
	}
	argv[n++] = QEMU_BIN;
	argv[n++] = "-accel", argv[n++] = "tcg";
	if (o->cpu) /* QEMU's nearest model: pentium3 is family 6 as tandem's p6 */
		argv[n++] = "-cpu", argv[n++] = !strcmp(o->cpu->name, "p6") ? "pentium3" : "max";
	argv[n++] = "-m", argv[n++] = mem;
	argv[n++] = "-kernel", argv[n++] = (char *)o->kernel;
	if (o->nmodules)
		argv[n++] = "-initrd", argv[n++] = mods;
	argv[n++] = "-append", argv[n++] = (char *)o->cmdline;
	argv[n++] = "-display", argv[n++] = "none";
	argv[n++] = "-serial", argv[n++] = serial;
	argv[n++] = "-monitor", argv[n++] = "none";
	argv[n++] = "-no-reboot";
	argv[n++] = "-device", argv[n++] = dev;
	argv[n] = NULL;
	return n;
}

/* In the child: stdin from /dev/null, die with the parent, exec QEMU; errno to errfd. */
static void exec_child(char **argv, int errfd, const sigset_t *old)
{
	int fd = open("/dev/null", O_RDONLY);
	int e;

	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigprocmask(SIG_SETMASK, old, NULL);
	execvp(argv[0], argv);
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* Wait for pid up to timeout seconds (0: forever) with SIGCHLD blocked; 1 timed out. */
static int wait_child(pid_t pid, double timeout, int *wstatus)
{
	struct timespec end, now, left;
	sigset_t chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)timeout;
	end.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (end.tv_nsec >= 1000000000L)
		end.tv_sec++, end.tv_nsec -= 1000000000L;
	for (;;) {
		pid_t r = waitpid(pid, wstatus, timeout > 0 ? WNOHANG : 0);

		if (r == pid)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r < 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0)
			left.tv_sec--, left.tv_nsec += 1000000000L;
		if (left.tv_sec < 0)
			return 1;
		sigtimedwait(&chld, NULL, &left);
	}
}

int run_qemu(const struct monitor_opts *o)
{
	char *argv[QEMU_MAX_ARGS], mem[32], serial[4200], mods[8192];
	sigset_t chld, old;
	int pipefd[2], wstatus = 0, e = 0, r;
	pid_t pid;

	if (o->stats || o->trace || o->no_adaptive)
		return usage_error("--backend qemu: --stats, --trace and --no-adaptive are "
		                   "tandem-engine options");
	if (qemu_argv(o, argv, mem, sizeof(mem), serial, sizeof(serial), mods, sizeof(mods)) < 0)
		return STATUS_USAGE;
	if (access(o->kernel, R_OK)) {
		log_err("%s: %s", o->kernel, strerror(errno));
		return STATUS_LOAD;
	}
	if (pipe2(pipefd, O_CLOEXEC))
		return log_err("pipe: %s", strerror(errno)), STATUS_HOST;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	pid = fork();
	if (pid == 0)
		exec_child(argv, pipefd[1], &old);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return log_err("fork: %s", strerror(errno)), STATUS_HOST;
	}
	r = wait_child(pid, o->timeout, &wstatus);
	if (r == 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &wstatus, 0);
	}
	if (read(pipefd[0], &e, sizeof(e)) != (ssize_t)sizeof(e))
		e = 0;
	close(pipefd[0]);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (e) {
		fprintf(stderr, "tandem: qemu: cannot run %s: %s\n", QEMU_BIN, strerror(e));
		return STATUS_NOCAP;
	}
	if (r == 1) {
		log_err("qemu: --timeout %g s expired (%s killed)", o->timeout, QEMU_BIN);
		return STATUS_TIMEOUT;
	}
	if (r < 0 || !WIFEXITED(wstatus)) {
		log_err("qemu: %s ended by signal %d", QEMU_BIN,
		        WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
		return STATUS_HOST;
	}
	return WEXITSTATUS(wstatus);
}
