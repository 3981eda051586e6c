/*
 * runner.c: one engine's column: run the nanobench guest in a child process
 * (tandem run --backend NAME, inside the nested-KVM script for kvm-nested), with its serial
 * output captured, under a deadline, and parse the lines it prints.
 */
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
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

#include "bench_signal.h"
#include "status.h"

#define OUT_MAX (256u << 10)

static void set_reason(struct nb_column *col, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_reason(struct nb_column *col, const char *fmt, ...)
{
	va_list ap;

	col->available = false;
	va_start(ap, fmt);
	vsnprintf(col->reason, sizeof(col->reason), fmt, ap);
	va_end(ap);
}

void nb_first_line(const char *path, char *buf, size_t len)
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

char *nb_slurp(const char *path)
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

/* Field 39 (processor) of /proc/PID/stat when the process is in group pg and running; else -1. */
static int running_cpu(const char *pid, pid_t pg)
{
	char path[64], buf[1024], *p, *tok, *save = NULL;
	int fd, field = 2, pgrp = -1, cpu = -1;
	bool running = false;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%.20s/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold blanks and parentheses */
	if (!p)
		return -1;
	for (tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		field++;
		if (field == 3)
			running = tok[0] == 'R' || tok[0] == 'Z'; /* a zombie: where it last ran */
		else if (field == 5)
			pgrp = atoi(tok);
		else if (field == 39)
			cpu = atoi(tok);
	}
	return running && pgrp == pg ? cpu : -1;
}

void nb_sample_cpus(pid_t pg, uint64_t *mask)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int cpu;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    (cpu = running_cpu(e->d_name, pg)) >= 0 && cpu < 64)
			*mask |= 1ull << cpu;
	closedir(d);
}

void nb_cpus_text(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int c = 0; c < 64 && n < len; c++)
		if (mask >> c & 1)
			n += (size_t)snprintf(buf + n, len - n, "%s%d", n ? "," : "", c);
}

int nb_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

double nb_loadavg(void)
{
	double l[1];

	return getloadavg(l, 1) == 1 ? l[0] : NAN;
}

int nb_spawn(char *const argv[], const char *out, const char *err, double timeout, int cpu,
             bool *timed_out, uint64_t *cpus)
{
	struct timespec nap = {0, 20 * 1000 * 1000};
	sigset_t block, old;
	double waited = 0;
	pid_t pid;
	int st, tick = 0;

	*timed_out = false;
	fflush(NULL);
	/* No signal between fork and registering the child's group: it would be orphaned. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (o < 0 || e < 0 || in < 0 || setpgid(0, 0) || nb_pin(cpu))
			_exit(127);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(pid, pid); /* both sides: the group exists before the handler may need it */
	nb_sig_child(pid);
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		siginfo_t info = {0};
		pid_t w;

		/* Before reaping: a short run may end between two samples; its zombie says where it
		 * ran. */
		if (!waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) &&
		    info.si_pid == pid)
			nb_sample_cpus(pid, cpus);
		w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			nb_sig_child(0);
			return -1;
		}
		if (waited > timeout) {
			*timed_out = true;
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			nb_sig_child(0);
			return -1;
		}
		if (++tick % 5 == 0) /* not at once: the child pins itself just after fork */
			nb_sample_cpus(pid, cpus);
		nanosleep(&nap, NULL);
		waited += 0.02;
	}
	kill(-pid, SIGKILL); /* anything the child left behind in its group */
	nb_sig_child(0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int parse_samples(char *s, struct nb_cell *c, int warmup)
{
	char *tok, *save = NULL;
	int k = 0;

	c->nsamples = 0;
	for (tok = strtok_r(s, ",", &save); tok && c->nsamples < NB_MAX_SAMPLES;
	     tok = strtok_r(NULL, ",", &save))
		if (k++ >= warmup)
			c->samples[c->nsamples++] = strtod(tok, NULL);
	return c->nsamples;
}

int nb_parse_guest(const char *text, struct nb_column *col, int warmup)
{
	char line[1024], name[32], reason[64], samples[768];
	const char *p = text;
	int rows = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		unsigned long long iters;
		double cpi;
		int b;

		snprintf(line, sizeof(line), "%.*s",
		         (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		p += n + (p[n] == '\n');
		if (sscanf(line, "nanobench: empty iters=%llu cycles_per_iter=%lf", &iters, &cpi) ==
		    2) {
			col->empty = cpi;
			continue;
		}
		if (sscanf(line, "nanobench: %31s skipped reason=%63s", name, reason) == 2 &&
		    (b = nb_find(name)) >= 0) {
			col->cell[b].present = false;
			snprintf(col->cell[b].note, sizeof(col->cell[b].note), "skipped: %s",
			         reason);
			rows++;
			continue;
		}
		if (sscanf(line, "nanobench: %31s iters=%llu cycles_per_iter=%lf samples=%767s",
		           name, &iters, &cpi, samples) == 4 &&
		    (b = nb_find(name)) >= 0) {
			col->cell[b].iters = iters;
			col->cell[b].present = parse_samples(samples, &col->cell[b], warmup) > 0;
			col->cell[b].note[0] = '\0';
			rows++;
		}
	}
	return rows ? 0 : -1;
}

int nb_run_argv(const struct backend *b, const char *tandem, const char *nested,
                const char *timeout, char **argv)
{
	int n = 0;

	if (!b || b->kind == BACKEND_NATIVE)
		return 0;
	/* Every guest run is `tandem run --backend NAME` (qemu included: run_qemu.c spells
	 * QEMU's command line); a NESTED row is its engine inside scripts/nested-kvm.sh's VM. */
	if (b->kind == BACKEND_NESTED) {
		argv[n++] = (char *)nested;
		argv[n++] = "--timeout", argv[n++] = (char *)timeout;
		argv[n++] = "--";
	}
	argv[n++] = (char *)tandem;
	argv[n++] = "run";
	argv[n++] = "--backend";
	argv[n++] = (char *)(b->kind == BACKEND_NESTED ? b->engine->name : b->name);
	argv[n++] = "--timeout", argv[n++] = (char *)timeout;
	return n;
}

/* The argument vector of the nanobench guest under backend. */
static void build_argv(const struct nb_runner *r, const char *backend, char **argv, char *tbuf)
{
	int n;

	snprintf(tbuf, 32, "%g", r->timeout);
	n = nb_run_argv(backend_find(backend), r->tandem, r->nested, tbuf, argv);
	argv[n++] = "--cmdline", argv[n++] = (char *)r->cmdline;
	argv[n++] = (char *)r->guest;
	argv[n] = NULL;
}

const char *nb_backend_label(const char *name)
{
	const struct backend *b = backend_find(name);

	return b ? b->label : NULL;
}

static void describe(struct nb_column *col, const char *backend)
{
	const struct backend *b = backend_find(backend);

	snprintf(col->name, sizeof(col->name), "%s", backend);
	col->hw_timing = true;
	if (b) {
		snprintf(col->label, sizeof(col->label), "%s", b->label);
		col->hw_timing = b->hw_timing;
	}
}

enum nb_outcome nb_run_backend(const struct nb_runner *r, const char *backend,
                               struct nb_column *col)
{
	char out[256], err[256], *argv[40], tbuf[32], why[160], *text;
	enum nb_outcome res = NB_FAILED;
	uint64_t cpus = 0;
	bool timed_out;
	int st, b;

	memset(col, 0, sizeof(*col));
	describe(col, backend);
	col->available = true;
	col->load_before = nb_loadavg();
	col->load_after = NAN;
	snprintf(col->settings, sizeof(col->settings), "guest cmdline: %.100s", r->cmdline);
	if (r->warmup) {
		size_t n = strlen(col->settings);

		snprintf(col->settings + n, sizeof(col->settings) - n,
		         "; first %d samples dropped (warmup)", r->warmup);
	}
	if (r->pin >= 0) {
		size_t n = strlen(col->settings);

		snprintf(col->settings + n, sizeof(col->settings) - n, "; pinned to CPU %d",
		         r->pin);
	}
	for (b = 0; b < NB_NR; b++)
		snprintf(col->cell[b].note, sizeof(col->cell[b].note), "not run");
	build_argv(r, backend, argv, tbuf);
	if (nb_mktemp("out", out, sizeof(out)) || nb_mktemp("err", err, sizeof(err))) {
		set_reason(col, "%s: cannot make temporary files: %s", backend, strerror(errno));
		col->failed = true;
		return NB_FAILED;
	}
	st = nb_spawn(argv, out, err, r->timeout + 30, r->pin, &timed_out, &cpus);
	col->load_after = nb_loadavg();
	nb_cpus_text(cpus, col->cpus, sizeof(col->cpus));
	nb_first_line(err, why, sizeof(why));
	text = nb_slurp(out);
	if (timed_out) {
		set_reason(col, "%s: did not finish within %g s", backend, r->timeout + 30);
	} else if (st == 127) {
		set_reason(col, "%s: cannot run %s (not installed?)", backend, argv[0]);
		res = NB_CANNOT;
	} else if (st == STATUS_NOCAP || st == 77) {
		set_reason(col, "%s", why[0] ? why : backend);
		res = NB_CANNOT;
	} else if (st != 1 || !text || nb_parse_guest(text, col, r->warmup)) {
		set_reason(col, "%s: failed (exit status %d)", why[0] ? why : backend, st);
	} else {
		res = NB_MEASURED;
	}
	col->failed = res == NB_FAILED;
	free(text);
	unlink(out);
	unlink(err);
	nb_sig_untmp(out);
	nb_sig_untmp(err);
	return res;
}
