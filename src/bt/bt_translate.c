/*
 * bt_translate.c: one guest basic block into host code. Decode with Zydis in
 * 32-bit mode; most instructions are IDENT: re-encoded for 64-bit mode with
 * guest memory operands as [r8 + ...] (bt_emit.h) and ESP as r15d. Control flow ends
 * the block in exit slots that the dispatcher chains; stack, string and
 * sensitive instructions are rewritten (bt_xlat_ops.c) or become callouts.
 */
#include <string.h>

#include "bt.h"
#include "bt_emit.h"
#include "bt_rsp.h"
#include "bt_xlat.h"
#include "log.h"
#include "monitor.h"

#define TB_CODE_MAX 8192

int bt_decoders_init(struct bt *bt)
{
	static ZydisDecoder d32, d64;

	if (!ZYAN_SUCCESS(
	        ZydisDecoderInit(&d32, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32)) ||
	    !ZYAN_SUCCESS(ZydisDecoderInit(&d64, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return -1;
	bt->dec32 = &d32;
	bt->dec64 = &d64;
	return 0;
}

void bt_decoders_destroy(struct bt *bt)
{
	bt->dec32 = bt->dec64 = NULL;
}

/* Guest code bytes at eip: up to 15, fewer where the next page cannot be fetched. */
static int fetch(struct xlat *x, uint32_t eip, uint32_t *avail)
{
	struct bt *bt = x->bt;
	bool user = bt->cpu.cpl == 3;
	uint32_t pa, n = 4096 - (eip & 0xfff);
	const uint8_t *src;

	if (mmu_translate(bt, eip, ACC_FETCH, user, &pa, NULL))
		return -1;
	if (n > 15)
		n = 15;
	src = vm_gpa(&bt->mon->vm, pa, n);
	if (!src)
		return -2;
	memcpy(x->bytes, src, n);
	x->pa = pa;
	x->pa2 = ~0u;
	if (n < 15) {
		uint32_t pa2;

		if (mmu_translate(bt, eip + n, ACC_FETCH, user, &pa2, NULL) == 0 &&
		    (src = vm_gpa(&bt->mon->vm, pa2, 15 - n))) {
			memcpy(x->bytes + n, src, 15 - n);
			x->pa2 = pa2;
			n = 15;
		} else {
			bt->cpu.exc.vector =
			    -1; /* only a fault if the instruction needs those bytes */
		}
	}
	*avail = n;
	return 0;
}

/* Is target in a guest page this block was checked against (its first, or the one it reaches into)?
 */
static bool in_block_pages(const struct tb *tb, uint32_t target)
{
	uint32_t v = tb->eip >> 12, t = target >> 12;

	return t == v || (tb->page[1] != ~0u && t == v + 1);
}

/*
 * Each slot's stub. A chainable slot whose target is in the block's pages records
 * where the guest goes and which jump to chain, and exits; the dispatcher chains it.
 * One to another page probes the jump cache (as an indirect branch does): its page
 * may map elsewhere in another address space, so it is never chained (QEMU's
 * goto_tb stays within a page, too).
 */
static void emit_slot_stubs(struct xlat *x)
{
	struct tb *tb = x->tb;
	int k;

	for (k = 0; k < x->nslots; k++) {
		uint64_t ref = x->slot_chain[k] ? (uint64_t)(uintptr_t)tb | (uint64_t)k : 0;
		static const uint8_t store_ref[] = {0x4d, 0x89, 0x6e,
		                                    CPU_EXIT_TB}; /* mov [r14+], r13 */
		static const uint8_t mov_r13[] = {0x49, 0xbd};    /* mov r13, imm64 */

		tb->stub_off[k] = (uint32_t)(x->e.p - x->e.start);
		tb->jmp_off[k] = x->slot_field[k];
		tb->target[k] = x->slot_target[k];
		emit_patch(&x->e, x->slot_field[k], x->e.p);
		if (tb->rsp_head) {
			/*
			 * A stack-pointer loop: every way out restores the host RSP first. The
			 * slot back to the loop's own start stays its jcc (chained: to the
			 * head, bt_chain.c; unchained: here); any other jumps to a jmp of its
			 * own, behind the restore, that chaining patches.
			 */
			emit_rsp_leave(&x->e);
			if (!x->slot_chain[k] || x->slot_target[k] != tb->eip) {
				tb->jmp_off[k] = emit_jmp_slot(&x->e);
				tb->stub_off[k] = (uint32_t)(x->e.p - x->e.start);
				emit_patch(&x->e, tb->jmp_off[k], x->e.p);
			}
		}
		if (x->slot_chain[k] && !(tb->cpl & TB_STEP) &&
		    !in_block_pages(tb, x->slot_target[k])) {
			tb->slot_dead[k] = true; /* its jump goes to this probe for good */
			emit_mov_r13_imm(&x->e, x->slot_target[k]);
			emit_lookup(&x->e, x->bt->cache.stub_miss);
			continue;
		}
		emit_cpu_store32(&x->e, CPU_EIP, x->slot_target[k]);
		emit_bytes(&x->e, mov_r13, sizeof(mov_r13));
		emit_bytes(&x->e, &ref, 8);
		emit_bytes(&x->e, store_ref, sizeof(store_ref));
		emit_cpu_store32(&x->e, CPU_EXIT_REASON, BT_ASM_EXIT_CHAIN);
		emit_jmp(&x->e, x->bt->cache.stub_exit);
		if (x->slot_chain[k]) {
			/* The way to a target in these pages that checks segments this block does
			 * not. */
			tb->probe_off[k] = (uint32_t)(x->e.p - x->e.start);
			emit_mov_r13_imm(&x->e, x->slot_target[k]);
			emit_jmp(&x->e, x->bt->cache.stub_probe);
		}
	}
	tb->nslots = (uint8_t)x->nslots;
}

static int seg_of_reg(ZydisRegister r)
{
	switch (r) {
	case R(ES):
		return SEG_ES;
	case R(CS):
		return SEG_CS;
	case R(SS):
		return SEG_SS;
	case R(FS):
		return SEG_FS;
	case R(GS):
		return SEG_GS;
	default:
		return SEG_DS;
	}
}

/*
 * The segment of the instruction's explicit memory operand (Zydis resolves the
 * prefix and the SS default of EBP/ESP bases): the first visible one, else a
 * string source or xlat's table; DS when there is none.
 */
static int insn_seg(const struct xlat *x, bool *override)
{
	int i;

	*override = false;
	for (i = 0; i < x->in.operand_count; i++) {
		const ZydisDecodedOperand *o = &x->op[i];

		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type != ZYDIS_MEMOP_TYPE_MEM)
			continue;
		if (i < x->in.operand_count_visible) {
			*override = x->in.attributes & ZYDIS_ATTRIB_HAS_SEGMENT;
			return seg_of_reg(o->mem.segment);
		}
		/* a string source or xlat's table; not the stack, not a string destination */
		if (o->mem.base != R(ESP) && o->mem.base != R(SP) && o->mem.base != R(EDI) &&
		    o->mem.base != R(DI))
			return seg_of_reg(o->mem.segment);
	}
	return SEG_DS;
}

/*
 * Is the instruction's memory operand no access (no segment check, no fault)? lea
 * computes an address; the ModRM NOP "does not issue a memory operation" (SDM Vol 2
 * NOP); PREFETCHh is a hint that raises no exception (SDM Vol 2 PREFETCHh); INVLPG
 * checks no segment (SDM Vol 2 INVLPG). QEMU's TCG agrees (no access either).
 */
static bool no_access(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_LEA:
	case ZYDIS_MNEMONIC_NOP:
	case ZYDIS_MNEMONIC_INVLPG:
	case ZYDIS_MNEMONIC_PREFETCH:
	case ZYDIS_MNEMONIC_PREFETCHNTA:
	case ZYDIS_MNEMONIC_PREFETCHT0:
	case ZYDIS_MNEMONIC_PREFETCHT1:
	case ZYDIS_MNEMONIC_PREFETCHT2:
	case ZYDIS_MNEMONIC_PREFETCHW:
		return true;
	default:
		return false;
	}
}

/*
 * Does the instruction access memory through a segment register holding a null
 * selector (any operand, a string destination's ES included)? Such an access is
 * #GP(0) (SDM Vol 3 5.4.1); no_access() operands are not accesses. Every segment
 * it accesses through goes into the block's key (seg_used).
 */
static bool uses_null_seg(struct xlat *x)
{
	int i;

	if (no_access(x->in.mnemonic))
		return false;
	for (i = 0; i < x->in.operand_count; i++) {
		const ZydisDecodedOperand *o = &x->op[i];
		int seg;

		if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.type != ZYDIS_MEMOP_TYPE_MEM)
			continue;
		seg = seg_of_reg(o->mem.segment);
		/*
		 * Keyed by it, null or not: translated without the check, the block must
		 * not run with it null (the lax rule of tc_seg_key would allow that for
		 * a segment no emitted access used, and a callout's access is not one).
		 */
		x->e.seg_used |= (uint8_t)(1u << seg);
		if (x->bt->cpu.seg[seg].type & BT_SEG_NULL)
			return true;
	}
	return false;
}

/*
 * Per instruction: the segment its guest operands use, and before an access
 * through an explicit override on a segment with a limit, or through a null
 * segment register, the check (co_seglimit).
 */
static void segment_prologue(struct xlat *x)
{
	bool override;

	x->e.seg_insn = (int8_t)insn_seg(x, &override);
	x->e.seg_next = -1;
	if (override) /* whether it is limited decides the check below */
		x->e.seg_used |= (uint8_t)(1u << x->e.seg_insn);
	if ((override && !no_access(x->in.mnemonic) &&
	     bt_seg_limited(&x->bt->cpu.seg[x->e.seg_insn])) ||
	    uses_null_seg(x))
		x_callout(x, BT_CO_seglimit);
}

/* One instruction at x->eip: 0 go on, 1 the block ends here, -1 fetch fault, -2 stop,
 * -3 it cannot be in a stack-pointer loop (x->e.rsp), -4 the same after the loop's
 * back edge (the block ends before it). */
static int translate_one(struct xlat *x, int n)
{
	struct tb *tb = x->tb;
	uint32_t avail = 0;
	ZyanStatus st;
	int r;

	r = fetch(x, x->eip, &avail);
	if (r == -2) {
		bt_unsupported(x->bt, x->eip, "executing outside RAM");
		return -2;
	}
	if (r)
		return -1;
	st = ZydisDecoderDecodeFull(x->bt->dec32, x->bytes, avail, &x->in, x->op);
	if (st == ZYDIS_STATUS_NO_MORE_DATA && avail < 15) {
		/* The instruction runs into a page that cannot be fetched: #PF there. */
		uint32_t pa;

		if (mmu_translate(x->bt, (x->eip | 0xfff) + 1, ACC_FETCH, x->bt->cpu.cpl == 3, &pa,
		                  NULL) == 0) {
			/* ... or a page with no RAM behind it: stop, as for code outside RAM. */
			bt_unsupported(x->bt, x->eip, "executing outside RAM (at 0x%x)", pa);
			return -2;
		}
		return -1;
	}
	x->bt->cpu.exc.vector = -1;
	tb->imap[n] =
	    (struct bt_imap){(uint16_t)(x->e.p - x->e.start), (uint16_t)(x->eip - tb->eip), 0xff};
	if (n == 0)
		tb->page[0] = x->pa >> 12;
	else if ((x->pa >> 12) != tb->page[0])
		tb->page[1] = x->pa >> 12;
	if (!ZYAN_SUCCESS(st)) {
		x->in.length = 1;
		/* past 15 bytes: #GP(0), a decode fault like #UD (SDM Vol 3 6.9) */
		x_callout(x, st == ZYDIS_STATUS_INSTRUCTION_TOO_LONG ? BT_CO_gp : BT_CO_ud);
		x_jmp_slot(x, x->eip + 1, false);
		return 1;
	}
	if (x->pa2 != ~0u && (uint32_t)(x->eip & 0xfff) + x->in.length > 4096)
		tb->page[1] = x->pa2 >> 12;
	if (x->e.rsp && !bt_rsp_insn_ok(x))
		/* past the loop's back edge: end the block here; else translate it without */
		return x->looped && n > 0 ? -4 : -3;
	x->e.exact = bt_adapt_is_wrap(x->bt, x->eip, tb->cpl);
	segment_prologue(x);
	r = x_insn(x, n);
	x->e.exact = false;
	x->eip += x->in.length;
	return r;
}

/*
 * Does the block at eip branch back to its own start (a one-block loop)? Decodes
 * the guest code ahead, within eip's page, without translating or faulting. Such a
 * block starts on a 64-byte line: front ends fetch and cache decoded code in
 * aligned 32/64-byte windows (AMD Zen's op cache: 64), and a small loop body that
 * straddles two windows runs ~45% slower (measured: the compute guest's matrix
 * loop, 34 host bytes, 1.45x native at offset 0x30 of a line, ~1x native aligned).
 */
static bool self_loop(struct bt *bt, uint32_t eip)
{
	ZydisDecodedInstruction in;
	uint32_t pa, off = eip & 0xfff, n = 0, jccs = 0; /* off: decode position in the page */
	const uint8_t *code;

	if (bt->stepping || mmu_translate(bt, eip, ACC_FETCH, bt->cpu.cpl == 3, &pa, NULL)) {
		bt->cpu.exc.vector = -1;
		return false;
	}
	code = vm_gpa(&bt->mon->vm, pa, 4096 - off);
	/* No operands decoded (the costly half of Zydis): the raw immediate is enough. */
	while (code && off < 4096 && n++ < TB_MAX_INSNS) {
		ZydisInstructionCategory cat;

		if (!ZYAN_SUCCESS(
		        ZydisDecoderDecodeInstruction(bt->dec32, NULL, code, 4096 - off, &in)))
			break;
		cat = in.meta.category;
		off += in.length;
		code += in.length;
		if (cat == ZYDIS_CATEGORY_COND_BR || cat == ZYDIS_CATEGORY_UNCOND_BR) {
			/* rel8/rel32 branches: the target is the next instruction + the immediate
			 */
			if (in.raw.imm[0].is_relative &&
			    (uint32_t)(eip - (eip & 0xfff) + off +
			               (uint32_t)in.raw.imm[0].value.s) == eip)
				return true;
			/* x_jcc goes on past a jcc while slots remain; loop/jcxz end a block */
			if (cat != ZYDIS_CATEGORY_COND_BR ||
			    (in.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT &&
			     (in.opcode & 0xfc) == 0xe0) ||
			    ++jccs + 2 > TB_SLOTS)
				break;
		} else if (cat == ZYDIS_CATEGORY_CALL || cat == ZYDIS_CATEGORY_RET ||
		           cat == ZYDIS_CATEGORY_SYSTEM || cat == ZYDIS_CATEGORY_INTERRUPT) {
			break;
		}
	}
	return false;
}

/*
 * The block at eip; loop: it branches back to its start (self_loop), which then
 * starts on a 64-byte line; rsp: as a stack-pointer loop (bt_rsp.h), whose head
 * after the lea is that line. -3 when rsp and the block cannot be one.
 */
static int translate(struct bt *bt, uint32_t eip, struct tb **out, bool loop, bool rsp)
{
	struct xlat x;
	struct tb *tb;
	size_t pro = rsp ? BT_RSP_PROLOGUE_LEN : 0;
	int n, r = 0;

	if (loop && bt->cache.tc_used < bt->cache.tc_size)
		bt->cache.tc_used = ((bt->cache.tc_used + pro + 63) & ~(size_t)63) - pro;
	tb = tc_begin(bt, TB_CODE_MAX, TB_MAX_INSNS);
	if (!tb) {
		tc_flush(bt);
		tb = tc_begin(bt, TB_CODE_MAX, TB_MAX_INSNS);
	}
	memset(&x, 0, sizeof(x));
	x.bt = bt;
	x.tb = tb;
	x.eip = eip;
	x.e = (struct emit){.start = tb->code,
	                    .p = tb->code,
	                    .end = tb->code + TB_CODE_MAX,
	                    .seg_insn = SEG_DS,
	                    .seg_next = -1,
	                    .seg_rt_off = -1,
	                    .seg_runtime = 1u << SEG_FS | 1u << SEG_GS};
	for (n = 0; n < SEG_NR; n++) /* FS, GS: added at run time (emit_seg_add) */
		x.e.segbase[n] =
		    n == SEG_CS || (x.e.seg_runtime & (1u << n)) ? 0 : bt->cpu.seg[n].base;
	tb->eip = eip;
	tb->cpl = (uint8_t)(bt->cpu.cpl | (bt->stepping ? TB_STEP : 0));
	if (rsp) {
		x.e.rsp = true;
		emit_rsp_enter(&x.e);
		tb->rsp_head = (uint8_t)(x.e.p - x.e.start);
	}
	bt->cpu.exc.vector = -1;
	for (n = 0; n < TB_MAX_INSNS; n++) {
		uint32_t start = x.eip;

		r = translate_one(&x, n);
		if (r == -3)
			return r;
		if (r < 0) {
			if (n == 0)
				return r; /* the fault (or the stop) belongs to the first
				             instruction */
			x.eip = start;
			x_jmp_slot(&x, start, true);
			break;
		}
		tb->ninsn = (uint16_t)(n + 1);
		if (r > 0)
			break;
		if (bt->stepping) { /* EFLAGS.TF: back to the dispatcher after each instruction */
			x_jmp_slot(&x, x.eip, false);
			break;
		}
		/* sti's shadow and popf: end the block unchained so interrupts are looked at. */
		if (x.end_after_next && --x.end_after_next == 0) {
			x_jmp_slot(&x, x.eip, false);
			break;
		}
		if ((x.eip ^ eip) & ~0xfffu || n == TB_MAX_INSNS - 1) {
			x_jmp_slot(&x, x.eip, true);
			break;
		}
	}
	tb->imap[tb->ninsn] =
	    (struct bt_imap){(uint16_t)(x.e.p - x.e.start), (uint16_t)(x.eip - eip), 0xff};
	tb->body_len = (uint32_t)(x.e.p - x.e.start);
	tb->guest_len = (uint16_t)(x.eip - eip);
	/* The proof that RSP = r8 + r15 throughout the body, on the code itself. */
	if (rsp && (x.e.rsp_bad || x.e.overflow || x.e.failed ||
	            !bt_rsp_body_ok(tb->code, tb->rsp_head, tb->body_len)))
		return -3;
	x.e.rsp = false; /* (the stubs hold no guest access) */
	emit_slot_stubs(&x);
	if (x.e.overflow || x.e.failed) {
		bt_unsupported(bt, eip, "translator bug: block at 0x%x %s %s", eip,
		               x.e.overflow ? "overflowed its code buffer" : "could not encode",
		               x.e.overflow ? "" : ZydisMnemonicGetString(x.e.failed_mnemonic));
		return -2;
	}
	tb->code_len = (uint32_t)(x.e.p - x.e.start);
	tc_seg_key(bt, tb, x.e.seg_used);
	tc_commit(bt, tb);
	tb->loop0 = (uint16_t)bt->cache.nloops;
	for (n = 0; n < x.nloops; n++)
		if (tc_loop_add(bt, tb->code + x.loop_off[n][0], tb->code + x.loop_off[n][1],
		                tb->code + x.loop_off[n][2]))
			tb->nloops++;
	if (bt->trace & BT_TRACE_TC)
		bt_trace_block(bt, tb);
	bt_perf_map_block(tb);
	bt->stats.rsp_loops += rsp;
	*out = tb;
	return 0;
}

int bt_translate(struct bt *bt, uint32_t eip, struct tb **out)
{
	bool loop = self_loop(bt, eip);
	int r;

	if (!loop || bt->rsp_ok != 1)
		return translate(bt, eip, out, loop, false);
	r = translate(bt, eip, out, true, true);
	if (r != -3)
		return r;
	bt->stats.rsp_refused++;
	return translate(bt, eip, out, true, false);
}
