/* bt_callout.h: helpers shared by the callout handlers (bt_callout*.c). */
#ifndef TANDEM_BT_CALLOUT_H
#define TANDEM_BT_CALLOUT_H

#include <Zydis/Zydis.h>

#include "bt.h"

/* What a handler was given: the site and its instruction decoded again. */
struct co {
	struct bt *bt;
	struct bt_cpu *c;
	const struct bt_site *site;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	uint32_t next;        /* eip of the following instruction */
};

#define CR4_TSD 0x4u
#define CR4_DE 0x8u
#define DR6_BS 0x4000u

/* Handler results: 0 go on after the instruction, else a bt_exit (cpu->eip set). */
#define CO_NEXT 0

uint32_t co_get_reg(struct co *k, ZydisRegister r);
void co_set_reg(struct co *k, ZydisRegister r, uint32_t v);
/* The offset (effective address) of a memory operand within its segment. */
uint32_t co_off(struct co *k, const ZydisDecodedOperand *o);
/* SEG_* of a Zydis segment register (DS for none). */
int co_seg_of(ZydisRegister r);
/* The segment of a string instruction's source (DS:ESI unless overridden). */
int co_str_src_seg(struct co *k);
/* The linear address of a memory operand: its segment's base + its offset. */
uint32_t co_ea(struct co *k, const ZydisDecodedOperand *o);
/*
 * Before an access through an explicit segment override on a limited segment:
 * CO_NEXT when the memory operand lies within the limit, else #GP(0) (#SS(0) for SS).
 */
int co_seglimit(struct co *k);
/* Read/write an operand (register or memory) of size bytes; -1 on a fault (raised). */
int co_read(struct co *k, const ZydisDecodedOperand *o, uint32_t *v);
int co_write(struct co *k, const ZydisDecodedOperand *o, uint32_t v);
/* Raise a fault at this instruction. */
int co_fault(struct co *k, int vector, bool has_err, uint32_t err);
/* An exception already in cpu->exc (from the MMU or a segment load), at this instruction. */
int co_pending(struct co *k);
/* #GP(0) unless CPL 0. */
bool co_need_cpl0(struct co *k);
/* After a CR0 write (old_cr0 before it): CO_NEXT, or leave the cache if EM/TS/MP changed. */
int co_fpu_cr0(struct co *k, uint32_t old_cr0);
int co_unsupported(struct co *k, const char *what);
/* An interrupt shadow (SHADOW_STI, SHADOW_SS) over the next instruction. */
void co_shadow(struct co *k, uint8_t kind);
int co_push(struct co *k, uint32_t v, int size);
int co_pop(struct co *k, uint32_t *v, int size);

/* bt_callout_sys.c */
int co_desc_table(struct co *k);
int co_movcr(struct co *k);
int co_msr(struct co *k);
int co_movdr(struct co *k);
int co_rdtsc(struct co *k);
int co_segcheck(struct co *k);
int co_cpuid(struct co *k);
int co_sreg_load(struct co *k);
int co_far(struct co *k);
int co_sysenter(struct co *k);
int co_sysexit(struct co *k);
int co_bcd(struct co *k);
/* bt_callout_adapt.c */
int co_adapt_pre(struct co *k);
int co_adapt_post(struct co *k);
/* The access at cpu->arg (site: size, write) would take a true #PF: deliver it here. */
int co_pf_check(struct co *k);
/*
 * Deliver cpu->exc (cpu->eip: where the guest returns) without leaving the cache
 * when the handler's block exists: BT_CO_JUMP, BT_EXIT_RESUME, or BT_EXIT_CORE
 * when delivery shut the guest down.
 */
int co_deliver_fast(struct co *k);

/* bt_callout_slow.c: rare instructions emulated in C */
int co_slow(struct co *k);

/*
 * bt_callout_io.c: in/out and ins/outs, dispatched to the devices from the callout
 * (monitor_access) and completed there: CO_NEXT or BT_EXIT_RESUME to go on,
 * BT_EXIT_EXCEPTION for #GP (I/O permission) or #PF (a string operand), BT_EXIT_CORE
 * with an EXIT_STOP record when the access ended the run.
 */
int co_io(struct co *k);
int co_iostr(struct co *k);
/* The run ends after a device access at eip (MON_STOP): an EXIT_STOP record for the core. */
int co_stop(struct co *k, uint32_t eip);

#endif
