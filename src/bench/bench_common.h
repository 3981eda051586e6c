/* bench_common.h: what `tandem bench` and `tandem report` share: paths, host facts, output. */
#ifndef TANDEM_BENCH_COMMON_H
#define TANDEM_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "results.h"

/* Is name one of the comma-separated words of list? */
bool strstr_list(const char *list, const char *name);

/*
 * This executable, the default nanobench guest (next to it: guests/nanobench.elf)
 * and the nested-KVM script (scripts/ of the source tree). 0 or -1.
 */
int bench_paths(char *tandem, char *guest, char *nested, size_t len);

/* Host facts, date, tandem's version, and the guest's identity (size and FNV-1a hash). */
void bench_host_info(struct nb_run *run, const char *guest);

/* The paper's figures (nanobench/paper-fig4.tsv of the source tree); NULL if unreadable. */
const struct nb_paper *bench_paper(void);

/* Print run in format with the paper's columns, to out (a file) or stdout. A status. */
int bench_output(const struct nb_run *run, int format, const char *baseline, const char *out);

#endif
