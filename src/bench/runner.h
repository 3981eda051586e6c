/* runner.h: running the nanobench guest on an engine (a child process) into a column. */
#ifndef TANDEM_RUNNER_H
#define TANDEM_RUNNER_H

#include "native.h"
#include "results.h"

struct nb_runner {
	const char *tandem;     /* this executable */
	const char *guest;      /* nanobench.elf */
	const char *nested;     /* scripts/nested-kvm.sh, for kvm-nested */
	double timeout;         /* per engine run, seconds */
	char cmdline[256];      /* the guest's: repeat=, mincycles=, tests= */
};

/*
 * Run the guest under backend ("bt", "bt-noadapt", "kvm", "kvm-nested", "qemu") and
 * fill col. A backend this host cannot run is a column with available=false and
 * the reason; a guest that misbehaves too. Never fails otherwise.
 */
void nb_run_backend(const struct nb_runner *r, const char *backend, struct nb_column *col);

/* Parse the guest's "nanobench: ..." lines into col (exposed for the tests). 0, or -1 with no rows. */
int nb_parse_guest(const char *text, struct nb_column *col);

#endif
