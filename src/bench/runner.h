/* runner.h: running the nanobench guest on an engine (a child process) into a column. */
#ifndef TANDEM_RUNNER_H
#define TANDEM_RUNNER_H

#include <sys/types.h>

#include "backends.h"
#include "native.h"
#include "results.h"

/* The label of the registry's row name (src/cli/backends.c), or NULL when there is none. */
const char *nb_backend_label(const char *name);

/*
 * The start of the argument vector that runs a guest on b (a row that runs guests:
 * ENGINE, NESTED, QEMU) into argv: `TANDEM run --backend NAME --timeout T`, inside
 * `NESTED --timeout T --` for a NESTED row (whose NAME is its engine's). The suite
 * appends its own options and the guest. Returns the number of words (argv needs
 * 10), or 0 for a NATIVE row (nothing written). The strings are borrowed.
 */
int nb_run_argv(const struct backend *b, const char *tandem, const char *nested,
                const char *timeout, char **argv);

struct nb_runner {
	const char *tandem; /* this executable */
	const char *guest;  /* nanobench.elf */
	const char *nested; /* scripts/nested-kvm.sh, for kvm-nested */
	double timeout;     /* per engine run, seconds */
	char cmdline[256];  /* the guest's: repeat=, mincycles=, tests= */
	int pin;            /* the CPU engines run on (sched_setaffinity), or -1 */
	int warmup; /* samples to drop at the start of each cell (cmdline asks for them too) */
};

/* What became of a column. */
enum nb_outcome {
	NB_MEASURED, /* it has results */
	NB_CANNOT,   /* this host cannot run it (no KVM, no qemu installed): the reason is set */
	NB_FAILED,   /* it broke: crash, timeout, no output; the reason is set, col->failed */
};

/*
 * Run the guest under backend ("bt", "bt-noadapt", "kvm", "kvm-nested", "qemu") in
 * a child process leading its own process group (ended with tandem on SIGINT or
 * SIGTERM, see bench_signal.h) and fill col, including the CPUs it was seen
 * running on and the load average around it (not its host provenance). A backend
 * this host cannot run is NB_CANNOT, one that misbehaves NB_FAILED, both with
 * available=false and the reason.
 */
enum nb_outcome nb_run_backend(const struct nb_runner *r, const char *backend,
                               struct nb_column *col);

/*
 * Parse the guest's "nanobench: ..." lines into col (exposed for the tests),
 * dropping the first warmup samples of each cell. 0, or -1 with no rows.
 */
int nb_parse_guest(const char *text, struct nb_column *col, int warmup);

/*
 * Run argv with stdout and stderr to the files out and err, in its own process
 * group (pinned to cpu when >= 0; ended with tandem on SIGINT/SIGTERM, see
 * bench_signal.h), killed with its group after timeout seconds (*timed_out set);
 * the CPUs it was seen running on are added to *cpus. Its exit status (128 + the
 * signal when one ended it), or -1 (timed out, fork failed).
 */
int nb_spawn(char *const argv[], const char *out, const char *err, double timeout, int cpu,
             bool *timed_out, uint64_t *cpus);

/*
 * The first line of file path that says something (a child's stderr, for a reason):
 * the nested rig's "nested-kvm: booting" lines skipped, tandem's "tandem: " prefix
 * dropped, truncated to len - 1 bytes; "" when the file is missing or says nothing.
 */
void nb_first_line(const char *path, char *buf, size_t len);
/* File path's first 256 KiB, NUL-terminated, malloc'd (the caller frees); NULL if it
 * cannot be opened or memory runs out. */
char *nb_slurp(const char *path);

/* Restrict the calling process to cpu (cpu < 0: no change). 0, or -1 with errno. */
int nb_pin(int cpu);

/* Add the CPUs the members of process group pg are running on now to mask (bit i: CPU i < 64). */
void nb_sample_cpus(pid_t pg, uint64_t *mask);

/* The CPUs of mask as "0,1" into buf ("" when none). */
void nb_cpus_text(uint64_t mask, char *buf, size_t len);

/* The 1-minute load average, NAN when unknown. */
double nb_loadavg(void);

#endif
