/*
 * suite_linux_run.c: one engine's column of `tandem bench --suite linux`: boot
 * Linux (or, for native, run busybox sh on the host) in a child process, read its
 * serial stream through a pipe, and time each workload on the host's monotonic
 * clock between the start and end lines as they arrive; the paper's figures.
 */
#include "suite_linux.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_signal.h"
#include "status.h"

#define LINE_MAX_LEN 512
#define MEM_MB "256"
/*
 * A run shorter than this is not resolved: the start and end lines may reach the
 * host in one read (a busy host schedules the reader milliseconds late).
 */
#define LINUX_MIN_RUN_S 0.010
#define LINUX_MAX_HANGS 2 /* boots after bt's known engine hang (status 16) */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail_col(struct nb_column *col, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail_col(struct nb_column *col, const char *fmt, ...)
{
	va_list ap;

	if (!col->available)
		return; /* the first reason stands */
	col->available = false;
	col->failed = true;
	va_start(ap, fmt);
	vsnprintf(col->reason, sizeof(col->reason), fmt, ap);
	va_end(ap);
}

const struct nb_paper *nb_linux_paper(void)
{
	static struct nb_paper p;

	for (int b = 0; b < NB_NR; b++)
		p.native[b] = p.bt[b] = p.hw[b] = NAN;
	/* 40,000 processes: 6.0 s, 36.9 s and 106.4 s, as ns per process. */
	p.native[NB_LINUX_forkwait] = 6.0e9 / 40000;
	p.bt[NB_LINUX_forkwait] = 36.9e9 / 40000;
	p.hw[NB_LINUX_forkwait] = 106.4e9 / 40000;
	snprintf(p.finding[NB_LINUX_forkwait], sizeof(p.finding[0]), "bt");
	snprintf(p.note[NB_LINUX_forkwait], sizeof(p.note[0]), "forkwait, 40,000 processes");
	return &p;
}

static int row_of(const char *name)
{
	const struct nb_suite *su = nb_suite_find("linux");

	for (int i = 0; i < su->nrows; i++)
		if (!strcmp(su->rows[i], name))
			return i;
	return -1;
}

int nb_linux_line(const char *line, double t, double t0, double start[NB_LINUX_NR], double *boot,
                  struct nb_column *col)
{
	char name[32], result[128];
	unsigned long long count;
	struct nb_cell *c;
	int b;

	if (!strncmp(line, "tandem-linux: init running", 26)) {
		*boot = t - t0;
		return 0;
	}
	if (!strcmp(line, "tandem-linux: done"))
		return 1;
	if (sscanf(line, "tandem-linux: fail %31[^:]", name) == 1) {
		fail_col(col, "workload %s failed: %.120s", name, line + 19);
		return -1;
	}
	if (sscanf(line, "tandem-linux: start %31s", name) == 1 && (b = row_of(name)) >= 0) {
		start[b] = t;
		return 0;
	}
	if (sscanf(line, "tandem-linux: end %31s n=%llu %127[^\n]", name, &count, result) != 3 ||
	    (b = row_of(name)) < 0)
		return 0; /* the kernel's own lines */
	c = &col->cell[b];
	if (isnan(start[b]) || !count) {
		fail_col(col, "workload %s ended without a start (or n=0)", name);
		return -1;
	}
	if (c->present && (c->iters != count || strncmp(c->note + 7, result, strlen(result)) ||
	                   (c->note[7 + strlen(result)] && c->note[7 + strlen(result)] != ';'))) {
		fail_col(col, "workload %s: result %.40s differs from the first run's %.40s", name,
		         result, c->note + 7);
		return -1;
	}
	if (c->nsamples < NB_MAX_SAMPLES)
		c->samples[c->nsamples++] = (t - start[b]) * 1e9 / (double)count;
	if (!c->present)
		snprintf(c->note, sizeof(c->note), "result %.88s", result);
	if (t - start[b] < LINUX_MIN_RUN_S && !strchr(c->note, ';')) {
		size_t k = strlen(c->note);

		snprintf(c->note + k, sizeof(c->note) - k, "; a run under 10 ms: unresolved");
	}
	c->present = true;
	c->iters = count;
	start[b] = NAN;
	return 0;
}

/* The kernel command line of a boot that runs r's workloads. */
static void append_line(const struct nb_linux_runner *r, char *buf, size_t len)
{
	snprintf(buf, len,
	         "console=ttyS0 quiet nolapic noapic acpi=off tandem.run=bench tandem.n=%ld "
	         "tandem.rep=%d "
	         "tandem.w=%s",
	         r->n, r->repeat, r->workloads);
}

/* argv for backend into argv (strings in bufs); false for an unknown backend. */
static bool build_argv(const struct nb_linux_runner *r, const char *backend, char **argv,
                       char bufs[4][640])
{
	int n = 0;

	snprintf(bufs[0], sizeof(bufs[0]), "%g", r->timeout);
	append_line(r, bufs[1], sizeof(bufs[1]));
	if (!strcmp(backend, "native")) {
		char *w = bufs[3], *p;

		snprintf(bufs[2], sizeof(bufs[2]), "%ld %d %s", r->n, r->repeat, r->data);
		snprintf(w, sizeof(bufs[3]), "%s", r->workloads);
		for (p = w; *p; p++)
			*p = *p == ',' ? ' ' : *p;
		snprintf(bufs[1], sizeof(bufs[1]),
		         ". \"$0\" && tandem_workloads %s %s && echo 'tandem-linux: done'", bufs[2],
		         w);
		argv[n++] = (char *)r->busybox;
		argv[n++] = "sh", argv[n++] = "-c", argv[n++] = bufs[1];
		argv[n++] = (char *)r->script;
	} else if ((n = nb_run_argv(backend_in_suite(backend, SUITE_LINUX), r->tandem, r->nested,
	                            bufs[0], argv))) {
		/*
		 * qemu: --cpu p6 is -cpu pentium3 (run_qemu.c), which has PGE; tandem's
		 * engines get --cpu max, p6 plus PGE, so Linux maps its kernel global
		 * under every engine (with p6 alone, every CR3 load would drop the
		 * kernel's shadow and jump-cache entries under bt, not under qemu).
		 */
		argv[n++] = "--cpu";
		argv[n++] = backend_find(backend)->kind == BACKEND_QEMU ? "p6" : "max";
		argv[n++] = "--mem", argv[n++] = MEM_MB "M";
		argv[n++] = "--kernel", argv[n++] = (char *)r->kernel;
		argv[n++] = "--initrd", argv[n++] = (char *)r->initrd;
		argv[n++] = "--append", argv[n++] = bufs[1];
	} else {
		return false;
	}
	argv[n] = NULL;
	return true;
}

/*
 * Start argv in its own process group (pinned to cpu when >= 0), stdout into a
 * pipe (*out), stderr into the file err. The child's pid, or -1 with errno.
 */
static pid_t start_child(char *const argv[], const struct nb_linux_runner *r, const char *err,
                         int *out)
{
	sigset_t block, old;
	int fd[2];
	pid_t pid;

	if (pipe2(fd, O_CLOEXEC))
		return -1;
	fflush(NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (e < 0 || in < 0 || setpgid(0, 0) || nb_pin(r->pin) || dup2(in, 0) < 0 ||
		    dup2(fd[1], 1) < 0 || dup2(e, 2) < 0)
			_exit(127);
		setenv("TANDEM_WORK", r->work, 1);
		setenv("BUSYBOX", r->busybox, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid > 0) {
		setpgid(pid, pid);
		nb_sig_child(pid);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(fd[1]);
	if (pid < 0)
		close(fd[0]);
	else
		*out = fd[0];
	return pid;
}

struct reader {
	char line[LINE_MAX_LEN];
	size_t len;
	double start[NB_LINUX_NR], t0, boot;
	int done; /* 1: "done" seen; -1: the column failed */
	uint64_t cpus;
};

/* Feed n bytes that arrived at time t; each complete line is parsed at once. */
static void feed(struct reader *rd, const char *buf, size_t n, double t, struct nb_column *col)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\r')
			continue;
		if (buf[i] != '\n') {
			if (rd->len < sizeof(rd->line) - 1)
				rd->line[rd->len++] = buf[i];
			continue;
		}
		rd->line[rd->len] = '\0';
		rd->len = 0;
		if (rd->done >= 0) {
			int v = nb_linux_line(rd->line, t, rd->t0, rd->start, &rd->boot, col);

			rd->done = v ? v : rd->done;
		}
	}
}

/* Read the child's output until EOF or the deadline; the child's exit status, or -1 on timeout. */
static int collect(pid_t pid, int fd, double timeout, struct reader *rd, struct nb_column *col)
{
	double deadline = rd->t0 + timeout, next_sample = rd->t0;
	char buf[4096];
	int st = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int k = poll(&p, 1, 100);
		double t = now_s();
		ssize_t n;

		if (t >= next_sample) {
			nb_sample_cpus(pid, &rd->cpus);
			next_sample = t + 0.1;
		}
		if (t > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		if (k <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		feed(rd, buf, (size_t)n, t, col);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL); /* anything left behind in its group */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void describe(struct nb_column *col, const char *backend, const struct nb_linux_runner *r)
{
	memset(col, 0, sizeof(*col));
	snprintf(col->name, sizeof(col->name), "%s", backend);
	if (!strcmp(backend, "native"))
		snprintf(col->label, sizeof(col->label),
		         "the host: the same i386 busybox and tandem-work");
	else
		snprintf(col->label, sizeof(col->label), "%s", nb_backend_label(backend));
	col->hw_timing = !backend_find(backend) || backend_find(backend)->hw_timing;
	col->available = true;
	col->empty = NAN;
	col->load_before = nb_loadavg();
	col->load_after = NAN;
	snprintf(col->settings, sizeof(col->settings), "n=%ld repeat=%d workloads=%.60s%s", r->n,
	         r->repeat, r->workloads,
	         strcmp(backend, "native") ? "; one boot, " MEM_MB " MiB" : "");
	if (r->pin >= 0) {
		size_t k = strlen(col->settings);

		snprintf(col->settings + k, sizeof(col->settings) - k, "; pinned to CPU %d",
		         r->pin);
	}
	for (int b = 0; b < NB_LINUX_NR; b++)
		snprintf(col->cell[b].note, sizeof(col->cell[b].note), "not run");
}

/* After the run: every requested workload must have its samples; the boot time into settings. */
static void finish(const struct nb_linux_runner *r, struct reader *rd, struct nb_column *col,
                   const char *backend)
{
	size_t k = strlen(col->settings);
	int b;

	if (strcmp(backend, "native") && rd->boot > 0)
		snprintf(col->settings + k, sizeof(col->settings) - k,
		         "; boot to init %.1f s (excluded)", rd->boot);
	for (b = 0; b < NB_LINUX_NR && col->available; b++) {
		const char *name = nb_suite_find("linux")->rows[b];

		if (strstr_list(r->workloads, name) && col->cell[b].nsamples != r->repeat)
			fail_col(col, "%s: workload %s gave %d of %d samples", backend, name,
			         col->cell[b].nsamples, r->repeat);
	}
}

/* One boot (or native run) into col; true when it ended in bt's known engine hang (status 16). */
static bool attempt(const struct nb_linux_runner *r, const char *backend, char **argv,
                    struct nb_column *col)
{
	char err[256], why[160] = "";
	struct reader rd = {0};
	bool hung = false;
	int fd = -1, st;
	pid_t pid;

	for (int b = 0; b < NB_LINUX_NR; b++)
		rd.start[b] = NAN;
	if (nb_mktemp("err", err, sizeof(err))) {
		fail_col(col, "%s: cannot make a temporary file: %s", backend, strerror(errno));
		return false;
	}
	rd.t0 = now_s();
	pid = start_child(argv, r, err, &fd);
	if (pid < 0) {
		fail_col(col, "%s: cannot start %s: %s", backend, argv[0], strerror(errno));
	} else {
		st = collect(pid, fd, r->timeout + 30, &rd, col);
		nb_sig_child(0);
		close(fd);
		nb_first_line(err, why, sizeof(why));
		hung =
		    st == STATUS_HOST && !strncmp(backend, "bt", 2) && strstr(why, "engine hung");
		if (st < 0) {
			fail_col(col, "%s: did not finish within %g s", backend, r->timeout + 30);
		} else if (st == 127) {
			col->available = false;
			snprintf(col->reason, sizeof(col->reason),
			         "%s: cannot run %.100s (not installed?)", backend, argv[0]);
		} else if (st == STATUS_NOCAP || st == 77) {
			col->available = false;
			snprintf(col->reason, sizeof(col->reason), "%.180s",
			         why[0] ? why : backend);
		} else if (st != (strcmp(backend, "native") ? 1 : 0) || rd.done != 1) {
			fail_col(col, "%.100s: ended with status %d%s", why[0] ? why : backend, st,
			         rd.done == 1 ? "" : " before the init's last line");
		}
		if (col->available)
			finish(r, &rd, col, backend);
	}
	col->load_after = nb_loadavg();
	nb_cpus_text(rd.cpus, col->cpus, sizeof(col->cpus));
	unlink(err);
	nb_sig_untmp(err);
	return hung;
}

enum nb_outcome nb_linux_column(const struct nb_linux_runner *r, const char *backend,
                                struct nb_column *col)
{
	const struct backend *b = backend_in_suite(backend, SUITE_LINUX);
	char *argv[48], bufs[4][640];

	describe(col, backend, r);
	/* native runs the i386 programs on the host: the registry's probe (HOST_CAP_IA32) */
	if (b && b->kind == BACKEND_NATIVE &&
	    !backend_available(b, SUITE_LINUX, r->nested, col->reason, sizeof(col->reason))) {
		col->available = false;
		return NB_CANNOT;
	}
	if (!build_argv(r, backend, argv, bufs)) {
		fail_col(col, "%s: no such engine", backend);
		return NB_FAILED;
	}
	/*
	 * A known open bug (README, Linux): bt sometimes stops answering kicks inside
	 * Linux (one boot in five on an idle host, one in two under load) and its
	 * watchdog ends the run with status 16. Announced, up to two more boots, and
	 * the column says how many hung.
	 */
	for (int hung = 0; attempt(r, backend, argv, col) && hung < LINUX_MAX_HANGS; hung++) {
		size_t k;

		fprintf(
		    stderr,
		    "bench: %s: known bug: engine hung inside Linux (status 16); another boot\n",
		    backend);
		describe(col, backend, r);
		k = strlen(col->settings);
		snprintf(col->settings + k, sizeof(col->settings) - k,
		         "; %d boot%s hung before this one", hung + 1, hung ? "s" : "");
	}
	if (col->available)
		return NB_MEASURED;
	return col->failed ? NB_FAILED : NB_CANNOT;
}
