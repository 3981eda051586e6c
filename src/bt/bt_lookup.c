/*
 * bt_lookup.c: finding a translation. A block at (eip, cpl) in the hash (bt_cache.c)
 * is the answer only if the current address space fetches its guest-virtual pages
 * from the guest-physical pages it was translated from (bt_mmu.c) and the segment
 * state matches; invalidating every block at an eip (bt_chain.c unchains them).
 * It sits above the cache, the chains and the MMU, so none of them calls up into it.
 */
#include "bt.h"

/* The guest-physical page the current address space fetches va from, or ~0 (not mapped). */
static uint32_t code_ppage(struct bt *bt, uint32_t va)
{
	/* A page the current view maps needs no walk (as mmu_copy): the shadow is exact. */
	uint32_t ent = bt->mmu.v2p[bt->mmu.cur_as * VIEW_KINDS +
	                           (bt->cpu.cpl == 3 ? VIEW_USER : VIEW_SUP)][va >> 12];

	if (ent)
		return V2P_PAGE(ent);
	struct bt_exc exc = bt->cpu.exc;
	uint32_t pa;
	int r = mmu_translate(bt, va, ACC_FETCH, bt->cpu.cpl == 3, &pa, NULL);

	bt->cpu.exc = exc; /* a lookup raises nothing: translating will, if it must */
	return r ? ~0u : pa >> 12;
}

struct tb *tc_lookup(struct bt *bt, uint32_t eip, uint8_t cpl)
{
	uint32_t p0 = ~0u, p1 = ~0u;
	bool have0 = false, have1 = false;
	struct tb *tb;

	for (tb = bt->cache.hash[tc_hash(eip, cpl)]; tb; tb = tb->hash_next) {
		if (tb->eip != eip || tb->cpl != cpl)
			continue;
		if (!tc_seg_match(bt, tb)) {
			bt->stats.lookup_segs++;
			bt->stats.lookup_nulls += tc_seg_null_only(bt, tb);
			continue;
		}
		if (!have0) {
			p0 = code_ppage(bt, eip);
			have0 = true;
		}
		if (tb->page[0] != p0) {
			bt->stats.lookup_remaps++;
			continue;
		}
		if (tb->page[1] == ~0u)
			return tb;
		if (!have1) {
			p1 = code_ppage(bt, (eip | 0xfffu) + 1);
			have1 = true;
		}
		if (tb->page[1] == p1)
			return tb;
		bt->stats.lookup_remaps++;
	}
	return NULL;
}

void tc_invalidate_eip(struct bt *bt, uint32_t eip, uint8_t cpl)
{
	struct tb *tb, *next;

	for (tb = bt->cache.hash[tc_hash(eip, cpl)]; tb; tb = next) {
		next = tb->hash_next;
		if (tb->eip == eip && tb->cpl == cpl)
			tc_invalidate_tb(bt, tb);
	}
}

struct tb *tc_lookup_fast(struct bt *bt, uint32_t eip, uint8_t cpl)
{
	const uint8_t *code = tc_jc_lookup(bt, eip);
	struct tb *tb = code ? tc_find_host(bt, (uintptr_t)code) : NULL;

	if (tb && tb->valid && tb->eip == eip && tb->cpl == cpl && tb->code == code)
		return tb;
	tb = tc_lookup(bt, eip, cpl);
	if (tb)
		tc_jc_enter(bt, tb);
	return tb;
}

void tc_jc_enter(struct bt *bt, const struct tb *tb)
{
	uint32_t second = (tb->eip | 0xfffu) + 1u;
	bool two = tb->page[1] != ~0u;
	unsigned facts = 0;

	if (bt->cpu.cpl == 0 && mmu_peek_global(bt, tb->eip) &&
	    (!two || mmu_peek_global(bt, second)))
		facts |= JC_FILL_GLOBAL;
	if (mmu_large_page(bt, tb->eip))
		facts |= JC_FILL_LARGE0;
	if (two && mmu_large_page(bt, second))
		facts |= JC_FILL_LARGE1;
	tc_jc_fill(bt, tb, facts);
}
