/*
 * bt_rsp.h: stack-pointer loops. A one-block loop that never writes guest ESP and
 * calls nothing runs with host RSP = r8 + guest ESP (r15d), so its [esp + disp]
 * operands are [rsp + disp]: AMD Zen 2/3 rename memory (a store and a later load of
 * the same stack slot, forwarded at rename) only for RSP-based operands; measured
 * on Zen 3, a loop-carried `add [rsp + 0x14], ecx` runs 1.56 cycles per iteration
 * against 2.0 for [r8 + r15 + 0x14], [r11 + 0x14] or [rbp + 0x14].
 */
#ifndef TANDEM_BT_RSP_H
#define TANDEM_BT_RSP_H

#include <stdbool.h>
#include <stdint.h>

#include "bt_emit.h"

struct bt;
struct xlat;

/* Bytes of the loop's entry: lea rsp, [r8 + r15]. */
#define BT_RSP_PROLOGUE_LEN 4

/*
 * May stack-pointer loops be translated? Asked once, on the engine's first bt_run
 * (64 system calls); true when not turned off
 * (TANDEM_BT_RSP=0 at engine creation), this thread has an alternate signal stack
 * (bt_rsp_altstack) and every installed signal handler runs on it (SA_ONSTACK): a
 * signal taken with RSP in guest memory must never put its frame there. No
 * failure beyond false.
 */
bool bt_rsp_available(const struct bt *bt);
/*
 * Give the calling thread an alternate signal stack (256 KiB, mmap) unless it has
 * one of at least that size; once per thread. 0, or -1 (errno) when it cannot, and
 * then bt_rsp_available is false.
 */
int bt_rsp_altstack(void);
/*
 * Can guest instruction x->in be in a stack-pointer loop's body? False for anything
 * that writes ESP (explicitly or implicitly: push, pop, call, enter, leave...), every
 * rewritten or callout form (the list of x_insn), x87, 16-bit addressing, indirect
 * branches, and an instruction with an adaptive form (bt_adapt_reason).
 */
bool bt_rsp_insn_ok(struct xlat *x);
/*
 * The host code check behind that choice: decodes code[from, to) (a loop body) and is
 * true only if no instruction writes RSP, R15 or R8 (any width), calls, returns,
 * enters the kernel (syscall, int), pushes, pops or branches indirectly, and every
 * relative branch goes to or past from. So RSP = r8 + r15 holds from the loop
 * head to each exit's restore.
 */
bool bt_rsp_body_ok(const uint8_t *code, uint32_t from, uint32_t to);
/* Emit lea rsp, [r8 + r15] (BT_RSP_PROLOGUE_LEN bytes). */
void emit_rsp_enter(struct emit *e);
/* Emit mov rsp, [r14 + CPU_HOST_RSP]: the host stack back, before every exit. */
void emit_rsp_leave(struct emit *e);

#endif
