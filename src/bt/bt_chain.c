/*
 * bt_chain.c: chained direct branches and what undoes them. A chain is a
 * block's exit jump patched to go straight to another block's code; each block
 * keeps the list of chains coming in (QEMU's jmp_list), so invalidating it
 * unchains exactly its predecessors. Chains stay within the guest pages a block
 * was checked against (see tc_chain), so they survive address-space switches.
 * A kick unlinks only the block it interrupted; the dispatcher relinks it.
 */
#include <string.h>

#include "bt.h"

static void patch_rel32(struct tb *tb, int slot, const uint8_t *dest)
{
	uint8_t *field = tb->code + tb->jmp_off[slot];
	int32_t rel = (int32_t)(dest - (field + 4));

	memcpy(field, &rel, 4);
}

static void patch_field(uint8_t *field, const uint8_t *dest)
{
	int32_t rel = (int32_t)(dest - (field + 4));

	memcpy(field, &rel, 4);
}

/* Where a chain from -> to jumps: to's code, or a stack-pointer loop's head from itself. */
static const uint8_t *chain_dest(const struct tb *from, const struct tb *to)
{
	return to->code + (from == to ? to->rsp_head : 0);
}

/* Are b's guest pages among those a was checked against (same virtual -> physical)? */
static bool tb_covers(const struct tb *a, const struct tb *b)
{
	uint32_t va = a->eip >> 12, vb = b->eip >> 12;

	if (vb == va) {
		if (b->page[0] != a->page[0])
			return false;
	} else if (vb == va + 1 && a->page[1] != ~0u) {
		if (b->page[0] != a->page[1])
			return false;
	} else {
		return false;
	}
	if (b->page[1] == ~0u)
		return true;
	return vb == va && a->page[1] == b->page[1];
}

bool tc_same_pages(const struct bt *bt, const struct tb *a, const struct tb *b)
{
	return tb_covers(a, b) && tc_seg_covers(bt, a, b);
}

void tc_chain(struct bt *bt, struct tb *from, int slot, struct tb *to)
{
	if (!from->valid || !to->valid || from->chained[slot] || from->slot_dead[slot])
		return;
	/* A stack-pointer loop's jcc to its start has no RSP restore: only to its own head. */
	if (from->rsp_head && from->jmp_off[slot] < from->body_len && to != from)
		return;
	/*
	 * Only to code whose pages the source's own check covers: whenever the source
	 * runs, its pages are mapped as when it was found, so the target's are too, in
	 * every address space. A branch to another page goes through the jump cache.
	 */
	if (!tb_covers(from, to))
		return;
	if (!tc_seg_covers(bt, from, to)) {
		/*
		 * to depends on a segment (FS, GS) from does not check: from may run under
		 * another state. Its slot goes to the jump-cache probe instead, whose keys
		 * carry the whole segment state (no chain to undo later).
		 */
		patch_rel32(from, slot, from->code + from->probe_off[slot]);
		from->slot_dead[slot] = true;
		bt->stats.chained_probe++;
		return;
	}
	if (!from->listed[slot]) {
		if (bt->cache.nchains == bt->cache.max_chains)
			return;
		bt->cache.chains[bt->cache.nchains++] = (struct bt_chainref){from, (uint8_t)slot};
		from->listed[slot] = true;
	}
	patch_rel32(from, slot, chain_dest(from, to));
	from->chained[slot] = to;
	from->jmp_next[slot] = to->jmp_in;
	to->jmp_in = (uintptr_t)from | (uintptr_t)slot;
	bt->stats.chained++;
}

/* Take (from, slot) off to's list of incoming chains. */
static void in_list_remove(struct tb *to, struct tb *from, int slot)
{
	uintptr_t want = (uintptr_t)from | (uintptr_t)slot, *pp = &to->jmp_in;

	while (*pp) {
		struct tb *t = (struct tb *)(*pp & ~(uintptr_t)7);
		int s = (int)(*pp & 7);

		if (*pp == want) {
			*pp = t->jmp_next[s];
			return;
		}
		pp = &t->jmp_next[s];
	}
}

void tc_slot_dead(struct bt *bt, struct tb *tb, int slot)
{
	(void)bt;
	tb->slot_dead[slot] = true;
	if (tb->chained[slot]) {
		/* Its bytes are about to be overwritten: forget the chain, never patch it again. */
		in_list_remove(tb->chained[slot], tb, slot);
		tb->chained[slot] = NULL;
	}
}

void tc_invalidate_tb(struct bt *bt, struct tb *tb)
{
	struct tb **pp;
	uintptr_t in;
	int k;

	if (!tb->valid)
		return;
	tb->valid = false;
	for (pp = &bt->cache.hash[tc_hash(tb->eip, tb->cpl)]; *pp; pp = &(*pp)->hash_next)
		if (*pp == tb) {
			*pp = tb->hash_next;
			break;
		}
	/* Predecessors jump to their stubs again (they exit to the dispatcher). */
	for (in = tb->jmp_in; in;) {
		struct tb *from = (struct tb *)(in & ~(uintptr_t)7);
		int slot = (int)(in & 7);

		in = from->jmp_next[slot];
		patch_rel32(from, slot, from->code + from->stub_off[slot]);
		from->chained[slot] = NULL;
		from->jmp_next[slot] = 0;
		bt->stats.unchains++;
	}
	tb->jmp_in = 0;
	for (k = 0; k < tb->nslots; k++)
		if (tb->chained[k]) {
			/* (its code may still be running: leave at its end, not in a target) */
			patch_rel32(tb, k, tb->code + tb->stub_off[k]);
			in_list_remove(tb->chained[k], tb, k);
			tb->chained[k] = NULL;
			bt->stats.unchains++;
		}
	/* Jump-cache and return-site entries may name it: one generation bump forgets them all;
	 * the global jump cache has at most one entry for it, at its eip. */
	tc_gjc_forget(bt, tb);
	tc_jc_invalidate_local(bt);
	bt->stats.smc_invalidations++;
}

void tc_invalidate_page(struct bt *bt, uint32_t ppage)
{
	struct tb *tb, *next;

	if (ppage >= bt->mmu.npages)
		return;
	for (tb = bt->cache.page_tbs[ppage]; tb; tb = next) {
		next = tb->page[0] == ppage ? tb->page_next[0] : tb->page_next[1];
		tc_invalidate_tb(bt, tb);
	}
	bt->cache.page_tbs[ppage] = NULL;
	bt->mmu.pflags[ppage] &= ~PF_CODE;
}

void tc_invlpg(struct bt *bt, uint32_t vpage, bool large)
{
	/*
	 * Blocks are found through their physical pages, and chains never leave the
	 * pages a block was checked against: only the jump caches, keyed by virtual
	 * address, may remember a stale mapping, and only if code ran from the page
	 * (from the 4 MiB page, for a large one: 128 bytes of the bitmap). A 4 MiB page
	 * blocks were entered in is one translation even when the tables no longer map
	 * it large (its PDE cleared first): invlpg of any address in it ends it.
	 */
	if (bt->cache.code_large[(vpage & 0xfffffu) >> 13] & (1u << ((vpage >> 10) & 7)))
		large = true;
	if (large) {
		const uint8_t *b = bt->cache.code_vpages + ((vpage & 0xffc00u) >> 3);
		int i;

		tc_gjc_invlpg(bt, vpage, true);
		for (i = 0; i < 1024 / 8; i++)
			if (b[i]) {
				tc_jc_invalidate_local(bt);
				return;
			}
		return;
	}
	tc_gjc_invlpg(bt, vpage, false);
	if (tc_code_vpage(bt, vpage))
		tc_jc_invalidate_local(bt);
}

void tc_new_space(struct bt *bt, bool pages_hold)
{
	bt->stats.cr3_loads++;
	tc_jc_switch(bt, pages_hold);
}

bool tc_loop_add(struct bt *bt, uint8_t *field, uint8_t *head, uint8_t *exit)
{
	if (bt->cache.nloops == TC_MAX_LOOPS)
		return false;
	bt->cache.loops[bt->cache.nloops++] = (struct bt_loopref){field, head, exit};
	if (bt->cache.loops_cut)
		patch_field(field, exit);
	return true;
}

/* Every chain's code back to its stub, every rep loop to its exit (async-signal-safe). */
static void unlink_all(struct bt *bt)
{
	uint32_t i;

	for (i = 0; i < bt->cache.nchains; i++) {
		struct tb *tb = bt->cache.chains[i].tb;
		int slot = bt->cache.chains[i].slot;

		if (tb->chained[slot])
			patch_rel32(tb, slot, tb->code + tb->stub_off[slot]);
	}
	for (i = 0; i < bt->cache.nloops; i++)
		patch_field(bt->cache.loops[i].field, bt->cache.loops[i].exit);
	bt->cache.loops_cut = true;
	bt->cache.unlinked = true;
}

/* One block's chains and rep loops to their exits (async-signal-safe). */
static void unlink_one(struct bt *bt, struct tb *tb)
{
	int k;
	uint32_t i;

	for (k = 0; k < tb->nslots; k++)
		if (tb->chained[k])
			patch_rel32(tb, k, tb->code + tb->stub_off[k]);
	for (i = tb->loop0; i < (uint32_t)tb->loop0 + tb->nloops && i < bt->cache.nloops; i++)
		patch_field(bt->cache.loops[i].field, bt->cache.loops[i].exit);
}

static void relink_one(struct bt *bt, struct tb *tb)
{
	int k;
	uint32_t i;

	if (!tb->valid)
		return;
	for (k = 0; k < tb->nslots; k++)
		if (tb->chained[k])
			patch_rel32(tb, k, chain_dest(tb, tb->chained[k]));
	if (!bt->cache.loops_cut)
		for (i = tb->loop0; i < (uint32_t)tb->loop0 + tb->nloops && i < bt->cache.nloops;
		     i++)
			patch_field(bt->cache.loops[i].field, bt->cache.loops[i].head);
}

void tc_unlink_all_async(struct bt *bt)
{
	unlink_all(bt);
	bt->stats.kick_unlink_all++;
	tc_caches_use(bt, true);
}

/*
 * A jump-cache or return-site probe interrupted between loading its table and
 * jumping may still hit (the empty caches swapped in come too late for it) and
 * jump into another block: the registers say where. r13w indexes the jump cache
 * whose address a probe holds in r11; r9 is the return-site entry being probed.
 * Those target blocks are unlinked too. Returns false when that cannot be told
 * (r9 at the first entry may be the table before its offset was added).
 */
static bool unlink_probe_targets(struct bt *bt, uint64_t r9, uint64_t r11, uint64_t r13)
{
	uint64_t ic = (uint64_t)(uintptr_t)bt->cache.ic, t[2] = {0, 0};
	int i;

	if (r11 == (uint64_t)(uintptr_t)bt->cache.jc[0] ||
	    r11 == (uint64_t)(uintptr_t)bt->cache.jc[1])
		t[0] = ((const struct jc_entry *)(uintptr_t)r11)[r13 & (JC_SIZE - 1)].host;
	if (r9 >= ic && r9 < ic + IC_MAX * sizeof(struct jc_entry)) {
		if (r9 == ic || (r9 - ic) % sizeof(struct jc_entry))
			return false;
		t[1] = ((const struct jc_entry *)(uintptr_t)r9)->host;
	}
	for (i = 0; i < 2; i++) {
		struct tb *tb;

		if (!t[i] || !(tb = tc_find_host(bt, (uintptr_t)t[i])))
			continue; /* (the miss stub, or nothing) */
		if (tb->patched || bt->cache.nkicked == TC_MAX_KICKED)
			return false;
		unlink_one(bt, tb);
		bt->cache.kicked[bt->cache.nkicked++] = tb;
	}
	return true;
}

void tc_kick_async(struct bt *bt, uintptr_t pc, uint64_t r9, uint64_t r11, uint64_t r13)
{
	struct tb *tb = tc_find_host(bt, pc);

	/*
	 * Translated code leaves a block only through its exit jumps, its jump-cache
	 * probes (the empty caches below make them miss, or a probe already past its
	 * load reaches a block unlinked here too) and callouts (which look at
	 * exit_request): with its own chains unlinked, the block interrupted leaves at
	 * its end. Outside a block (the stubs), in a block with an adaptive patch (a
	 * jump into another block's middle) or where a probe's target cannot be told,
	 * every chain is unlinked instead.
	 */
	tc_caches_use(bt, true);
	if (tb && !tb->patched && bt->cache.nkicked < TC_MAX_KICKED) {
		unlink_one(bt, tb);
		bt->cache.kicked[bt->cache.nkicked++] = tb;
		if (unlink_probe_targets(bt, r9, r11, r13)) {
			bt->stats.kick_unlinks++;
			return;
		}
	}
	tc_unlink_all_async(bt);
}

void tc_relink(struct bt *bt)
{
	int n = bt->cache.nkicked;
	uint32_t i;

	if (bt->cache.unlinked) {
		bt->cache.loops_cut = false;
		bt->cache.unlinked = false;
		for (i = 0; i < bt->cache.nloops; i++)
			patch_field(bt->cache.loops[i].field, bt->cache.loops[i].head);
		for (i = 0; i < bt->cache.nchains; i++) {
			struct tb *tb = bt->cache.chains[i].tb;
			int slot = bt->cache.chains[i].slot;

			if (tb->valid && tb->chained[slot])
				patch_rel32(tb, slot, chain_dest(tb, tb->chained[slot]));
		}
	}
	while (n--)
		relink_one(bt, bt->cache.kicked[n]);
	bt->cache.nkicked = 0;
}
