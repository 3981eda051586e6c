/*
 * bench/compute/manifest.h: the compute suite (scripts/compute-bench.sh: CoreMark-style
 * integer kernels, bench/compute/kernels.c, as a guest and as host processes), one
 * row. `tandem bench --list --suite compute` and the README's table expand it; the
 * guest (bench/compute/guest) and the host runs (compute-native, compute-native64) share
 * the kernels and COMPUTE_DEFAULT_ITERS (kernels.h). Adding a row: one line here plus
 * its kernel in kernels.c (compute_run runs them all, one checksum).
 *
 * X(name, paper, scale, desc): as bench/linux/manifest.h's.
 * Unit: TSC cycles per run of compute_run's iterations (the guest's rdtsc in ring 3).
 */
#ifndef TANDEM_BENCH_COMPUTE_MANIFEST_H
#define TANDEM_BENCH_COMPUTE_MANIFEST_H

#define COMPUTE_UNIT "cycles per run"

#define COMPUTE_ROWS(X)                                                                            \
	X(compute, "-", "--iters N iterations of every kernel",                                    \
	  "list walk/insert/sort, matrix multiply, number parsing, CRC-16/32, heap sort: a "       \
	  "checksum")

#endif
