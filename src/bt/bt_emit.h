/* bt_emit.h: writing host code: raw fixed sequences and Zydis-encoded instructions. */
#ifndef TANDEM_BT_EMIT_H
#define TANDEM_BT_EMIT_H

#include <Zydis/Zydis.h>
#include <stdbool.h>
#include <stdint.h>

struct bt;

struct emit {
	uint8_t *start, *p, *end;
	bool overflow;
	bool failed; /* Zydis could not encode a request */
	bool exact;  /* this instruction's guest accesses: always the lea form */
	bool gmem;   /* the request being built has a guest memory operand */
	/*
	 * A stack-pointer loop's body (bt_rsp.c): host RSP = r8 + guest ESP, so a guest
	 * operand [esp + disp] becomes [rsp + disp32]. rsp_bad: something was emitted that
	 * such a body must not hold (a call, a jump-cache probe, an ESP write).
	 */
	bool rsp, rsp_bad;
	ZydisMnemonic failed_mnemonic;
	/*
	 * Segment bases (ES CS SS DS FS GS) the block is translated with, folded into
	 * each guest address as a displacement; seg_insn is the segment of the current
	 * instruction's explicit memory operand, seg_next (>= 0) a one-shot choice for
	 * the next guest operand (SS for implicit stack accesses, ES for string
	 * destinations). All zero (flat): the code is what it was without segments.
	 * FS and GS (seg_runtime) are not folded: their segbase is 0 and their base is
	 * added at run time from the virtual CPU, so one block serves every process's
	 * TLS base (i386 Linux's GS).
	 */
	uint32_t segbase[6];
	int8_t seg_insn, seg_next;
	uint8_t seg_used;    /* bit per segment whose base or limit the block folded in */
	uint8_t seg_runtime; /* bit per segment whose base is added at run time (FS, GS) */
	int16_t seg_rt_off;  /* emit_seg_base's choice: its base's offset in the vCPU, or -1 */
};

/*
 * The folded base of the segment the next guest operand uses (consumes seg_next):
 * the base at translation time, or 0 for a segment in seg_runtime, whose base's
 * offset in the virtual CPU it leaves in e->seg_rt_off for emit_seg_add (-1 when
 * the base is folded).
 */
uint32_t emit_seg_base(struct emit *e);
/*
 * Once dst (a 32-bit register other than r10d) holds the guest offset plus the
 * folded base: add the run-time base emit_seg_base chose, if any, modulo 2^32 as
 * i386 does and flag-free (mov r10d, [r14 + base]; lea dst, [dst + r10]). Clobbers
 * r10. Emits nothing for a folded base.
 */
void emit_seg_add(struct emit *e, ZydisRegister dst);
/*
 * movzx reg, word [r14 + off]: a 16-bit field of the virtual CPU (off: its offset in
 * struct bt_cpu, 0..32767), zero-extended into host register reg (32-bit). Not a guest
 * access (no confinement check applies); e->failed on an encoder error.
 */
void emit_cpu_load16zx(struct emit *e, ZydisRegister reg, int32_t off);

/* Append n bytes at e->p; past e->end nothing is written and e->overflow is set (the caller
 * drops the block). */
void emit_bytes(struct emit *e, const void *b, size_t n);
/* One byte, as emit_bytes. */
void emit_u8(struct emit *e, uint8_t v);
/* A little-endian dword, as emit_bytes. */
void emit_u32(struct emit *e, uint32_t v);
/*
 * Encode one request; false if Zydis cannot (the caller reports unsupported). A
 * request with a guest memory operand (req_gmem) is checked after encoding: the
 * host instruction must address memory only as [r8 + ...] with a 64-bit address,
 * or it is refused, so no guest access can leave the view's reservation.
 */
bool emit_req(struct emit *e, const ZydisEncoderRequest *r);

/* A request for 64-bit mode with the given mnemonic and no operands. */
void req_init(ZydisEncoderRequest *r, ZydisMnemonic m);
/* Append a register operand to r (unchecked: at most ZYDIS_ENCODER_MAX_OPERANDS in all). */
void req_reg(ZydisEncoderRequest *r, ZydisRegister reg);
/* Append an immediate operand v (signed; the encoder picks the form that holds it). */
void req_imm(ZydisEncoderRequest *r, int64_t v);
/*
 * Append a guest memory operand of size bytes for the guest address
 * segbase + base + index*scale + disp (guest registers as the host holds them: ESP
 * is R15D; the segment as emit_seg_base says). The segment base is one more
 * displacement modulo 2^32: the forms, and why they stay in the view, are unchanged.
 * One register: [r8 + reg64*scale + disp32], exact unless it wraps, when it lands
 * in a guard; ESP alone in a stack-pointer loop (e->rsp): [rsp + disp32], the same
 * address, since RSP = r8 + r15 there. Otherwise, or when e->exact: emits `lea r9d, [ea32]` (mov
 * r9d, imm for an absolute address >= 2 GiB) now, before the request, and gives [r8 + r9]. Through
 * FS or GS (a run-time base): r9d = base + ea32 in 32 bits first (`mov r9d, [r14 + base]; lea r9d,
 * [r9 + reg*scale + disp]`, or emit_seg_add after the lea with two registers; r10 clobbered), then
 * [r8 + r9]: the same exact form.
 */
void req_gmem(struct emit *e, ZydisEncoderRequest *r, ZydisRegister base, ZydisRegister index,
              uint8_t scale, int64_t disp, uint16_t size);
/* dst (32-bit) = base + index*scale + disp modulo 2^32, flag-free (lea, or mov for none). */
void emit_ea32(struct emit *e, ZydisRegister dst, ZydisRegister base, ZydisRegister index,
               uint8_t scale, int32_t disp);

/* mov dword [r14 + off], imm32 */
void emit_cpu_store32(struct emit *e, uint8_t off, uint32_t imm);
/* mov r13d, imm32 */
void emit_mov_r13_imm(struct emit *e, uint32_t imm);
/* lea r15d, [r15 + disp] (guest ESP += disp, flags untouched) */
void emit_esp_add(struct emit *e, int32_t disp);
/* mov [guest ESP + disp], reg32 (reg: guest register number 0..7, 4 is ESP; 12/13: r12d/r13d) */
void emit_stack_store(struct emit *e, int32_t disp, int reg);
/* mov [guest ESP + disp], imm32 */
void emit_stack_store_imm(struct emit *e, int32_t disp, uint32_t imm);
/* mov reg32, [guest ESP + disp] (reg as above, 15 for r15d itself) */
void emit_stack_load(struct emit *e, int reg, int32_t disp);
/* The indirect-branch jump-cache probe: target in r13d; misses go to the miss stub. */
void emit_lookup(struct emit *e, const uint8_t *miss_stub);
/* The same behind a per-site inline cache at cpu->ic + ic_off (for ret). */
void emit_lookup_ic(struct emit *e, const uint8_t *miss_stub, int32_t ic_off);
/* call/jmp rel32 to an absolute host address (within +-2 GiB). */
void emit_call(struct emit *e, const uint8_t *dest);
/* jmp rel32 as emit_call; neither checks the range: a dest beyond +-2 GiB jumps wrong. */
void emit_jmp(struct emit *e, const uint8_t *dest);
/* jmp/jcc rel32 with a placeholder; returns the rel32 field's offset from e->start. */
uint32_t emit_jmp_slot(struct emit *e);
/* jcc (0f 80+cc) the same; after an overflow the offset names no written field: check
 * e->overflow before emit_patch. */
uint32_t emit_jcc_slot(struct emit *e, uint8_t cc);
/* Point a rel32 field (offset from e->start) at dest. */
void emit_patch(struct emit *e, uint32_t field_off, const uint8_t *dest);

#endif
