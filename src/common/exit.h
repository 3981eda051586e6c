/* exit.h: the neutral exit record every engine fills and the core dispatches. */
#ifndef TANDEM_EXIT_H
#define TANDEM_EXIT_H

#include <stdbool.h>
#include <stdint.h>

/* X(enum suffix, name printed in stats) */
#define EXIT_REASONS(X)                   \
	X(IO, "io")                       \
	X(MMIO, "mmio")                   \
	X(HLT, "hlt")                     \
	X(IRQ_WINDOW, "irq-window")       \
	X(KICK, "kick")                   \
	X(SHUTDOWN, "shutdown")           \
	X(FAIL_ENTRY, "fail-entry")       \
	X(INTERNAL, "internal-error")     \
	X(UNSUPPORTED, "unsupported")

enum exit_reason {
#define X(e, s) EXIT_##e,
	EXIT_REASONS(X)
#undef X
	EXIT_NR
};

extern const char *const exit_reason_names[EXIT_NR];

struct exit_record {
	enum exit_reason reason;
	uint32_t eip; /* guest EIP of the instruction that exited (or next, for HLT) */
	bool if_flag; /* guest EFLAGS.IF at the exit (HLT: can an interrupt wake it?) */
	union {
		struct {
			uint16_t port;
			uint8_t size;      /* 1, 2 or 4 */
			bool is_write;
			uint32_t count;    /* > 1 for rep ins/outs */
			uint8_t *data;     /* count * size bytes, engine-owned; reads are filled in */
		} io;
		struct {
			uint64_t addr;
			uint8_t len;       /* 1..8 */
			bool is_write;
			uint8_t *data;     /* len bytes, engine-owned */
		} mmio;
	};
	uint64_t code;   /* hardware reason for FAIL_ENTRY / INTERNAL */
	char what[160];  /* one line for SHUTDOWN/FAIL_ENTRY/INTERNAL/UNSUPPORTED */
};

#endif
