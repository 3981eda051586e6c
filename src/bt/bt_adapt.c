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
 * This file keeps the table (counting, the translator's questions); retranslating
 * and patching is bt_adapt_apply.c, above the translator.
 */
#include <string.h>

#include "bt.h"

static struct bt_adapt *adapt_slot(struct bt *bt, uint32_t eip, uint8_t cpl, bool create)
{
	uint32_t h = (eip * 0x9e3779b1u) >> 20, i;

	for (i = 0; i < BT_ADAPT_SLOTS; i++) {
		struct bt_adapt *s = &bt->adaptive.adapt[(h + i) & (BT_ADAPT_SLOTS - 1)];

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
	memset(bt->adaptive.adapt, 0, sizeof(bt->adaptive.adapt));
	bt->adaptive.nadapt_pending = 0;
}

void bt_adapt_fault(struct bt *bt, uint32_t eip, int reason)
{
	struct bt_adapt *s;

	if (!bt->adaptive.on || !(s = adapt_slot(bt, eip, bt->cpu.cpl, true)) || s->reason)
		return;
	if (s->counting != reason) {
		s->counting = (uint8_t)reason;
		s->faults = 0;
	}
	if (++s->faults == BT_ADAPT_THRESHOLD && bt->adaptive.nadapt_pending < BT_ADAPT_PENDING) {
		bt->adaptive.adapt_pending[bt->adaptive.nadapt_pending++] = s;
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
	if (!s || bt->adaptive.nadapt_pending >= BT_ADAPT_PENDING) {
		bt->adaptive.adapt_full = true;
		return -1;
	}
	s->wrap = true;
	bt->stats.wrap_exact++;
	bt->adaptive.adapt_pending[bt->adaptive.nadapt_pending++] = s;
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

	if (!bt->adaptive.on)
		return ADAPT_NONE;
	s = adapt_slot(bt, eip, cpl, false);
	return s ? s->reason : ADAPT_NONE;
}
