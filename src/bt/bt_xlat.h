/* bt_xlat.h: the translator's per-block state, shared by bt_translate.c and bt_xlat*.c. */
#ifndef TANDEM_BT_XLAT_H
#define TANDEM_BT_XLAT_H

#include <Zydis/Zydis.h>

#include "bt.h"
#include "bt_emit.h"

/* What translating one instruction did: the block goes on after it, or it ends there. */
enum x_next { X_NEXT = 0, X_END = 1 };

struct xlat {
	struct bt *bt;
	struct tb *tb;
	struct emit e;
	uint32_t eip;     /* the instruction being translated */
	int n;            /* its index in the block (tb->imap) */
	uint32_t pa, pa2; /* its physical address, and of the next page if fetched */
	uint8_t bytes[16];
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	int nslots;
	uint32_t slot_field[TB_SLOTS], slot_target[TB_SLOTS];
	bool slot_chain[TB_SLOTS];
	int end_after_next; /* >0: end the block, unchained, after this many more */
	bool looped;        /* a slot back to the block's start has been emitted */
	int nloops;         /* rep string back edges: code offsets of rel32, head, exit */
	uint32_t loop_off[TB_MAX_INSNS][3];
};

/*
 * Translate x->in (instruction n of the block) by its rule (bt_xlat.c's table: IDENT, a
 * rewrite, a callout, unsupported), or its adapted form: X_NEXT, or X_END when the block
 * ends with it.
 */
enum x_next x_insn(struct xlat *x, int n);

/* bt_xlat_slot.c: the bottom of the translator */
/* Emit a callout of kind (BT_CO_*) for this instruction: its site (eip, bytes) recorded
 * (tc_site), cpu->co_site set, a call to the callout stub. */
void x_callout(struct xlat *x, int kind);
/* Emit a jmp exit slot to guest target (chain: the dispatcher may link it to target's
 * block). The caller keeps nslots below TB_SLOTS. */
void x_jmp_slot(struct xlat *x, uint32_t target, bool chain);
/* A jcc exit slot (cc: the condition's opcode low nibble) to target, always chainable. */
void x_jcc_slot(struct xlat *x, uint8_t cc, uint32_t target);
#define R(x) ZYDIS_REGISTER_##x

/* bt_xlat_ops.c: IDENT and the stack instructions */
ZydisRegister map_reg(ZydisRegister r);
/* Guest register id (0..7, x86 order) of size 4, 2 or 1 bytes (1: id 4..7 are AH..BH);
 * ESP stays ESP (not r15d: map_reg does that). */
ZydisRegister gpr_sized(int id, int size);
ZydisRegister tmp(int num, int size); /* r12/r13 of 1, 2 or 4 bytes */
/* Emit mov dst, operand: a register (mapped) or guest memory (req_gmem; 16-bit addressing
 * through r11d); false for an immediate or an encoder refusal (the caller: unsupported). */
bool load_operand(struct xlat *x, const ZydisDecodedOperand *o, ZydisRegister dst);
/* Emit mov dst, src (host registers, one width); a refusal only marks e->failed. */
void mov_rr(struct xlat *x, ZydisRegister dst, ZydisRegister src);
/* This instruction stops the guest when reached (a BT_CO_unsupported callout, then an
 * unchained slot after it): returns 1, the block ends. */
enum x_next unsupported(struct xlat *x);
/* IDENT: instruction n copied, its guest memory operand made [r8 + ...] (req_gmem; 16-bit
 * addressing through r11d), ESP as r15d; 0, or unsupported()'s 1. */
enum x_next x_ident(struct xlat *x, int n);
/* push reg/imm/mem: a store at SS:[ESP - size], then ESP -= size (push sreg: a callout).
 * The x_ stack and flow translators return X_NEXT (go on), or X_END (the block ends). */
enum x_next x_push(struct xlat *x);
/* pop reg/mem: load from SS:[ESP], store, ESP += size (pop esp keeps the loaded value; pop
 * [esp+d] addresses with ESP after the pop, SDM); pop sreg: a callout. */
enum x_next x_pop(struct xlat *x);
/* pushad inline (ESP as before the instruction); a 16-bit pusha in C (BT_CO_slow). */
enum x_next x_pusha(struct xlat *x);
/* popad inline, both ends loaded first so a #PF changes no register; ESP's slot skipped;
 * 16-bit in C. */
enum x_next x_popa(struct xlat *x);
/* enter n, 0 with a 32-bit operand size inline (push EBP, EBP = ESP, ESP -= n); a nesting
 * level or 16-bit in C (BT_CO_enter). */
enum x_next x_enter(struct xlat *x);
/* leave (32-bit) inline: EBP = SS:[EBP] loaded first, ESP = old EBP + 4; 16-bit in C. */
enum x_next x_leave(struct xlat *x);
/* bt_xlat_flow.c: branches, calls, returns */
/* jmp (32-bit): a chained slot (rel32) or the jump-cache probe (indirect); far: BT_CO_far;
 * 16-bit in C. Ends the block. */
enum x_next x_jmp(struct xlat *x);
/* call (32-bit): push the return address, then a chained slot (rel32) or the jump-cache probe
 * (indirect, the target read before the push); far: BT_CO_far; 16-bit in C. Ends the block. */
enum x_next x_call(struct xlat *x);
/* ret [imm16] (32-bit): the target into r13d, ESP += 4 + imm, then a per-site inline cache
 * (the jump cache when none is left); far: BT_CO_far; 16-bit in C. Ends the block. */
enum x_next x_ret(struct xlat *x);
/* jcc (16-bit operand size in C): a chained slot for the taken edge; 0 (the block goes on
 * with the fall-through) while two slots remain, else a fall-through slot too and 1. */
enum x_next x_jcc(struct xlat *x);
/* loop/loope/loopne/jecxz (32-bit address and operand size, else unsupported): the host's own
 * instruction with addr32 choosing between two chained slots. Ends the block. */
enum x_next x_loop(struct xlat *x);
/* bt_xlat_string.c: movs, cmps, stos, lods, scas with 32-bit addressing inline, the step
 * from DF through cpu->df_step; a rep form loops in the block, its back edge recorded
 * (x->loop_off) so a kick can cut it between iterations. Others: unsupported(). */
enum x_next x_string(struct xlat *x);
/* cld/std: the host's own, and cpu->df_step (+1 or -1) follows the new DF. */
enum x_next x_cld_std(struct xlat *x);

/* --trace=tc: the block's guest code (Capstone) and host code. */
void bt_trace_block(struct bt *bt, const struct tb *tb);
/* Debugging aid: with TANDEM_PERF_MAP set (not "0") in the environment, appends
 * "start size name" for the block's host code to /tmp/perf-PID.map, the file `perf
 * report` reads to name samples in anonymous JIT memory (Linux perf's jit-interface
 * convention). Takes a committed block; a map that cannot be opened is silently off. */
void bt_perf_map_block(const struct tb *tb);

#endif
