/* exit.h: the neutral exit record every engine fills and the core dispatches. */
#ifndef TANDEM_EXIT_H
#define TANDEM_EXIT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* X(enum suffix, name printed in stats) */
#define EXIT_REASONS(X)                                                                            \
	X(IO, "io")                                                                                \
	X(MMIO, "mmio")                                                                            \
	X(HLT, "hlt")                                                                              \
	X(IRQ_WINDOW, "irq-window")                                                                \
	X(KICK, "kick")                                                                            \
	X(STOP, "stop")                                                                            \
	X(SHUTDOWN, "shutdown")                                                                    \
	X(FAIL_ENTRY, "fail-entry")                                                                \
	X(INTERNAL, "internal-error")                                                              \
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
			uint8_t size; /* 1, 2 or 4 */
			bool is_write;
			uint32_t count; /* > 1 for rep ins/outs */
			uint8_t *data;  /* count * size bytes, engine-owned; reads are filled in */
		} io;
		struct {
			uint64_t addr;
			uint8_t len; /* 1..8 */
			bool is_write;
			uint8_t *data; /* len bytes, engine-owned */
		} mmio;
	};
	uint64_t code;  /* hardware reason for FAIL_ENTRY / INTERNAL */
	char what[160]; /* one line for SHUTDOWN/FAIL_ENTRY/INTERNAL/UNSUPPORTED */
};

/*
 * The record constructors both engines use (kvm_translate_exit, the translator's
 * callouts): each clears the whole record, then fills the fields of its kind.
 */
/* Reason r (HLT, IRQ_WINDOW, KICK; SHUTDOWN without a message) at eip. */
static inline void exit_make(struct exit_record *ex, enum exit_reason r, uint32_t eip, bool if_flag)
{
	memset(ex, 0, sizeof(*ex));
	ex->reason = r;
	ex->eip = eip;
	ex->if_flag = if_flag;
}

/* A port access: count (>= 1) elements of size 1, 2 or 4 bytes at port, in data (engine-
 * owned, count * size bytes; the dispatcher fills it for a read). */
static inline void exit_make_io(struct exit_record *ex, uint32_t eip, bool if_flag, uint16_t port,
                                uint8_t size, bool is_write, uint32_t count, uint8_t *data)
{
	exit_make(ex, EXIT_IO, eip, if_flag);
	ex->io.port = port;
	ex->io.size = size;
	ex->io.is_write = is_write;
	ex->io.count = count;
	ex->io.data = data;
}

/* An MMIO access of len (1..8) bytes at guest-physical addr, in data (engine-owned). */
static inline void exit_make_mmio(struct exit_record *ex, uint32_t eip, bool if_flag, uint64_t addr,
                                  uint8_t len, bool is_write, uint8_t *data)
{
	exit_make(ex, EXIT_MMIO, eip, if_flag);
	ex->mmio.addr = addr;
	ex->mmio.len = len;
	ex->mmio.is_write = is_write;
	ex->mmio.data = data;
}

/* SHUTDOWN, FAIL_ENTRY, INTERNAL or UNSUPPORTED at eip with a hardware code (0 if none)
 * and a one-line reason (printf format; truncated to what[]). In exit.c. */
void exit_make_msg(struct exit_record *ex, enum exit_reason r, uint32_t eip, uint64_t code,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
