/* bt_context.h: the guest state in a host signal context (bt_context.c). */
#ifndef TANDEM_BT_CONTEXT_H
#define TANDEM_BT_CONTEXT_H

#include <ucontext.h>

#include "bt.h"

/* The guest state at the faulting host pc of uc into bt->cpu (GPRs, a spilled one from r13,
 * EFLAGS, the eip of its guest instruction); its block and imap index into *tbp and *idx
 * unless NULL. 0, or -1 (cpu untouched) when pc is not in a block's body. */
int bt_sync_from_context(struct bt *bt, ucontext_t *uc, struct tb **tbp, int *idx);
/* The signal returns to the exit stub, leaving the cache with reason (a bt_exit); the guest
 * state must be in cpu already (bt_sync_from_context). */
void bt_leave_from_context(struct bt *bt, ucontext_t *uc, int reason);
/* The guest EIP of the instruction a host PC in translated code belongs to; 0 or -1. */
int bt_eip_of_pc(struct bt *bt, uintptr_t pc, uint32_t *eip);

#endif
