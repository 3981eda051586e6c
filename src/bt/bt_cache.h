/*
 * bt_cache.h: the translation cache's interface to the rest of the translator
 * (bt_cache.c: blocks, lookup by guest-physical page and segment state, jump
 * caches; bt_chain.c: chains, invalidation, kicks). Included by bt.h.
 */
#ifndef TANDEM_BT_CACHE_H
#define TANDEM_BT_CACHE_H

/* bt_cache.c: the translation cache */
/* Map the cache (64 MiB RWX) with the stubs at its head, allocate its tables: 0 or -errno. */
int tc_init(struct bt *bt);
/* Unmap and free what tc_init made (also after a partial tc_init). */
void tc_destroy(struct bt *bt);
/* Drop every block (paging mode, PSE, TSD, x87 mode changes; a full cache). */
void tc_flush(struct bt *bt);
/*
 * The block for (eip, cpl) whose guest-physical pages are what the current address
 * space maps eip's page (and the next, for a block reaching into it) to, and whose
 * segment state is the current one; NULL if none. Walks the guest page tables
 * (mmu_translate, fetch: sets A bits as the CPU's fetch would); raises nothing.
 */
struct tb *tc_lookup(struct bt *bt, uint32_t eip, uint8_t cpl);
/*
 * The same, first through the current CPL class's jump cache (an entry of this
 * generation and segment state was checked when made: no walk); a block found by
 * tc_lookup is entered there. For the dispatcher and callouts that go on in a block.
 */
struct tb *tc_lookup_fast(struct bt *bt, uint32_t eip, uint8_t cpl);
/* The jump cache's host code for eip in this generation and segment state, or NULL. */
const uint8_t *tc_jc_lookup(const struct bt *bt, uint32_t eip);
/* Room for a block of up to code_max host bytes; NULL when the cache is full. */
struct tb *tc_begin(struct bt *bt, size_t code_max, uint16_t ninsn_max);
/* Make a translated block findable (hash, its physical pages made traced: SMC). */
void tc_commit(struct bt *bt, struct tb *tb);
/* Invalidate every block at (eip, cpl), of any address space (adaptive retranslation). */
void tc_invalidate_eip(struct bt *bt, uint32_t eip, uint8_t cpl);
/* The block whose host code holds pc (binary search; async-signal-safe), or NULL. */
struct tb *tc_find_host(struct bt *bt, uintptr_t pc);
/* Is pc in the cache (stubs or blocks)? */
bool tc_contains(const struct bt *bt, uintptr_t pc);
/* Record a callout site (kind, the guest instruction's eip and bytes); its index. */
uint32_t tc_site(struct bt *bt, uint8_t kind, uint32_t eip, const uint8_t *bytes, uint8_t len);
/* Empty jump caches and return-site caches, generation 1 (with a flush). */
void tc_jc_reset(struct bt *bt);
/*
 * Every jump-cache and return-site entry misses from now on: O(1), a generation bump;
 * no address space's earlier generation may be taken back (bt->jc_epoch).
 */
void tc_jc_invalidate(struct bt *bt);
/*
 * After a CR3 load (bt->cur_as already the new address space): take back the
 * generation this address space last used when nothing invalidated since and every
 * code page its entries came from still translates to the same frame (at most
 * JC_AS_PAGES pages, checked with mmu_peek_fetch: exact TLB-flush semantics, the
 * tables are read again); else a fresh generation. A ping-pong between two
 * processes then keeps both processes' jump caches.
 */
void tc_jc_switch(struct bt *bt);
/* Enter tb (just looked up or translated) in the current CPL's jump cache; note its pages as code.
 */
void tc_jc_fill(struct bt *bt, const struct tb *tb);
/* Has code run from virtual page vpage since the last flush (conservative: never forgets)? */
bool tc_code_vpage(const struct bt *bt, uint32_t vpage);
/*
 * A data segment's base, limit or type changed (bt_seg_set): translations are keyed
 * by the segment state (an index into a table of up to TC_MAX_SEGSTATES; a full table
 * flushes). Bumps tc_epoch when the state differs: blocks in flight are stale.
 */
void tc_seg_changed(struct bt *bt);
/*
 * Key a new block by the segments it used (used: bits by SEG_*, plus TB_SEG_ALWAYS):
 * tb->seg_mask and tb->segs, the current state restricted to them (interned; the
 * full state when the table is full), and tb->seg_lax: the TB_SEG_ALWAYS segments it
 * never accessed that are null or flat now, which then match null and flat alike (an
 * interrupt stub runs under a null ES a guest left behind without a retranslation).
 */
void tc_seg_key(struct bt *bt, struct tb *tb, uint8_t used);
/* Does the current segment state match tb's on the segments tb depends on? */
bool tc_seg_match(const struct bt *bt, const struct tb *tb);
/* Whenever a runs, does b's segment key hold (b depends only on segments a checks, equal)? */
bool tc_seg_covers(const struct bt *bt, const struct tb *a, const struct tb *b);
/* After a CPL change: translated code probes the new CPL class's jump cache (unless a kick emptied
 * it). */
void tc_use_cpl(struct bt *bt);
/* A ret site's inline cache: its byte offset from cpu->ic, or -1 when none are left. */
int32_t tc_ic_alloc(struct bt *bt);

/* bt_chain.c: chains, invalidation, kicks */
/*
 * Chain from's exit slot to to, if to's guest pages are among those from was
 * checked against (same virtual and physical pages, same segment state), so the
 * chain is right in every address space from runs in. Otherwise nothing.
 */
void tc_chain(struct bt *bt, struct tb *from, int slot, struct tb *to);
/* Is b's code within a's checked pages (tc_chain's rule; adaptive patches use it too)? */
bool tc_same_pages(const struct bt *bt, const struct tb *a, const struct tb *b);
/*
 * An adaptive patch overwrites slot's jump in tb: it never chains again, and a
 * chain it had is forgotten without touching the code (unlink and relink skip it).
 */
void tc_slot_dead(struct bt *bt, struct tb *tb, int slot);
/* Invalidate one block: unchain its predecessors (its incoming list), its own chains, and the jump
 * caches. */
void tc_invalidate_tb(struct bt *bt, struct tb *tb);
/* Invalidate the blocks of guest-physical page ppage (a write to it: SMC). */
void tc_invalidate_page(struct bt *bt, uint32_t ppage);
/* invlpg of virtual page vpage: jump caches reset if code ran from it; no block is touched. */
void tc_invlpg(struct bt *bt, uint32_t vpage);
/* A CR3 load: blocks and chains stay; jump and return-site caches reset (generation). */
void tc_new_space(struct bt *bt);
/* Register a rep string loop's back edge (addresses in committed code); false when full. */
bool tc_loop_add(struct bt *bt, uint8_t *field, uint8_t *head, uint8_t *exit);
/*
 * From a signal handler that interrupted translated code at pc (a kick): make the
 * running block leave the cache at its end, by unlinking its chains and rep loops
 * and swapping in always-missing jump caches; every chain when pc is not in a
 * plain block; a probe caught mid-way (registers r9, r11, r13) has its target
 * block unlinked too. Async-signal-safe. The dispatcher undoes it with tc_relink.
 */
void tc_kick_async(struct bt *bt, uintptr_t pc, uint64_t r9, uint64_t r11, uint64_t r13);
/* The same for every chain (adaptive faults, MMIO side effects). Async-signal-safe. */
void tc_unlink_all_async(struct bt *bt);
/* Back in the dispatcher: put back what tc_kick_async / tc_unlink_all_async unlinked. */
void tc_relink(struct bt *bt);

#endif
