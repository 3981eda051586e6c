/*
 * bt_callout.h: the callout module. The dispatcher (bt_callout.c) calls the handler
 * families (bt_callout_sys/_io/_adapt/_slow.c), and both call down into the services
 * of bt_callout_util.c (declared first here); nothing calls back up into a dispatcher.
 */
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
	uint32_t next; /* eip of the following instruction */
};

#define CR4_TSD 0x4u
#define CR4_DE 0x8u
#define DR6_BS 0x4000u

/* Handler results: 0 go on after the instruction, else a bt_exit (cpu->eip set). */
#define CO_NEXT 0

/* BT_CALLOUTS flags: the handler needs k->in and k->op; it runs before its instruction. */
#define CO_DECODE 0x1
#define CO_BEFORE 0x2

/*
 * The site's guest instruction decoded: a struct co like k (same bt, c, site, next)
 * whose in and op hold it, from a per-thread cache keyed by the instruction bytes
 * (Zydis only on a miss; no copy of the decoded form on a hit). Valid until the
 * next co_decode on this thread (callouts do not nest); a handler given it must not
 * change in or op. NULL when the bytes do not decode (the caller raises #UD).
 */
struct co *co_decode(struct co *k);
/* A guest general register of any width (AH..BH too) from cpu->gpr (ESP: gpr[4]), zero-extended. */
uint32_t co_get_reg(struct co *k, ZydisRegister r);
/* Write v's low bits to that register; the rest of its 32-bit register is kept. */
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
 * Read an operand (register, immediate, or memory of o->size bits, at most 32) into *v,
 * zero-extended: 0, or -1 with a #PF in cpu->exc (not delivered: co_pending) and *v 0.
 */
int co_read(struct co *k, const ZydisDecodedOperand *o, uint32_t *v);
/* Write v to a register or memory operand: 0, or -1 with a #PF in cpu->exc; a write that
 * crosses a page may have stored its first page already (mmu_write). */
int co_write(struct co *k, const ZydisDecodedOperand *o, uint32_t v);
/* Raise a fault at this instruction. */
int co_fault(struct co *k, int vector, bool has_err, uint32_t err);
/* An exception already in cpu->exc (from the MMU or a segment load), at this instruction. */
int co_pending(struct co *k);
/* #GP(0) unless CPL 0. */
bool co_need_cpl0(struct co *k);
/* After a CR0 write (old_cr0 before it): CO_NEXT, or leave the cache if EM/TS/MP changed. */
int co_fpu_cr0(struct co *k, uint32_t old_cr0);
/* Stop the guest at this instruction: EXIT_UNSUPPORTED "what 'disassembly'", counted
 * in slow_path; returns BT_EXIT_CORE. */
int co_unsupported(struct co *k, const char *what);
/* An interrupt shadow (SHADOW_STI, SHADOW_SS) over the next instruction. */
void co_shadow(struct co *k, uint8_t kind);
/* Push v's size (2 or 4) bytes at SS:ESP - size with the CPL's rights: 0 with ESP lowered,
 * or -1 with a #PF in cpu->exc and ESP unchanged. 32-bit ESP only, no SS limit check. */
int co_push(struct co *k, uint32_t v, int size);
/* Pop size bytes from SS:ESP into *v (zero-extended): 0 with ESP raised, or -1 with a #PF
 * in cpu->exc, *v 0 and ESP unchanged. */
int co_pop(struct co *k, uint32_t *v, int size);
/*
 * After a CPL change or a control transfer with cpu->eip set: BT_CO_JUMP with cpu->jump
 * at the target's block when it is translated and nothing is due (no pending interrupt
 * with IF, no single-stepping), else BT_EXIT_RESUME (the dispatcher goes on at eip).
 */
int co_jump(struct co *k);
/*
 * Deliver cpu->exc (cpu->eip: where the guest returns) without leaving the cache
 * when the handler's block exists: BT_CO_JUMP, BT_EXIT_RESUME, or BT_EXIT_CORE
 * when delivery shut the guest down.
 */
int co_deliver_fast(struct co *k);
/* The run ends after a device access at eip (MON_STOP): an EXIT_STOP record for the core. */
int co_stop(struct co *k, uint32_t eip);

/* bt_callout_sys.c */
int co_desc_table(struct co *k);
/*
 * mov to/from CR0/2/3/4: #UD for CR1 and CR5+; #GP(0) outside ring 0, for CR0.PG without
 * PE, for CR4 bits the model lacks; clearing PE is unsupported. A read: CO_NEXT; a write
 * updates the shadow and the cache (mmu_cr_written, tc_flush): BT_EXIT_RESUME after it.
 */
int co_movcr(struct co *k);
/* rdmsr/wrmsr ECX in ring 0: TSC, APIC base and SYSENTER_* here, the rest from the CPU model;
 * #GP(0) outside ring 0 or for an MSR neither knows. Writes to TSC and model MSRs are dropped. */
int co_msr(struct co *k);
/* mov to/from DRn in ring 0 (#GP(0) else): DR4/DR5 are DR6/DR7 unless CR4.DE (#UD);
 * DR6/DR7 keep their fixed bits. Values are stored, breakpoints never armed. CO_NEXT. */
int co_movdr(struct co *k);
/* rdtsc: the host's TSC into EDX:EAX, CO_NEXT; #GP(0) above ring 0 with CR4.TSD. */
int co_rdtsc(struct co *k);
/* cpuid EAX/ECX answered by the CPU model (--cpu, else the default), never the host: CO_NEXT. */
int co_cpuid(struct co *k);
/* daa das aaa aas aam aad: natively where possible (bt_compat_bcd: the undefined flags are the
 * host's), else emulated per the SDM; aam 0 is #DE. CO_NEXT. */
int co_bcd(struct co *k);
/* bt_callout_seg.c */
/*
 * mov sreg / pop sreg / lds les lfs lgs lss through bt_load_seg (mov to CS: #UD): CO_NEXT,
 * or the fault pending with ESP and the offset register unchanged. A load of SS by mov or
 * pop opens an interrupt shadow (SHADOW_SS).
 */
int co_sreg_load(struct co *k);
/*
 * Far jmp/call/ret with a 32-bit operand size (16-bit: unsupported): within the ring, ret
 * to an outer ring, and to a TSS or task gate (bt_task_far); call gates unsupported.
 * BT_EXIT_RESUME at the target, or a fault pending (a far call pushes after the checks).
 */
int co_far(struct co *k);
/* sysenter (SDM Vol 2B): #GP(0) when SYSENTER_CS is null; else flat CS/SS from it, CPL 0,
 * IF/VM/RF clear, ESP and EIP from the MSRs: BT_EXIT_RESUME. */
int co_sysenter(struct co *k);
/* sysexit: #GP(0) outside ring 0 or with a null SYSENTER_CS; else flat ring 3 CS (+16) and
 * SS (+24), ESP = ECX, EIP = EDX, CPL 3: BT_EXIT_RESUME. */
int co_sysexit(struct co *k);
/* lar, lsl, verr, verw (SDM Vol 2): ZF=1 and the rights/limit for a visible descriptor of a
 * fitting type, else ZF=0 and the destination unchanged; CO_NEXT, or a #PF on the table. */
int co_segcheck(struct co *k);
/*
 * Before an access through an explicit segment override on a limited segment:
 * CO_NEXT when the memory operand lies within the limit, else #GP(0) (#SS(0) for SS).
 */
int co_seglimit(struct co *k);

/* bt_callout_adapt.c */
int co_adapt_pre(struct co *k);
int co_adapt_post(struct co *k);
/* The access at cpu->arg (site: size, write) would take a true #PF: deliver it here. */
int co_pf_check(struct co *k);

/* bt_callout_slow.c: rare instructions emulated in C */
int co_slow(struct co *k);

/*
 * bt_callout_io.c: in/out and ins/outs, dispatched to the devices from the callout
 * (monitor_access) and completed there: CO_NEXT or BT_EXIT_RESUME to go on,
 * BT_EXIT_EXCEPTION for #GP (I/O permission) or #PF (a string operand), BT_EXIT_CORE
 * with an EXIT_STOP record when the access ended the run.
 */
int co_io(struct co *k);
/* ins/outs, rep or not: one round of up to sizeof(bt->io_buf) bytes per call (a rep not
 * done resumes at the instruction); results as co_io. */
int co_iostr(struct co *k);

#endif
