/*
 * runner.c: one engine's column: run the nanobench guest in a child process
 * (tandem run, the nested-KVM script, or qemu-system-i386), with its serial
 * output captured, under a deadline, and parse the lines it prints.
 */
#include "runner.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

#define OUT_MAX (256u << 10)

static void set_reason(struct nb_column *col, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_reason(struct nb_column *col, const char *fmt, ...)
{
	va_list ap;

	col->available = false;
	va_start(ap, fmt);
	vsnprintf(col->reason, sizeof(col->reason), fmt, ap);
	va_end(ap);
}

/* The first non-empty line of a file (stderr of the child), for reasons. */
static void first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0] && strncmp(buf, "nested-kvm: booting", 19))
			break;
		buf[0] = '\0';
	}
	fclose(f);
	if (!strncmp(buf, "tandem: ", 8))
		memmove(buf, buf + 8, strlen(buf + 8) + 1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(OUT_MAX + 1);
	n = buf ? fread(buf, 1, OUT_MAX, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Run argv with stdout and stderr to files, killed after timeout seconds. Exit status, or -1. */
static int spawn(char *const argv[], const char *out, const char *err, double timeout, bool *timed_out)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	double waited = 0;
	pid_t pid;
	int st;

	*timed_out = false;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);

		if (o < 0 || e < 0 || in < 0)
			_exit(127);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -1;
		if (waited > timeout) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		nanosleep(&nap, NULL);
		waited += 0.02;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int parse_samples(char *s, struct nb_cell *c)
{
	char *tok, *save = NULL;

	c->nsamples = 0;
	for (tok = strtok_r(s, ",", &save); tok && c->nsamples < NB_MAX_SAMPLES;
	     tok = strtok_r(NULL, ",", &save))
		c->samples[c->nsamples++] = strtod(tok, NULL);
	return c->nsamples;
}

int nb_parse_guest(const char *text, struct nb_column *col)
{
	char line[1024], name[32], reason[64], samples[768];
	const char *p = text;
	int rows = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		unsigned long long iters;
		double cpi;
		int b;

		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		if (sscanf(line, "nanobench: empty iters=%llu cycles_per_iter=%lf", &iters, &cpi) == 2) {
			col->empty = cpi;
			continue;
		}
		if (sscanf(line, "nanobench: %31s skipped reason=%63s", name, reason) == 2 &&
		    (b = nb_find(name)) >= 0) {
			col->cell[b].present = false;
			snprintf(col->cell[b].note, sizeof(col->cell[b].note), "skipped: %s", reason);
			rows++;
			continue;
		}
		if (sscanf(line, "nanobench: %31s iters=%llu cycles_per_iter=%lf samples=%767s", name,
			   &iters, &cpi, samples) == 4 && (b = nb_find(name)) >= 0) {
			col->cell[b].iters = iters;
			col->cell[b].present = parse_samples(samples, &col->cell[b]) > 0;
			col->cell[b].note[0] = '\0';
			rows++;
		}
	}
	return rows ? 0 : -1;
}

/* The argument vector for a backend; NULL when it is unknown. */
static int build_argv(const struct nb_runner *r, const char *backend, char **argv, char *tbuf)
{
	int n = 0;

	snprintf(tbuf, 32, "%g", r->timeout);
	if (!strcmp(backend, "qemu")) {
		static char dev[] = "isa-debug-exit,iobase=0xf4,iosize=0x04";

		argv[n++] = "qemu-system-i386";
		argv[n++] = "-kernel", argv[n++] = (char *)r->guest;
		argv[n++] = "-m", argv[n++] = "64";
		argv[n++] = "-append", argv[n++] = (char *)r->cmdline;
		argv[n++] = "-display", argv[n++] = "none";
		argv[n++] = "-serial", argv[n++] = "stdio";
		argv[n++] = "-monitor", argv[n++] = "none";
		argv[n++] = "-no-reboot";
		argv[n++] = "-device", argv[n++] = dev;
	} else {
		if (!strcmp(backend, "kvm-nested")) {
			argv[n++] = (char *)r->nested;
			argv[n++] = "--timeout", argv[n++] = tbuf;
			argv[n++] = "--";
		}
		argv[n++] = (char *)r->tandem;
		argv[n++] = "run";
		argv[n++] = "--backend";
		argv[n++] = !strncmp(backend, "kvm", 3) ? "kvm" : "bt";
		if (!strcmp(backend, "bt-noadapt"))
			argv[n++] = "--no-adaptive";
		argv[n++] = "--timeout", argv[n++] = tbuf;
		argv[n++] = "--cmdline", argv[n++] = (char *)r->cmdline;
		argv[n++] = (char *)r->guest;
	}
	argv[n] = NULL;
	return n;
}

static void describe(struct nb_column *col, const char *backend)
{
	static const struct { const char *name, *label; } labels[] = {
		{ "bt", "tandem binary translator" },
		{ "bt-noadapt", "tandem binary translator, adaptive translation off" },
		{ "kvm", "tandem KVM trap-and-emulate (hardware)" },
		{ "kvm-nested", "tandem KVM inside a QEMU TCG+SVM VM: not hardware timing" },
		{ "qemu", "qemu-system-i386, TCG" },
	};
	unsigned i;

	snprintf(col->name, sizeof(col->name), "%s", backend);
	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(labels[i].name, backend))
			snprintf(col->label, sizeof(col->label), "%s", labels[i].label);
	col->hw_timing = strcmp(backend, "kvm-nested") != 0;
}

void nb_run_backend(const struct nb_runner *r, const char *backend, struct nb_column *col)
{
	char out[] = "/tmp/tandem-bench-out.XXXXXX", err[] = "/tmp/tandem-bench-err.XXXXXX";
	char *argv[40], tbuf[32], why[160], *text;
	bool timed_out;
	int st, b, fo, fe;

	memset(col, 0, sizeof(*col));
	describe(col, backend);
	col->available = true;
	snprintf(col->settings, sizeof(col->settings), "guest cmdline: %.140s", r->cmdline);
	for (b = 0; b < NB_NR; b++)
		snprintf(col->cell[b].note, sizeof(col->cell[b].note), "not run");
	build_argv(r, backend, argv, tbuf);
	fo = mkstemp(out);
	fe = mkstemp(err);
	if (fo < 0 || fe < 0)
		return set_reason(col, "%s: cannot make temporary files: %s", backend, strerror(errno));
	close(fo);
	close(fe);
	st = spawn(argv, out, err, r->timeout + 30, &timed_out);
	first_line(err, why, sizeof(why));
	text = slurp(out);
	if (timed_out)
		set_reason(col, "%s: did not finish within %g s", backend, r->timeout + 30);
	else if (st == 127)
		set_reason(col, "%s: cannot run %s (not installed?)", backend, argv[0]);
	else if (st == STATUS_NOCAP || st == 77)
		set_reason(col, "%s", why[0] ? why : backend);
	else if (st != 1 || !text || nb_parse_guest(text, col))
		set_reason(col, "%s: failed (exit status %d)", why[0] ? why : backend, st);
	free(text);
	unlink(out);
	unlink(err);
}
