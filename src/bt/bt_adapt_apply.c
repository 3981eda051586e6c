/*
 * bt_adapt_apply.c: the second half of adaptive translation (bt_adapt.c counts the
 * faults): from the dispatcher, retranslate each instruction that crossed the
 * threshold (bt_translate) and patch every block holding its old translation to
 * jump to the new one. It sits above the translator, which asks bt_adapt.c only.
 */
#include <Zydis/Zydis.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"

static const char *const reason_names[] = {"none", "page-table store", "mmio", "divide",
                                           "page fault"};

static void trace_adapt(struct bt *bt, const struct bt_adapt *s)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	ZydisFormatter f;
	uint8_t bytes[15];
	char text[96] = "?";

	if (mmu_read(bt, s->eip, bytes, sizeof(bytes), s->cpl == 3) == 0 &&
	    ZYAN_SUCCESS(ZydisDecoderDecodeFull(bt->dec32, bytes, sizeof(bytes), &in, op))) {
		ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
		ZydisFormatterFormatInstruction(&f, &in, op, in.operand_count_visible, text,
		                                sizeof(text), s->eip, NULL);
	}
	bt->cpu.exc.vector = -1;
	fprintf(stderr, "bt: adapt: eip 0x%08x cpl %u after %u faults (%s%s): %s\n", s->eip, s->cpl,
	        s->faults, reason_names[s->reason], s->wrap ? ", wraps at 4 GiB" : "", text);
}

/*
 * Can instruction i of tb take a 5-byte jmp over its own host code? Only if that code
 * is at least 5 bytes long: a shorter one (`mov [r8 + rax], edx` is 4) would have the
 * jmp's last byte on the next instruction's first, and a later patch of that one (two
 * adjacent page-table stores, adapted in turn) writes its own 0xe9 over the high byte
 * of this rel32: a jump 0xe9000000 below its target, out of the cache. Nor if a rep
 * loop's back edge lies under the jmp (a kick's unlink patches that field).
 */
static bool patch_fits(const struct bt *bt, const struct tb *tb, int i)
{
	uint32_t off = tb->imap[i].host, end = tb->imap[i + 1].host; /* imap[ninsn]: body end */
	uint32_t l;

	if (end < off + 5)
		return false;
	for (l = tb->loop0; l < (uint32_t)tb->loop0 + tb->nloops && l < bt->cache.nloops; l++) {
		const uint8_t *f = bt->cache.loops[l].field;

		if (f + 4 > tb->code + off && f < tb->code + off + 5)
			return false;
	}
	return true;
}

/*
 * Overwrite instruction i of tb with jmp dest (patch_fits: within its own bytes);
 * slots whose jumps it covers never chain again.
 */
static void patch_block(struct bt *bt, struct tb *tb, int i, const uint8_t *dest)
{
	uint8_t *p = tb->code + tb->imap[i].host;
	int32_t rel = (int32_t)(dest - (p + 5));
	uint32_t off = tb->imap[i].host;
	int k;

	for (k = 0; k < tb->nslots; k++)
		if (tb->jmp_off[k] + 4 > off && tb->jmp_off[k] - 2 < off + 5)
			tc_slot_dead(bt, tb, k);
	p[0] = 0xe9;
	memcpy(p + 1, &rel, 4);
}

/*
 * Every valid block of this CPL holding eip at an instruction boundary after its first,
 * from the same physical page: it jumps to the fresh block there when its own check
 * covers the fresh block's pages and segment state (tc_same_pages); otherwise (it ends
 * in an earlier page, the fresh one reaches into a later one, or another segment state)
 * a jump could run the fresh code unchecked, so the holder is dropped and retranslated
 * when next reached; so is a holder whose code for the instruction is too short for
 * the jmp (patch_fits). Either way no block keeps the old form of the instruction: a
 * one-register access known to wrap would fault in the guard again.
 */
static void patch_holders(struct bt *bt, const struct bt_adapt *s, const struct tb *fresh)
{
	uint32_t t;

	for (t = 0; t < bt->cache.ntbs; t++) {
		struct tb *tb = &bt->cache.tbs[t];
		uint32_t ppage;
		int i;

		if (!tb->valid || tb == fresh || tb->cpl != s->cpl || s->eip <= tb->eip ||
		    s->eip >= tb->eip + tb->guest_len)
			continue;
		ppage = (s->eip >> 12) == (tb->eip >> 12) ? tb->page[0] : tb->page[1];
		if (ppage != fresh->page[0])
			continue; /* another address space's code at that eip: not this one */
		for (i = 1; i < tb->ninsn; i++) {
			if (tb->eip + tb->imap[i].guest != s->eip)
				continue;
			/* (a stack-pointer loop would jump there with RSP in guest memory) */
			if (!tc_same_pages(bt, tb, fresh) || !patch_fits(bt, tb, i) ||
			    tb->rsp_head) {
				/* retranslated when next reached, with the adapted form inline */
				tc_invalidate_tb(bt, tb);
				break;
			}
			patch_block(bt, tb, i, fresh->code);
			tb->patched = true; /* a kick in it unlinks every chain (tc_kick_async) */
		}
	}
}

void bt_adapt_apply(struct bt *bt)
{
	int n;

	for (n = 0; n < bt->adaptive.nadapt_pending; n++) {
		struct bt_adapt *s = bt->adaptive.adapt_pending[n];
		struct tb *fresh;
		uint64_t flushes = bt->stats.tc_flushes;

		if (!s->reason && s->faults >= BT_ADAPT_THRESHOLD) {
			s->reason = s->counting;
			bt->stats.adapt_pt += s->reason == ADAPT_PT;
			bt->stats.adapt_mmio += s->reason == ADAPT_MMIO;
			bt->stats.adapt_div += s->reason == ADAPT_DIV;
			bt->stats.adapt_pf += s->reason == ADAPT_PF;
		}
		if (bt->trace & BT_TRACE_ADAPT)
			trace_adapt(bt, s);
		if (s->cpl != bt->cpu.cpl)
			continue; /* blocks of the other CPL pick it up when next translated */
		/* Chains into a block starting here must now reach the new one: undo them. */
		tc_invalidate_eip(bt, s->eip, s->cpl);
		{
			uint8_t saved = bt->cpu.cpl;
			struct bt_exc exc = bt->cpu.exc;
			int r = bt_translate(bt, s->eip, &fresh);

			bt->cpu.cpl = saved;
			bt->cpu.exc = exc;
			if (r || flushes != bt->stats.tc_flushes)
				continue;
		}
		patch_holders(bt, s, fresh);
	}
	bt->adaptive.nadapt_pending = 0;
}
