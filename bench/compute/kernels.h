/*
 * kernels.h: the compute benchmark's workload, in the spirit of CoreMark: linked-list
 * walk/insert/sort, an integer matrix multiply, a number-parsing state machine,
 * CRC-16/CRC-32 and a heap sort, all plain freestanding C99 integer code.
 *
 * The same kernels.c is compiled with the same flags into the ring 3 guest
 * (bench/compute/guest) and into the 32-bit host process (bench/compute/host/native.c), so the
 * two run the same instruction mix.
 */
#ifndef TANDEM_BENCH_COMPUTE_KERNELS_H
#define TANDEM_BENCH_COMPUTE_KERNELS_H

#include <stdint.h>

/* About 0.5-1 s natively on the development host (~1 ms an iteration). */
#define COMPUTE_DEFAULT_ITERS 600u

/* The output line both the guest and the native driver print (parsed by
 * scripts/compute-bench.sh). Arguments: iterations, checksum, cycles (unsigned long long). */
#define COMPUTE_RESULT_FMT "compute: iterations=%u checksum=0x%08x cycles=%llu\n"

/*
 * Runs `iterations` iterations of every kernel and returns a checksum that depends on
 * each kernel's result in each iteration (iteration i works on data seeded from i).
 * Deterministic: the same iterations give the same checksum on every engine.
 * Touches only static storage in kernels.c; no library calls, no floating point.
 */
uint32_t compute_run(uint32_t iterations);

#endif
