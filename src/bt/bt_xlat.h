/* bt_xlat.h: the translator's per-block state, shared by bt_translate.c and bt_xlat_ops.c. */
#ifndef TANDEM_BT_XLAT_H
#define TANDEM_BT_XLAT_H

#include <Zydis/Zydis.h>

#include "bt.h"
#include "bt_emit.h"

struct xlat {
	struct bt *bt;
	struct tb *tb;
	struct emit e;
	uint32_t eip;            /* the instruction being translated */
	uint32_t pa, pa2;        /* its physical address, and of the next page if fetched */
	uint8_t bytes[16];
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	int nslots;
	uint32_t slot_field[TB_SLOTS], slot_target[TB_SLOTS];
	bool slot_chain[TB_SLOTS];
	int end_after_next;      /* >0: end the block, unchained, after this many more */
	int nloops;              /* rep string back edges: code offsets of rel32, head, exit */
	uint32_t loop_off[TB_MAX_INSNS][3];
};

/* Translate x->in (instruction n of the block): 0 go on, 1 the block ends. */
int x_insn(struct xlat *x, int n);
void x_callout(struct xlat *x, int kind);
void x_jmp_slot(struct xlat *x, uint32_t target, bool chain);
void x_jcc_slot(struct xlat *x, uint8_t cc, uint32_t target);
#define R(x) ZYDIS_REGISTER_##x

/* bt_xlat_ops.c: IDENT and the stack instructions */
ZydisRegister map_reg(ZydisRegister r);
ZydisRegister gpr_sized(int id, int size);
ZydisRegister tmp(int num, int size);   /* r12/r13 of 1, 2 or 4 bytes */
bool load_operand(struct xlat *x, const ZydisDecodedOperand *o, ZydisRegister dst);
void mov_rr(struct xlat *x, ZydisRegister dst, ZydisRegister src);
int unsupported(struct xlat *x);
int x_ident(struct xlat *x, int n);
int x_push(struct xlat *x);
int x_pop(struct xlat *x);
int x_pusha(struct xlat *x);
int x_popa(struct xlat *x);
int x_enter(struct xlat *x);
int x_leave(struct xlat *x);
/* bt_xlat_flow.c: branches, calls, returns */
int x_jmp(struct xlat *x);
int x_call(struct xlat *x);
int x_ret(struct xlat *x);
int x_jcc(struct xlat *x);
int x_loop(struct xlat *x);
/* bt_xlat_string.c */
int x_string(struct xlat *x);

/* --trace=tc: the block's guest code (Capstone) and host code. */
void bt_trace_block(struct bt *bt, const struct tb *tb);
/* Debugging aid: with TANDEM_PERF_MAP set (not "0") in the environment, appends
 * "start size name" for the block's host code to /tmp/perf-PID.map, the file `perf
 * report` reads to name samples in anonymous JIT memory (Linux perf's jit-interface
 * convention). Takes a committed block; a map that cannot be opened is silently off. */
void bt_perf_map_block(const struct tb *tb);

#endif
