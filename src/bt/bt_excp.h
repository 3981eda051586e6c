/*
 * bt_excp.h: exceptions and segments (bt_excp.c: IDT delivery, iret, segment loads;
 * bt_task.c: hardware task switches) above the leaf that raises (bt_raise.c).
 */
#ifndef TANDEM_BT_EXCP_H
#define TANDEM_BT_EXCP_H

#include <stdbool.h>
#include <stdint.h>

#include "bt_cpu.h"

struct bt;

/* ---- bt_raise.c: the leaf every layer may call ---- */
/* Record exception vector (EXC_*, error code err if has_err) in bt->cpu.exc, replacing any
 * pending one; delivered later (bt_deliver, BT_EXIT_EXCEPTION), nothing else changes. */
void bt_raise(struct bt *bt, int vector, bool has_err, uint32_t err);
/* Fill bt->core_exit with EXIT_UNSUPPORTED at eip, the printf-formatted reason cut to the
 * record's what[]; the caller leaves with BT_EXIT_CORE. */
void bt_unsupported(struct bt *bt, uint32_t eip, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- bt_excp.c: exceptions, interrupts, segments ---- */
/* Deliver bt->cpu.exc; 0, or -1 when it escalated to a triple fault. */
int bt_deliver(struct bt *bt);
/* Deliver external interrupt vector through the IDT (not a software int: no gate DPL
 * check), counted in bt->interrupts; 0, or -1 as bt_deliver. */
int bt_deliver_irq(struct bt *bt, uint8_t vector);
/* iret in protected mode (next: the instruction after it); 0, -1 with an exception raised, -2
 * unsupported. */
int bt_iret(struct bt *bt, uint32_t next);
/*
 * After a return to an outer ring (iret, far ret): DS, ES, FS and GS holding a segment
 * whose DPL is below the new CPL become null (SDM Vol. 2 IRET and RET, "return to
 * outer privilege level"), so the outer ring cannot keep using an inner ring's data.
 */
void bt_drop_inner_segments(struct bt *bt);
/*
 * Load a data/stack segment register (any base and limit); 0, -1 (exception raised).
 * Translations fold the data segments' bases and limits in: a change flushes the cache.
 */
int bt_load_seg(struct bt *bt, int seg, uint16_t sel);
/* Set a segment register's cached descriptor (flushing the cache if a data segment's base or limit
 * changes). */
void bt_seg_set(struct bt *bt, int seg, struct bt_seg s);
/* Load CS for a return to new_cpl (its RPL); 0, -1 (#GP/#NP raised), -2 (unsupported). */
int bt_load_cs(struct bt *bt, uint16_t sel, uint8_t new_cpl);
/* May a far jmp/call go straight to sel at this CPL? 0, -1 (raised), -2 (a call gate: unsupported),
 * 1 (a TSS or task gate: bt_task_far). */
int bt_far_target(struct bt *bt, uint16_t sel);
/*
 * The 8-byte descriptor sel names into d (GDT, or the LDT for TI=1), read as a supervisor
 * access: 0; -1 with nothing raised when it lies past the table's limit or the LDT is
 * null; -1 with a #PF in bt->cpu.exc when the table is not mapped.
 */
int bt_read_desc(struct bt *bt, uint16_t sel, uint32_t d[2]);
/* CPL becomes cpl: its jump cache and its shadow view (r8 from the next entry or callout
 * return). No privilege check, no segment change: the caller loads CS/SS to match. */
void bt_set_cpl(struct bt *bt, uint8_t cpl);

/* ---- bt_task.c: hardware task switches (32-bit TSSs) ---- */
enum { TS_JMP, TS_CALL, TS_INT, TS_IRET };
/*
 * Switch to the task of TSS selector sel for reason (TS_*); eip is where the old
 * task resumes, err an error code pushed on the new task's stack. 0, -1 with an
 * exception raised (before the switch: in the old task; after: in the new one),
 * or -2 (unsupported: recorded).
 */
int bt_task_switch(struct bt *bt, uint16_t sel, int reason, uint32_t eip, bool has_err,
                   uint32_t err);
/* jmp/call far to a TSS or a task gate (sel); next: the instruction after. 0, -1, -2. */
int bt_task_far(struct bt *bt, uint16_t sel, bool call, uint32_t next);
/* iret with EFLAGS.NT: back to the task in the current TSS's link field. 0, -1, -2. */
int bt_task_return(struct bt *bt, uint32_t next);

#endif
