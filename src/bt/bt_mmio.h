/* bt_mmio.h: guest accesses outside RAM, caught as host faults in translated code. */
#ifndef TANDEM_BT_MMIO_H
#define TANDEM_BT_MMIO_H

#include <ucontext.h>

#include "bt.h"
#include "bt_context.h"

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

#endif
