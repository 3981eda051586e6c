/* bt_mmio.h: guest accesses outside RAM, caught as host faults in translated code. */
#ifndef TANDEM_BT_MMIO_H
#define TANDEM_BT_MMIO_H

#include <ucontext.h>

#include "bt.h"

/*
 * A device access at the signal context (view, guest va, physical pa), dispatched to
 * the devices here (monitor_access): a lone mov completes at once (a load's data into
 * its register) and the guest resumes after it; any other form is single-stepped on a
 * scratch page holding the device's data (bt_mmio_step_end); what cannot be stops the
 * guest (EXIT_UNSUPPORTED), and an access that ends the run leaves with EXIT_STOP.
 */
void bt_mmio_fault(struct bt *bt, ucontext_t *uc, int view, uint32_t va, uint32_t pa);
/* The stepped access is over: unmap the scratch; if it completed and wrote, the device gets it. */
void bt_mmio_step_end(struct bt *bt, bool completed);

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
