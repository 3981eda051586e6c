/*
 * suite_linux.h: `tandem bench --suite linux`: the paper's macro workloads
 * (forkwait, getppid, pipe, compute) inside Debian's i386 Linux, one boot per
 * engine, timed on the host's monotonic clock from the workload's start and end
 * lines on the serial stream; plus the host's own run of the same i386 programs.
 */
#ifndef TANDEM_SUITE_LINUX_H
#define TANDEM_SUITE_LINUX_H

#include <stdbool.h>

#include "results.h"
#include "runner.h"

/* The engines of the suite: the registry's SUITE_LINUX rows (src/cli/backends.c). */

/* What one engine run needs: the files scripts/linux-guest.sh prepared, and the settings. */
struct nb_linux_runner {
	const char *tandem; /* this executable */
	const char *nested; /* scripts/nested-kvm.sh */
	char kernel[512], initrd[512], busybox[512], data[512];
	char work[512];      /* tandem-work (native runs) */
	char script[512];    /* bench/linux/guest/workloads.sh (native runs) */
	char workloads[128]; /* comma list, in order */
	long n;         /* the scale: forkwait N, getppid 100 N, pipe 10 N, compute (N+49)/50 */
	int repeat;     /* runs of each workload in the one boot: the samples */
	double timeout; /* per engine, seconds */
	int pin;        /* CPU, or -1 */
};

/*
 * Parse one line of a workload's output that arrived at host time t (seconds,
 * CLOCK_MONOTONIC) into col: "tandem-linux: start W" opens a sample, "...: end W
 * n=COUNT RESULT" closes it as (t - start) * 1e9 / COUNT ns per operation, with
 * "result RESULT" as the cell's note (the result must be the same in every
 * sample: a difference fails the column; "; a run under 10 ms: ..." is appended
 * when a run was too short for the serial timing to resolve); "...: fail W: why" fails it; "...:
 * init running" records the boot time (t since t0) in *boot. start[] holds the open samples' times
 * (NAN when none), one per row. Returns 1 for "...: done", -1 when the column failed (col->reason
 * says why), else 0.
 */
int nb_linux_line(const char *line, double t, double t0, double start[NB_LINUX_NR], double *boot,
                  struct nb_column *col);

/*
 * Run the workloads on backend ("bt", "bt-noadapt", "kvm", "kvm-nested", "qemu",
 * "native") in a child process leading its own process group, reading its serial
 * stream through a pipe and timestamping each line as it arrives; fill col. A
 * backend this host cannot run is NB_CANNOT, one that misbehaves (crash, timeout,
 * a failed or missing workload) NB_FAILED, both with the reason.
 */
enum nb_outcome nb_linux_column(const struct nb_linux_runner *r, const char *backend,
                                struct nb_column *col);

/*
 * The paper's macro figures beside the rows: forkwait, 40,000 processes in
 * 6.0 s native, 36.9 s BT, 106.4 s VT-x (Adams & Agesen 2006, their forkwait benchmark), as ns
 * per process; the other rows have none.
 */
const struct nb_paper *nb_linux_paper(void);

/*
 * `tandem bench --suite linux [options]`: argv as `tandem bench` got it. Exit
 * status as `tandem bench` documents it; STATUS_NOCAP (14) with one line when
 * the Linux guest cannot be fetched or built on this host.
 */
int bench_linux(int argc, char **argv);

#endif
