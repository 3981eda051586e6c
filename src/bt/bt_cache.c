/*
 * bt_cache.c: the translation cache. Blocks live in one RWX buffer headed by
 * the stubs; a hash on (eip, cpl) finds them, and a block is the answer only if
 * the current address space maps its guest-virtual pages to the guest-physical
 * pages it was translated from and the segment state matches: translations
 * survive CR3 loads and serve every address space that maps the same code.
 * A direct-mapped jump cache per CPL class serves indirect branches from
 * translated code; its keys carry a generation bumped on CR3 loads. Chains and
 * invalidation are in bt_chain.c, lookups (which walk the guest page tables) in
 * bt_lookup.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bt.h"
#include "log.h"

#define TC_SIZE (64u << 20)
#define TC_MAX_TBS (1u << 17)
#define TC_MAX_SITES (1u << 17)
#define TC_MAX_IMAP (TC_MAX_TBS * 8u)

static uint8_t *stub_addr(struct bt *bt, const uint8_t *sym)
{
	return bt->cache.tc + (sym - bt_stubs_start);
}

/* Generation 0: no key the probes build (generation >= 1) ever matches. */
static void jc_fill_empty(struct bt *bt, struct jc_entry *jc)
{
	uint32_t i;

	for (i = 0; i < JC_SIZE; i++)
		jc[i] = (struct jc_entry){i, 0, (uint64_t)(uintptr_t)bt->cache.stub_miss};
}

/* Inline caches start (and end) empty: key 0 with the miss stub, which is always safe. */
static void ic_reset(struct bt *bt, struct jc_entry *ic, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		ic[i] = (struct jc_entry){0, 0, (uint64_t)(uintptr_t)bt->cache.stub_miss};
}

/*
 * Keys: the jump caches' by the whole segment state; the global cache's by that
 * state without GS (gseg_id), as the blocks it takes do not use GS (a kernel's code
 * runs under whatever GS a process left; Linux's per-CPU data is FS).
 */
static void jc_set_key(struct bt *bt)
{
	bt->cpu.jc_key = (uint64_t)(bt->cache.jc_gen << 8 | bt->cache.seg_id) << 32;
	bt->cpu.gjc_key = bt->cpu.cpl == 3
	                      ? GJC_KEY_OFF
	                      : (uint64_t)(bt->cache.gjc_gen << 8 | bt->cache.gseg_id) << 32;
	/*
	 * Rings 1 and 2 share CPL 0's tables but not its blocks (rdtsc under CR4.TSD
	 * faults there): their probes never match, and tc_jc_fill enters nothing.
	 */
	if (bt->cpu.cpl == 1 || bt->cpu.cpl == 2)
		bt->cpu.jc_key = bt->cpu.gjc_key = GJC_KEY_OFF;
}

/* Probes (and C lookups) use the current address space's tables from now on. */
static void jc_use_tables(struct bt *bt)
{
	bt->cache.jc_owner = bt->mmu.cur_as;
	bt->cache.jc[0] = bt->cache.jc_as[bt->mmu.cur_as][0];
	bt->cache.jc[1] = bt->cache.jc_as[bt->mmu.cur_as][1];
	tc_use_cpl(bt);
}

/* The generation in use now belongs to the current address space, with no pages yet. */
static void jc_gen_to_as(struct bt *bt)
{
	struct bt_as *as = &bt->mmu.as[bt->mmu.cur_as];

	as->jc_gen = bt->cache.jc_gen;
	as->jc_epoch = bt->cache.jc_epoch;
	as->jc_pages = 0;
	jc_use_tables(bt);
	jc_set_key(bt);
}

void tc_jc_reset(struct bt *bt)
{
	int a;

	for (a = 0; a < BT_AS_NR; a++) {
		jc_fill_empty(bt, bt->cache.jc_as[a][0]);
		jc_fill_empty(bt, bt->cache.jc_as[a][1]);
	}
	jc_fill_empty(bt, bt->cache.gjc);
	bt->cache.gjc_gen = 1;
	memset(bt->cache.gjc_vpages, 0, 1u << 17);
	memset(bt->cache.gjc_large, 0, sizeof(bt->cache.gjc_large));
	ic_reset(bt, bt->cache.ic, bt->cache.ic_used);
	bt->cache.ic_used = 0;
	bt->cache.jc_gen = bt->cache.jc_gen_last = 1;
	bt->cache.jc_epoch++; /* no address space's generation is in the tables any more */
	jc_gen_to_as(bt);
}

/* A fresh generation for the current address space. */
static void jc_new_gen(struct bt *bt)
{
	bt->stats.jc_resets++;
	if (bt->cache.jc_gen_last == JC_GEN_MAX) {
		/* Generations ran out: refill both tables (the ret sites keep their slots). */
		uint32_t used = bt->cache.ic_used;

		tc_jc_reset(bt);
		bt->cache.ic_used = used;
		return;
	}
	bt->cache.jc_gen = ++bt->cache.jc_gen_last;
	jc_gen_to_as(bt);
}

/* Every global jump-cache entry misses from now on. */
static void gjc_bump(struct bt *bt)
{
	if (bt->cache.gjc_gen == JC_GEN_MAX) {
		jc_fill_empty(bt, bt->cache.gjc);
		bt->cache.gjc_gen = 0;
	}
	bt->cache.gjc_gen++;
	memset(bt->cache.gjc_vpages, 0, 1u << 17);
	memset(bt->cache.gjc_large, 0, sizeof(bt->cache.gjc_large));
	jc_set_key(bt);
}

void tc_jc_invalidate_local(struct bt *bt)
{
	bt->cache.jc_epoch++; /* entries of every generation may name what changed */
	jc_new_gen(bt);
}

void tc_jc_invalidate(struct bt *bt)
{
	gjc_bump(bt);
	tc_jc_invalidate_local(bt);
}

void tc_gjc_forget(struct bt *bt, const struct tb *tb)
{
	struct jc_entry *e = &bt->cache.gjc[tb->eip & (JC_SIZE - 1)];

	if (e->host == (uint64_t)(uintptr_t)tb->code)
		*e = (struct jc_entry){tb->eip & (JC_SIZE - 1), 0,
		                       (uint64_t)(uintptr_t)bt->cache.stub_miss};
}

void tc_gjc_invlpg(struct bt *bt, uint32_t vpage, bool large)
{
	const uint8_t *b = bt->cache.gjc_vpages + ((vpage & 0xffc00u) >> 3);
	uint32_t r = (vpage & 0xfffffu) >> 10;

	/*
	 * A 4 MiB page an entry came from is one translation: invlpg of any address in
	 * it ends it (SDM Vol 3A 4.10.2.3), even when the tables no longer map it large
	 * (its PDE cleared first, as 4.10.4.2 advises before a page-size change).
	 */
	if (bt->cache.gjc_large[r >> 3] & (1u << (r & 7)))
		large = true;
	if (!large) {
		if (bt->cache.gjc_vpages[(vpage & 0xfffffu) >> 3] & (1u << (vpage & 7)))
			gjc_bump(bt);
		return;
	}
	for (int i = 0; i < 1024 / 8; i++)
		if (b[i]) {
			gjc_bump(bt);
			return;
		}
}

void tc_jc_switch(struct bt *bt, bool pages_hold)
{
	const struct bt_as *as = &bt->mmu.as[bt->mmu.cur_as];

	/* Its entries are then what a refill from the tables would give (TLB semantics: a
	 * CR3 load forgets; the tables are read again, here up front). */
	if (pages_hold && as->jc_gen && as->jc_epoch == bt->cache.jc_epoch &&
	    as->jc_pages <= JC_AS_PAGES) {
		bt->cache.jc_gen = as->jc_gen;
		jc_use_tables(bt);
		jc_set_key(bt);
		bt->stats.jc_reuses++;
		return;
	}
	jc_new_gen(bt);
}

/* Note that the current generation has entries from vpage (key: | 1 << 31 at CPL 3). */
static void jc_note_page(struct bt *bt, uint32_t key, uint32_t frame)
{
	struct bt_as *as = &bt->mmu.as[bt->mmu.cur_as];
	uint32_t i;

	if (as->jc_gen != bt->cache.jc_gen || as->jc_pages > JC_AS_PAGES)
		return;
	for (i = 0; i < as->jc_pages; i++)
		if (as->jc_page[i] == key) {
			if (as->jc_frame[i] != frame) /* a stale TLB-like entry: never reuse */
				as->jc_pages = JC_AS_PAGES + 1;
			return;
		}
	if (as->jc_pages == JC_AS_PAGES) {
		as->jc_pages = JC_AS_PAGES + 1;
		return;
	}
	as->jc_page[as->jc_pages] = key;
	as->jc_frame[as->jc_pages++] = frame;
}

/* A global entry's code comes from vpage: invlpg of it (or of its 4 MiB page) ends it. */
static void gjc_note_vpage(struct bt *bt, uint32_t vpage, bool large)
{
	bt->cache.gjc_vpages[vpage >> 3] |= (uint8_t)(1u << (vpage & 7));
	if (large)
		bt->cache.gjc_large[vpage >> 13] |= (uint8_t)(1u << ((vpage >> 10) & 7));
}

void tc_jc_fill(struct bt *bt, const struct tb *tb, unsigned facts)
{
	uint32_t v = tb->eip >> 12;
	uint32_t user = bt->cpu.cpl == 3 ? 1u << 31 : 0;

	if (bt->cpu.cpl == 1 || bt->cpu.cpl == 2)
		return;                           /* (jc_set_key) */
	if (bt->cache.jc_owner != bt->mmu.cur_as) /* the slot changed without a CR3 load */
		jc_new_gen(bt);
	bt->cache.jc[bt->cpu.cpl == 3][tb->eip & (JC_SIZE - 1)] = (struct jc_entry){
	    tb->eip, (uint32_t)(bt->cpu.jc_key >> 32), (uint64_t)(uintptr_t)tb->code};
	if (!user && !(tb->seg_mask & GJC_NO_SEG) && bt->cache.gseg_id != 0xff &&
	    (facts & JC_FILL_GLOBAL)) {
		bt->cache.gjc[tb->eip & (JC_SIZE - 1)] = (struct jc_entry){
		    tb->eip, (uint32_t)(bt->cpu.gjc_key >> 32), (uint64_t)(uintptr_t)tb->code};
		gjc_note_vpage(bt, v, facts & JC_FILL_LARGE0);
		if (tb->page[1] != ~0u)
			gjc_note_vpage(bt, (v + 1) & 0xfffffu, facts & JC_FILL_LARGE1);
	}
	jc_note_page(bt, v | user, tb->page[0]);
	if (tb->page[1] != ~0u)
		jc_note_page(bt, ((v + 1) & 0xfffffu) | user, tb->page[1]);
	/* (a 4 MiB page is one translation: invlpg anywhere in it ends it, tc_invlpg) */
	if (facts & JC_FILL_LARGE0)
		bt->cache.code_large[v >> 13] |= (uint8_t)(1u << ((v >> 10) & 7));
	bt->cache.code_vpages[v >> 3] |= (uint8_t)(1u << (v & 7));
	if (tb->page[1] != ~0u && v < 0xfffffu) {
		v++;
		bt->cache.code_vpages[v >> 3] |= (uint8_t)(1u << (v & 7));
		if (facts & JC_FILL_LARGE1)
			bt->cache.code_large[v >> 13] |= (uint8_t)(1u << ((v >> 10) & 7));
	}
}

const uint8_t *tc_jc_lookup(const struct bt *bt, uint32_t eip)
{
	const struct jc_entry *e = &bt->cache.jc[bt->cpu.cpl == 3][eip & (JC_SIZE - 1)];

	if (e->eip != eip || e->gen != (uint32_t)(bt->cpu.jc_key >> 32))
		return NULL;
	return (const uint8_t *)(uintptr_t)e->host;
}

bool tc_code_vpage(const struct bt *bt, uint32_t vpage)
{
	return bt->cache.code_vpages[(vpage & 0xfffffu) >> 3] & (1u << (vpage & 7));
}

/*
 * The current data segments as translations see them: bt_translate folds the
 * bases of ES, SS and DS in, but adds FS's and GS's at run time, so those two
 * count here by limit and type only (a process switch's new TLS base in GS keeps
 * the state, its blocks and its jump-cache keys).
 */
static struct bt_segstate segstate_now(const struct bt *bt)
{
	struct bt_segstate st;
	int i;

	memset(&st, 0, sizeof(st));
	for (i = 0; i < SEG_NR; i++) {
		const struct bt_seg *sg = &bt->cpu.seg[i];

		if (i == SEG_CS)
			continue;
		st.base[i] = i == SEG_FS || i == SEG_GS ? 0 : sg->base;
		st.limit[i] = bt_seg_limited(sg) ? sg->limit : ~0u;
		st.type[i] = bt_seg_limited(sg) ? sg->type : 0;
	}
	return st;
}

static int seg_intern(struct bt *bt, const struct bt_segstate *st)
{
	uint16_t i;

	for (i = 0; i < bt->cache.nsegstates; i++)
		if (!memcmp(st, &bt->cache.segtab[i], sizeof(*st)))
			return i;
	if (i == TC_MAX_SEGSTATES)
		return -1;
	bt->cache.segtab[bt->cache.nsegstates++] = *st;
	bt->stats.seg_states = bt->cache.nsegstates;
	return i;
}

static bool seg_equal(const struct bt_segstate *a, const struct bt_segstate *b, int s)
{
	return a->base[s] == b->base[s] && a->limit[s] == b->limit[s] && a->type[s] == b->type[s];
}

/* Flat (base 0, no limit) or null: what a block that never accesses the segment allows. */
static bool seg_null_or_flat(const struct bt_segstate *a, int s)
{
	return a->type[s] == BT_SEG_NULL || (a->base[s] == 0 && a->limit[s] == ~0u && !a->type[s]);
}

void tc_seg_key(struct bt *bt, struct tb *tb, uint8_t used)
{
	struct bt_segstate st;
	uint8_t mask = (uint8_t)((used | TB_SEG_ALWAYS) & TB_SEG_ALL);
	int s, id;

	memset(&st, 0, sizeof(st));
	for (s = 0; s < SEG_NR; s++)
		if (mask & (1u << s)) {
			st.base[s] = bt->cache.segtab[bt->cache.seg_id].base[s];
			st.limit[s] = bt->cache.segtab[bt->cache.seg_id].limit[s];
			st.type[s] = bt->cache.segtab[bt->cache.seg_id].type[s];
		}
	id = seg_intern(bt, &st);
	if (id < 0) {
		tb->segs = bt->cache.seg_id;
		tb->seg_mask = TB_SEG_ALL;
		tb->seg_lax = 0;
		return;
	}
	tb->segs = (uint8_t)id;
	tb->seg_mask = mask;
	/*
	 * Translated while an always-keyed segment it never accesses is null (an interrupt
	 * stub entered with the ES a guest left null): it also runs under a flat one. Only
	 * then: a lax block may not chain to one that uses the segment (tc_seg_covers), and
	 * blocks translated under flat segments must keep chaining as before.
	 */
	tb->seg_lax = 0;
	for (s = 0; s < SEG_NR; s++)
		if ((TB_SEG_ALWAYS & ~used & (1u << s)) && st.type[s] == BT_SEG_NULL)
			tb->seg_lax |= (uint8_t)(1u << s);
}

bool tc_seg_match(const struct bt *bt, const struct tb *tb)
{
	const struct bt_segstate *a = &bt->cache.segtab[tb->segs],
	                         *b = &bt->cache.segtab[bt->cache.seg_id];
	int s;

	if (tb->segs == bt->cache.seg_id)
		return true;
	for (s = 0; s < SEG_NR; s++)
		if ((tb->seg_mask & (1u << s)) && !seg_equal(a, b, s) &&
		    !((tb->seg_lax & (1u << s)) && seg_null_or_flat(b, s)))
			return false;
	return true;
}

bool tc_seg_null_only(const struct bt *bt, const struct tb *tb)
{
	const struct bt_segstate *a = &bt->cache.segtab[tb->segs],
	                         *b = &bt->cache.segtab[bt->cache.seg_id];
	int s;

	for (s = 0; s < SEG_NR; s++)
		if ((tb->seg_mask & (1u << s)) && !seg_equal(a, b, s) &&
		    !(seg_null_or_flat(a, s) && seg_null_or_flat(b, s)))
			return false;
	return true;
}

bool tc_seg_covers(const struct bt *bt, const struct tb *a, const struct tb *b)
{
	int s;

	for (s = 0; s < SEG_NR; s++) {
		const struct bt_segstate *sa = &bt->cache.segtab[a->segs],
		                         *sb = &bt->cache.segtab[b->segs];
		uint8_t bit = (uint8_t)(1u << s);

		if (!(b->seg_mask & bit))
			continue;
		if (!(a->seg_mask & bit))
			return false;
		if (b->seg_lax & bit) { /* a's check leaves null or flat: b's holds */
			if (!seg_null_or_flat(sa, s))
				return false;
		} else if ((a->seg_lax & bit) || !seg_equal(sa, sb, s)) {
			return false;
		}
	}
	return true;
}

/* gseg_id: the current state without GJC_NO_SEG, interned (0xff: none, no match). */
static void gseg_update(struct bt *bt)
{
	struct bt_segstate st;
	int id;

	memset(&st, 0, sizeof(st));
	for (int s = 0; s < SEG_NR; s++)
		if (!(GJC_NO_SEG & (1u << s))) {
			st.base[s] = bt->cache.segtab[bt->cache.seg_id].base[s];
			st.limit[s] = bt->cache.segtab[bt->cache.seg_id].limit[s];
			st.type[s] = bt->cache.segtab[bt->cache.seg_id].type[s];
		}
	id = seg_intern(bt, &st);
	bt->cache.gseg_id = id < 0 ? 0xff : (uint8_t)id;
}

void tc_seg_changed(struct bt *bt)
{
	struct bt_segstate st = segstate_now(bt);

	if (!memcmp(&st, &bt->cache.segtab[bt->cache.seg_id], sizeof(st)))
		return;
	int id;

	bt->cache.tc_epoch++;
	id = seg_intern(bt, &st);
	if (id < 0) {
		tc_flush(bt); /* starts the table afresh with the current state */
		return;
	}
	bt->cache.seg_id = (uint8_t)id;
	gseg_update(bt);
	jc_set_key(bt);
}

int32_t tc_ic_alloc(struct bt *bt)
{
	if (bt->cache.ic_used == IC_MAX)
		return -1;
	return (int32_t)(bt->cache.ic_used++ * sizeof(struct jc_entry));
}

void tc_use_cpl(struct bt *bt)
{
	if (bt->cpu.jc != (uint64_t)(uintptr_t)bt->cache.jc_empty)
		bt->cpu.jc = (uint64_t)(uintptr_t)bt->cache.jc[bt->cpu.cpl == 3];
	jc_set_key(bt); /* the global cache's key is off at CPL 3 */
}

void tc_caches_use(struct bt *bt, bool empty)
{
	bt->cpu.jc =
	    (uint64_t)(uintptr_t)(empty ? bt->cache.jc_empty : bt->cache.jc[bt->cpu.cpl == 3]);
	bt->cpu.gjc = (uint64_t)(uintptr_t)(empty ? bt->cache.jc_empty : bt->cache.gjc);
	bt->cpu.ic = (uint64_t)(uintptr_t)(empty ? bt->cache.ic_empty : bt->cache.ic);
}

int tc_init(struct bt *bt)
{
	size_t jcsz = JC_SIZE * sizeof(struct jc_entry);
	int a;

	bt->cache.tc_size = TC_SIZE;
	bt->cache.tc = mmap(NULL, bt->cache.tc_size, PROT_READ | PROT_WRITE | PROT_EXEC,
	                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bt->cache.tc == MAP_FAILED) {
		bt->cache.tc = NULL;
		return -errno;
	}
	bt->cache.stubs_len = (size_t)(bt_stubs_end - bt_stubs_start);
	memcpy(bt->cache.tc, bt_stubs_start, bt->cache.stubs_len);
	bt->cache.stub_enter = stub_addr(bt, bt_stub_enter);
	bt->cache.stub_exit = stub_addr(bt, bt_stub_exit);
	bt->cache.stub_exit_saved = stub_addr(bt, bt_stub_exit_saved);
	bt->cache.stub_callout = stub_addr(bt, bt_stub_callout);
	bt->cache.stub_miss = stub_addr(bt, bt_stub_miss);
	bt->cache.stub_probe = stub_addr(bt, bt_stub_probe);
	bt->cache.max_tbs = TC_MAX_TBS;
	bt->cache.max_sites = TC_MAX_SITES;
	bt->cache.imap_cap = TC_MAX_IMAP;
	bt->cache.max_chains = TC_MAX_TBS * TB_SLOTS;
	bt->cache.tbs = calloc(bt->cache.max_tbs, sizeof(*bt->cache.tbs));
	bt->cache.sites = calloc(bt->cache.max_sites, sizeof(*bt->cache.sites));
	bt->cache.imaps = calloc(bt->cache.imap_cap, sizeof(*bt->cache.imaps));
	bt->cache.chains = calloc(bt->cache.max_chains, sizeof(*bt->cache.chains));
	bt->cache.loops = calloc(TC_MAX_LOOPS, sizeof(*bt->cache.loops));
	bt->cache.jc_as = calloc(BT_AS_NR, sizeof(*bt->cache.jc_as));
	if (!bt->cache.jc_as)
		return -ENOMEM;
	for (a = 0; a < BT_AS_NR; a++) {
		bt->cache.jc_as[a][0] = malloc(jcsz);
		bt->cache.jc_as[a][1] = malloc(jcsz);
		if (!bt->cache.jc_as[a][0] || !bt->cache.jc_as[a][1])
			return -ENOMEM;
	}
	bt->cache.jc[0] = bt->cache.jc_as[0][0];
	bt->cache.jc[1] = bt->cache.jc_as[0][1];
	bt->cache.jc_empty = malloc(jcsz);
	bt->cache.gjc = malloc(jcsz);
	bt->cache.gjc_vpages = calloc(1u << 17, 1);
	bt->cache.code_vpages = calloc(1u << 17, 1);
	bt->cache.ic = malloc(IC_MAX * sizeof(struct jc_entry));
	bt->cache.ic_empty = malloc(IC_MAX * sizeof(struct jc_entry));
	if (!bt->cache.tbs || !bt->cache.sites || !bt->cache.imaps || !bt->cache.chains ||
	    !bt->cache.loops || !bt->cache.jc[0] || !bt->cache.jc[1] || !bt->cache.jc_empty ||
	    !bt->cache.ic || !bt->cache.ic_empty || !bt->cache.code_vpages || !bt->cache.gjc ||
	    !bt->cache.gjc_vpages)
		return -ENOMEM;
	jc_fill_empty(bt, bt->cache.jc_empty);
	jc_fill_empty(bt, bt->cache.gjc);
	ic_reset(bt, bt->cache.ic, IC_MAX);
	ic_reset(bt, bt->cache.ic_empty, IC_MAX);
	tc_caches_use(bt, false);
	tc_flush(bt);
	bt->stats.tc_flushes = 0;
	return 0;
}

void tc_destroy(struct bt *bt)
{
	int a;

	if (bt->cache.tc)
		munmap(bt->cache.tc, bt->cache.tc_size);
	free(bt->cache.tbs);
	free(bt->cache.sites);
	free(bt->cache.imaps);
	free(bt->cache.chains);
	free(bt->cache.loops);
	for (a = 0; bt->cache.jc_as && a < BT_AS_NR; a++) {
		free(bt->cache.jc_as[a][0]);
		free(bt->cache.jc_as[a][1]);
	}
	free(bt->cache.jc_as);
	free(bt->cache.jc_empty);
	free(bt->cache.gjc);
	free(bt->cache.gjc_vpages);
	free(bt->cache.code_vpages);
	free(bt->cache.ic);
	free(bt->cache.ic_empty);
}

void tc_flush(struct bt *bt)
{
	bt->cache.tc_used = (bt->cache.stubs_len + 63) & ~(size_t)63;
	bt->cache.ntbs = 0;
	bt->cache.nsites = 0;
	bt->cache.imap_used = 0;
	bt->cache.nchains = 0;
	bt->cache.nloops = 0;
	bt->cache.loops_cut = false;
	bt->cache.unlinked = false;
	bt->cache.nkicked = 0;
	bt->cache.tc_epoch++;
	memset(bt->cache.hash, 0, sizeof(bt->cache.hash));
	memset(bt->cache.code_vpages, 0, 1u << 17);
	memset(bt->cache.code_large, 0, sizeof(bt->cache.code_large));
	bt->cache.nsegstates = 1;
	bt->cache.seg_id = 0;
	bt->cache.segtab[0] = segstate_now(bt);
	bt->stats.seg_states = 1;
	gseg_update(bt);
	if (bt->cache.page_tbs)
		memset(bt->cache.page_tbs, 0, bt->mmu.npages * sizeof(*bt->cache.page_tbs));
	if (bt->mmu.pflags) {
		uint32_t p;

		/* Pages lose their code: drop their read-only shadow so writes are free again. */
		for (p = 0; p < bt->mmu.npages; p++)
			bt->mmu.pflags[p] &= ~PF_CODE;
	}
	tc_jc_reset(bt);
	bt->stats.cache_bytes = 0;
	bt->stats.tc_flushes++;
}

struct tb *tc_begin(struct bt *bt, size_t code_max, uint16_t ninsn_max)
{
	struct tb *tb;

	if (bt->cache.ntbs == bt->cache.max_tbs ||
	    bt->cache.tc_used + code_max > bt->cache.tc_size ||
	    bt->cache.imap_used + ninsn_max + 1u > bt->cache.imap_cap ||
	    bt->cache.nsites + ninsn_max > bt->cache.max_sites)
		return NULL;
	tb = &bt->cache.tbs[bt->cache.ntbs];
	memset(tb, 0, sizeof(*tb));
	tb->code = bt->cache.tc + bt->cache.tc_used;
	tb->imap = &bt->cache.imaps[bt->cache.imap_used];
	tb->page[1] = ~0u;
	tb->segs = bt->cache.seg_id;
	tb->seg_mask = TB_SEG_ALL;
	return tb;
}

static void page_link(struct bt *bt, struct tb *tb, int i)
{
	uint32_t p = tb->page[i];

	if (p >= bt->mmu.npages)
		return;
	tb->page_next[i] = bt->cache.page_tbs[p];
	bt->cache.page_tbs[p] = tb;
	if (!(bt->mmu.pflags[p] & PF_CODE)) {
		bt->mmu.pflags[p] |= PF_CODE;
		/* Existing writable mappings of the page must fault from now on. */
		mmu_protect_ppage(bt, p);
	}
}

void tc_commit(struct bt *bt, struct tb *tb)
{
	uint32_t h = tc_hash(tb->eip, tb->cpl);

	bt->cache.ntbs++;
	bt->cache.tc_used = (bt->cache.tc_used + tb->code_len + 15) & ~(size_t)15;
	bt->cache.imap_used += tb->ninsn + 1u;
	bt->stats.cache_bytes = bt->cache.tc_used;
	tb->valid = true;
	tb->hash_next = bt->cache.hash[h];
	bt->cache.hash[h] = tb;
	page_link(bt, tb, 0);
	if (tb->page[1] != ~0u && tb->page[1] != tb->page[0])
		page_link(bt, tb, 1);
	bt->stats.blocks++;
	bt->stats.insns += tb->ninsn;
}

bool tc_contains(const struct bt *bt, uintptr_t pc)
{
	return pc >= (uintptr_t)bt->cache.tc && pc < (uintptr_t)bt->cache.tc + bt->cache.tc_used;
}

/* Blocks are laid out in creation order, so their code addresses ascend. */
struct tb *tc_find_host(struct bt *bt, uintptr_t pc)
{
	uint32_t lo = 0, hi = bt->cache.ntbs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if ((uintptr_t)bt->cache.tbs[mid].code <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (pc >= (uintptr_t)bt->cache.tbs[lo - 1].code + bt->cache.tbs[lo - 1].code_len)
		return NULL;
	return &bt->cache.tbs[lo - 1];
}

uint32_t tc_site(struct bt *bt, uint8_t kind, uint32_t eip, const uint8_t *bytes, uint8_t len)
{
	struct bt_site *s = &bt->cache.sites[bt->cache.nsites];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->eip = eip;
	s->len = len;
	memcpy(s->bytes, bytes, len);
	return bt->cache.nsites++;
}
