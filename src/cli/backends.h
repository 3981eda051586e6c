/*
 * backends.h: the one table of backends: every name `tandem run --backend`, `tandem
 * bench --backends` (each suite), `tandem backends`, the tests and the scripts accept.
 * A backend is an engine (bt, kvm) with the options it implies (bt-noadapt), an engine
 * inside the nested-KVM VM (kvm-nested), the reference (qemu), or the host itself
 * (native, native-signal, native64: a suite's host analogs). Adding one is a row of
 * backends.c's table (plus its runner when it is a new kind).
 */
#ifndef TANDEM_BACKENDS_H
#define TANDEM_BACKENDS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"

/* How a backend runs a guest. */
enum backend_kind {
	BACKEND_ENGINE, /* tandem's own engine, in this process (`tandem run`) */
	BACKEND_NESTED, /* the engine inside scripts/nested-kvm.sh's QEMU+SVM VM */
	BACKEND_QEMU,   /* qemu-system-i386 -accel tcg (run_qemu.c spells its line) */
	BACKEND_NATIVE, /* no guest: the suite's host-process analogs */
};

/* The benchmark suites, as bits of struct backend's suites and defaults. */
enum bench_suite_bit {
	SUITE_NANO = 1u << 0,
	SUITE_MACRO = 1u << 1,
	SUITE_LINUX = 1u << 2,
	SUITE_COMPUTE = 1u << 3, /* scripts/compute-bench.sh */
	SUITE_ALL = 0xfu,
};

struct backend {
	const char *name; /* --backend / --backends value */
	enum backend_kind kind;
	const struct engine_ops *engine; /* ENGINE, NESTED: the engine; else NULL */
	bool no_adaptive;                /* implies bt's --no-adaptive */
	bool hw_timing;                  /* its cycles are this CPU's (not an emulated CPU's) */
	bool runs_guest;                 /* a `tandem run --backend` value */
	unsigned suites;                 /* SUITE_* bits: the suites that offer it */
	unsigned defaults;               /* SUITE_* bits: in that suite's default set */
	const char *label;               /* the bench tables' label */
};

/* The table: backend_count() rows, in the order default sets list them. */
size_t backend_count(void);
/* Row i of the table (i < backend_count()), or NULL past its end. */
const struct backend *backend_at(size_t i);
/* The backend called name, or NULL when there is none. */
const struct backend *backend_find(const char *name);
/* The backend called name when the suite (a SUITE_* bit) offers it, else NULL. */
const struct backend *backend_in_suite(const char *name, unsigned suite);

/*
 * The names of the rows whose suites meet mask (SUITE_ALL: every row; 0: the `tandem run`
 * backends) joined by sep into buf (truncated to len - 1 bytes). Returns buf.
 */
const char *backend_names(unsigned mask, const char *sep, char *buf, size_t len);
/* The suite's default set (the rows whose defaults have the bit) as "a,b,c" into buf. buf. */
const char *backend_defaults(unsigned suite, char *buf, size_t len);

/* The SUITE_* bit of a suite name ("nano", "macro", "linux", "compute"), or 0 when unknown. */
unsigned backend_suite_bit(const char *name);
/* The name of a SUITE_* bit ("nano"...), or "?" for anything else. */
const char *backend_suite_name(unsigned bit);

/*
 * Can this host run backend b for the suite (a SUITE_* bit; 0: `tandem run`)? Never
 * hangs. ENGINE: the engine's own probe; NESTED: nested (the nested-KVM script's path)
 * is executable and the host has nested virtualization (hostcaps: HOST_CAP_NESTED);
 * QEMU: qemu-system-i386 is in PATH; NATIVE: the linux and compute suites' analogs are
 * i386 programs (HOST_CAP_IA32), the others' are host code. Returns true, or false with
 * a one-line reason in why (always NUL-terminated).
 */
bool backend_available(const struct backend *b, unsigned suite, const char *nested, char *why,
                       size_t len);

/* The i-th distinct engine of the table's ENGINE rows (bt, kvm), or NULL past the last. */
const struct engine_ops *backend_engine_at(size_t i);

/* The engine of the plain ENGINE row called name ("bt", "kvm"; not bt-noadapt), or NULL. */
const struct engine_ops *engine_find(const char *name);

/*
 * The suite's default set into buf ("a,b,c"); with_nested, a NESTED row is added
 * after it when its engine's own row is in the set but cannot run here and the NESTED
 * row can (nested: the nested-KVM script). buf.
 */
const char *backend_default_set(unsigned suite, bool with_nested, const char *nested, char *buf,
                                size_t len);

/* "engine", "nested", "qemu" or "native": the kind's name for `tandem backends`. */
const char *backend_kind_name(enum backend_kind kind);

#endif
