/* engine.h: the one interface between the monitor core and an execution engine. */
#ifndef TANDEM_ENGINE_H
#define TANDEM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "exit.h"
#include "vcpu.h"

struct monitor;
struct monitor_opts;

/*
 * One of an engine's own `tandem run` options (--NAME or --NAME=ARG): the engine
 * declares it, the CLI parses it and calls set, which records it in the run's options
 * for the engine's create() to read. Given with a backend of another engine it is a
 * usage error (cmd_run.c).
 */
struct engine_option {
	const char *name;  /* the long option, without "--"; NULL ends a table */
	bool has_arg;      /* takes a value (--NAME=ARG or --NAME ARG) */
	const char *usage; /* as `tandem run --help` shows it: "--trace=tc|adapt" */
	const char *help;  /* one line for `tandem run --help` */
	/* Apply arg (NULL without has_arg) to o: 0, or -1 with a one-line reason in why. */
	int (*set)(struct monitor_opts *o, const char *arg, char *why, size_t len);
};

struct engine_ops {
	const char *name; /* the --backend value */
	const char *desc;
	/*
	 * Can this host run the engine for an i386 paged guest? 0 if so; otherwise
	 * a negative errno and a one-line reason in why. Must not hang.
	 */
	int (*probe)(char *why, size_t len);
	/* Describe what the host offers, for `tandem info`. */
	void (*info)(FILE *f);
	/* Create the engine over mon->vm. Returns 0 or -errno (reason logged). */
	int (*create)(struct monitor *mon, void **state);
	void (*destroy)(void *state);
	int (*set_regs)(void *state, const struct vcpu_regs *r);
	int (*get_regs)(void *state, struct vcpu_regs *r);
	/*
	 * Run the guest until it needs the core; fill *ex. Before entering the guest
	 * the engine delivers an interrupt when monitor_irq_pending() and the guest
	 * can take one (monitor_irq_ack() gives the vector). Returns 0, or -errno on
	 * a host failure.
	 */
	int (*run)(void *state, struct exit_record *ex);
	/*
	 * Async-signal-safe, from the kick signal's handler: make run() return soon
	 * with EXIT_KICK. uctx is the interrupted context (a ucontext_t *).
	 */
	void (*kick)(void *state, void *uctx);
	/* Engine-specific counters for --stats. */
	void (*print_stats)(void *state, FILE *f);
	/* The engine's own `run` options, ended by a NULL name; NULL when it has none. */
	const struct engine_option *options;
};

extern const struct engine_ops kvm_engine_ops;
extern const struct engine_ops bt_engine_ops;
/* bt's own options (src/bt/bt_options.c): --trace=tc|adapt, --no-adaptive. */
extern const struct engine_option bt_engine_options[];

#endif
