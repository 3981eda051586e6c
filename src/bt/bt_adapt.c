/*
 * bt_adapt.c: adaptive translation (Adams & Agesen: every instruction starts
 * "innocent"). Faults in translated code are counted per guest instruction;
 * past BT_ADAPT_THRESHOLD the instruction is retranslated into a form that does
 * the work without the host fault, and every block holding its old translation
 * is patched to jump to the new one, so chained predecessors benefit at once.
 *   - stores to traced page tables and MMIO accesses: the access runs against a
 *     redirected view base, r8 (the RAM page itself, or a scratch page the device
 *     value is staged in) between two light callouts that keep the shadow and
 *     the device model right (adapt_pre / adapt_post);
 *   - divides: an inline, flag-free zero-divisor check raising #DE by callout;
 *   - accesses that keep taking true page faults: a callout first checks the
 *     shadow (and walks the guest tables when it misses) and delivers the #PF
 *     itself, with no host signal.
 */
#include <Zydis/Zydis.h>
#include <stdio.h>
#include <string.h>

#include "bt.h"
#include "log.h"
#include "monitor.h"

static const char *const reason_names[] = {"none", "page-table store", "mmio", "divide",
                                           "page fault"};

static struct bt_adapt *adapt_slot(struct bt *bt, uint32_t eip, uint8_t cpl, bool create)
{
	uint32_t h = (eip * 0x9e3779b1u) >> 20, i;

	for (i = 0; i < BT_ADAPT_SLOTS; i++) {
		struct bt_adapt *s = &bt->adapt[(h + i) & (BT_ADAPT_SLOTS - 1)];

		if (s->used && s->eip == eip && s->cpl == cpl)
			return s;
		if (!s->used) {
			if (!create)
				return NULL;
			*s = (struct bt_adapt){.eip = eip, .cpl = cpl, .used = true};
			return s;
		}
	}
	return NULL;
}

void bt_adapt_reset(struct bt *bt)
{
	memset(bt->adapt, 0, sizeof(bt->adapt));
	bt->nadapt_pending = 0;
}

void bt_adapt_fault(struct bt *bt, uint32_t eip, int reason)
{
	struct bt_adapt *s;

	if (!bt->adaptive || !(s = adapt_slot(bt, eip, bt->cpu.cpl, true)) || s->reason)
		return;
	if (s->counting != reason) {
		s->counting = (uint8_t)reason;
		s->faults = 0;
	}
	if (++s->faults == BT_ADAPT_THRESHOLD && bt->nadapt_pending < BT_ADAPT_PENDING) {
		bt->adapt_pending[bt->nadapt_pending++] = s;
		/* Leave the cache at the end of this block, as a kick does, to retranslate now. */
		bt->cpu.exit_request = 1;
		tc_unlink_all_async(bt);
	}
}

int bt_adapt_wrap(struct bt *bt, uint32_t eip)
{
	struct bt_adapt *s = adapt_slot(bt, eip, bt->cpu.cpl, true);

	if (s && s->wrap)
		return 0;
	if (!s || bt->nadapt_pending >= BT_ADAPT_PENDING) {
		bt->adapt_full = true;
		return -1;
	}
	s->wrap = true;
	bt->wrap_exact++;
	bt->adapt_pending[bt->nadapt_pending++] = s;
	return 1;
}

bool bt_adapt_is_wrap(struct bt *bt, uint32_t eip, uint8_t cpl)
{
	struct bt_adapt *s = adapt_slot(bt, eip, cpl, false);

	return s && s->wrap;
}

int bt_adapt_reason(struct bt *bt, uint32_t eip, uint8_t cpl)
{
	struct bt_adapt *s;

	if (!bt->adaptive)
		return ADAPT_NONE;
	s = adapt_slot(bt, eip, cpl, false);
	return s ? s->reason : ADAPT_NONE;
}

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
	for (l = tb->loop0; l < (uint32_t)tb->loop0 + tb->nloops && l < bt->nloops; l++) {
		const uint8_t *f = bt->loops[l].field;

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

	for (t = 0; t < bt->ntbs; t++) {
		struct tb *tb = &bt->tbs[t];
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

	for (n = 0; n < bt->nadapt_pending; n++) {
		struct bt_adapt *s = bt->adapt_pending[n];
		struct tb *fresh;
		uint64_t flushes = bt->tc_flushes;

		if (!s->reason && s->faults >= BT_ADAPT_THRESHOLD) {
			s->reason = s->counting;
			bt->adapt_pt += s->reason == ADAPT_PT;
			bt->adapt_mmio += s->reason == ADAPT_MMIO;
			bt->adapt_div += s->reason == ADAPT_DIV;
			bt->adapt_pf += s->reason == ADAPT_PF;
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
			if (r || flushes != bt->tc_flushes)
				continue;
		}
		patch_holders(bt, s, fresh);
	}
	bt->nadapt_pending = 0;
}
