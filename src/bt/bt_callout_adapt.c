/*
 * bt_callout_adapt.c: the callouts of adaptively retranslated instructions.
 * They run on every execution, so they read what they need from the site and
 * never decode. adapt_pre aims the view base (r8) at the page the access really
 * goes to; the instruction itself runs natively, its address computed exactly
 * (lea r9d), so it reaches that one page; adapt_post puts the view back and keeps the shadow
 * (page tables) or the device (MMIO) right.
 */
#include <string.h>

#include "bt_callout.h"
#include "monitor.h"

/* An MMIO access of len bytes at pa, at the devices now. */
static enum mon_action mmio(struct co *k, uint32_t pa, uint8_t len, bool write, uint8_t *data)
{
	struct exit_record ex;

	exit_make_mmio(&ex, k->site->eip, k->c->vflags & 0x200, pa, len, write, data);
	return monitor_access(k->bt->mon, &ex);
}

int co_adapt_pre(struct co *k)
{
	struct bt *bt = k->bt;
	const struct bt_site *s = k->site;
	uint32_t va = k->c->arg, pa, off = va & 0xfff;
	uint8_t *page;

	bt->adaptive.redirect.kind = ADAPT_NONE;
	if (off + s->mem_size > 4096)
		return CO_NEXT; /* straddles two pages: the ordinary (faulting) way */
	/*
	 * Mapped writable in the current view: plain RAM whose PTE allows the store with
	 * D set, neither traced nor code (tracing unmaps a page first): the view has it.
	 */
	if (s->mem_write && (bt->mmu.v2p[bt->mmu.cur_view][va >> 12] & V2P_W))
		return CO_NEXT;
	if (mmu_translate(bt, va, s->mem_write ? ACC_WRITE : ACC_READ, k->c->cpl == 3, &pa, NULL)) {
		bt->stats.true_faults++;
		return co_pending(k);
	}
	if (pa >= bt->mon->vm.ram_size) {
		memset(bt->adaptive.mmio_scratch + off, 0, s->mem_size);
		if (s->mem_read &&
		    mmio(k, pa, s->mem_size, false, bt->adaptive.mmio_scratch + off) == MON_STOP) {
			k->c->eip = s->eip; /* the load never completed */
			return co_stop(k, s->eip);
		}
		bt->adaptive.redirect.kind = ADAPT_MMIO;
		page = bt->adaptive.mmio_scratch;
	} else if ((bt->mmu.pflags[pa >> 12] & (PF_PT | PF_PT_INUSE)) == PF_PT &&
	           mmu_pt_release(bt, pa >> 12)) {
		return CO_NEXT; /* no longer in use as a page table: a store like any other */
	} else if (bt->mmu.pflags[pa >> 12] & PF_PT) {
		bt->adaptive.redirect.smc = bt->mmu.pflags[pa >> 12] & PF_CODE;
		if (bt->adaptive.redirect.smc)
			tc_invalidate_page(bt, pa >> 12);
		memcpy(bt->adaptive.redirect.old, bt->mon->vm.ram + (pa & ~3u),
		       sizeof(bt->adaptive.redirect.old));
		bt->adaptive.redirect.kind = ADAPT_PT;
		page = bt->mon->vm.ram + (pa & ~0xfffu);
	} else {
		return CO_NEXT; /* no longer a page table: the view has it, as for any store */
	}
	bt->adaptive.redirect.pa = pa;
	/* r8 once the callout returns; the instruction uses the exact form [r8 + r9] */
	k->c->vbase = (uint64_t)(uintptr_t)page - (va & ~0xfffu);
	return CO_NEXT;
}

int co_adapt_post(struct co *k)
{
	struct bt *bt = k->bt;
	uint32_t pa = bt->adaptive.redirect.pa, e, first = (pa & 0xfff) / 4, now[2];
	int kind = bt->adaptive.redirect.kind;

	if (kind == ADAPT_NONE)
		return CO_NEXT;
	bt->adaptive.redirect.kind = ADAPT_NONE;
	mmu_set_view(bt);
	if (kind == ADAPT_MMIO) {
		/* The value the instruction left in the scratch page goes to the device. */
		/* A write may also have sent an NMI IPI: leave so the run loop takes it. */
		if (k->site->mem_write &&
		    mmio(k, pa, k->site->mem_size, true,
		         bt->adaptive.mmio_scratch + (pa & 0xfff)) == MON_STOP) {
			k->c->eip = k->next;
			return co_stop(k, k->site->eip);
		}
		if (k->site->mem_write && monitor_nmi_pending(bt->mon)) {
			k->c->eip = k->next;
			return BT_EXIT_RESUME; /* the run loop delivers the NMI */
		}
		return CO_NEXT;
	}
	memcpy(now, bt->mon->vm.ram + (pa & ~3u), sizeof(now));
	for (e = 0; e < 2 && first + e < 1024; e++)
		if (now[e] != bt->adaptive.redirect.old[e])
			mmu_pt_entry_was(bt, pa >> 12, first + e, bt->adaptive.redirect.old[e]);
	if (bt->adaptive.redirect.smc) {
		/* The store may have rewritten what this block goes on with: leave it. */
		k->c->eip = k->next;
		return BT_EXIT_RESUME;
	}
	return CO_NEXT;
}

/* Map va (translated to pa) in the current view now if it is plain RAM not mapped so. */
static void fill_plain(struct bt *bt, uint32_t va, uint32_t pa, bool write)
{
	if (mmu_shadow_ok(bt, va, write) || pa >= bt->mon->vm.ram_size ||
	    (bt->mmu.pflags[pa >> 12] & (PF_CODE | PF_PT)))
		return;
	mmu_fill(bt, bt->mmu.cur_view, va, write, &pa);
}

int co_pf_check(struct co *k)
{
	struct bt *bt = k->bt;
	const struct bt_site *s = k->site;
	uint32_t va = k->c->arg, last = va + s->mem_size - 1u, pa, pa_last;
	bool user = k->c->cpl == 3, w = s->mem_write;
	int acc = w ? ACC_WRITE : ACC_READ;

	if (mmu_shadow_ok(bt, va, w) && mmu_shadow_ok(bt, last, w))
		return CO_NEXT;
	/* Not shadowed but present: plain RAM is mapped here, sparing the access its
	 * hidden fault (a page the guest's handler just mapped); code, page tables and
	 * devices are left to the fault path, as for any access. */
	if (mmu_translate(bt, va, acc, user, &pa, NULL) == 0 &&
	    ((last ^ va) < 4096u || mmu_translate(bt, last, acc, user, &pa_last, NULL) == 0)) {
		fill_plain(bt, va, pa, w);
		if ((last ^ va) >= 4096u)
			fill_plain(bt, last, pa_last, w);
		return CO_NEXT;
	}
	bt->stats.true_faults++;
	k->c->eip = s->eip; /* a fault: the instruction again after the handler */
	return co_deliver_fast(k);
}
