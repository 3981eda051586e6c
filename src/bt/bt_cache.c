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
	return bt->tc + (sym - bt_stubs_start);
}

/* Generation 0: no key the probes build (generation >= 1) ever matches. */
static void jc_fill_empty(struct bt *bt, struct jc_entry *jc)
{
	uint32_t i;

	for (i = 0; i < JC_SIZE; i++)
		jc[i] = (struct jc_entry){i, 0, (uint64_t)(uintptr_t)bt->stub_miss};
}

/* Inline caches start (and end) empty: key 0 with the miss stub, which is always safe. */
static void ic_reset(struct bt *bt, struct jc_entry *ic, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		ic[i] = (struct jc_entry){0, 0, (uint64_t)(uintptr_t)bt->stub_miss};
}

static void jc_set_key(struct bt *bt)
{
	bt->cpu.jc_key = (uint64_t)(bt->jc_gen << 8 | bt->seg_id) << 32;
}

void tc_jc_reset(struct bt *bt)
{
	jc_fill_empty(bt, bt->jc[0]);
	jc_fill_empty(bt, bt->jc[1]);
	ic_reset(bt, bt->ic, bt->ic_used);
	bt->ic_used = 0;
	bt->jc_gen = 1;
	jc_set_key(bt);
}

void tc_jc_invalidate(struct bt *bt)
{
	bt->jc_resets++;
	if (bt->jc_gen == JC_GEN_MAX) {
		/* Generations ran out: refill both tables (the ret sites keep their slots). */
		uint32_t used = bt->ic_used;

		tc_jc_reset(bt);
		bt->ic_used = used;
		return;
	}
	bt->jc_gen++;
	jc_set_key(bt);
}

void tc_jc_fill(struct bt *bt, const struct tb *tb)
{
	uint32_t v = tb->eip >> 12;

	bt->jc[bt->cpu.cpl == 3][tb->eip & (JC_SIZE - 1)] = (struct jc_entry){
	    tb->eip, (uint32_t)(bt->cpu.jc_key >> 32), (uint64_t)(uintptr_t)tb->code};
	bt->code_vpages[v >> 3] |= (uint8_t)(1u << (v & 7));
	if (tb->page[1] != ~0u && v < 0xfffffu) {
		v++;
		bt->code_vpages[v >> 3] |= (uint8_t)(1u << (v & 7));
	}
}

const uint8_t *tc_jc_lookup(const struct bt *bt, uint32_t eip)
{
	const struct jc_entry *e = &bt->jc[bt->cpu.cpl == 3][eip & (JC_SIZE - 1)];

	if (e->eip != eip || e->gen != (uint32_t)(bt->cpu.jc_key >> 32))
		return NULL;
	return (const uint8_t *)(uintptr_t)e->host;
}

bool tc_code_vpage(const struct bt *bt, uint32_t vpage)
{
	return bt->code_vpages[(vpage & 0xfffffu) >> 3] & (1u << (vpage & 7));
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

	for (i = 0; i < bt->nsegstates; i++)
		if (!memcmp(st, &bt->segtab[i], sizeof(*st)))
			return i;
	if (i == TC_MAX_SEGSTATES)
		return -1;
	bt->segtab[bt->nsegstates++] = *st;
	bt->seg_states = bt->nsegstates;
	return i;
}

static bool seg_equal(const struct bt_segstate *a, const struct bt_segstate *b, int s)
{
	return a->base[s] == b->base[s] && a->limit[s] == b->limit[s] && a->type[s] == b->type[s];
}

void tc_seg_key(struct bt *bt, struct tb *tb, uint8_t used)
{
	struct bt_segstate st;
	uint8_t mask = (uint8_t)((used | TB_SEG_ALWAYS) & TB_SEG_ALL);
	int s, id;

	memset(&st, 0, sizeof(st));
	for (s = 0; s < SEG_NR; s++)
		if (mask & (1u << s)) {
			st.base[s] = bt->segtab[bt->seg_id].base[s];
			st.limit[s] = bt->segtab[bt->seg_id].limit[s];
			st.type[s] = bt->segtab[bt->seg_id].type[s];
		}
	id = seg_intern(bt, &st);
	if (id < 0) {
		tb->segs = bt->seg_id;
		tb->seg_mask = TB_SEG_ALL;
		return;
	}
	tb->segs = (uint8_t)id;
	tb->seg_mask = mask;
}

bool tc_seg_match(const struct bt *bt, const struct tb *tb)
{
	const struct bt_segstate *a = &bt->segtab[tb->segs], *b = &bt->segtab[bt->seg_id];
	int s;

	if (tb->segs == bt->seg_id)
		return true;
	for (s = 0; s < SEG_NR; s++)
		if ((tb->seg_mask & (1u << s)) && !seg_equal(a, b, s))
			return false;
	return true;
}

bool tc_seg_covers(const struct bt *bt, const struct tb *a, const struct tb *b)
{
	int s;

	for (s = 0; s < SEG_NR; s++)
		if ((b->seg_mask & (1u << s)) &&
		    (!(a->seg_mask & (1u << s)) ||
		     !seg_equal(&bt->segtab[a->segs], &bt->segtab[b->segs], s)))
			return false;
	return true;
}

void tc_seg_changed(struct bt *bt)
{
	struct bt_segstate st = segstate_now(bt);

	if (!memcmp(&st, &bt->segtab[bt->seg_id], sizeof(st)))
		return;
	int id;

	bt->tc_epoch++;
	id = seg_intern(bt, &st);
	if (id < 0) {
		tc_flush(bt); /* starts the table afresh with the current state */
		return;
	}
	bt->seg_id = (uint8_t)id;
	jc_set_key(bt);
}

int32_t tc_ic_alloc(struct bt *bt)
{
	if (bt->ic_used == IC_MAX)
		return -1;
	return (int32_t)(bt->ic_used++ * sizeof(struct jc_entry));
}

void tc_use_cpl(struct bt *bt)
{
	if (bt->cpu.jc != (uint64_t)(uintptr_t)bt->jc_empty)
		bt->cpu.jc = (uint64_t)(uintptr_t)bt->jc[bt->cpu.cpl == 3];
}

int tc_init(struct bt *bt)
{
	size_t jcsz = JC_SIZE * sizeof(struct jc_entry);

	bt->tc_size = TC_SIZE;
	bt->tc = mmap(NULL, bt->tc_size, PROT_READ | PROT_WRITE | PROT_EXEC,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (bt->tc == MAP_FAILED) {
		bt->tc = NULL;
		return -errno;
	}
	bt->stubs_len = (size_t)(bt_stubs_end - bt_stubs_start);
	memcpy(bt->tc, bt_stubs_start, bt->stubs_len);
	bt->stub_enter = stub_addr(bt, bt_stub_enter);
	bt->stub_exit = stub_addr(bt, bt_stub_exit);
	bt->stub_exit_saved = stub_addr(bt, bt_stub_exit_saved);
	bt->stub_callout = stub_addr(bt, bt_stub_callout);
	bt->stub_miss = stub_addr(bt, bt_stub_miss);
	bt->stub_probe = stub_addr(bt, bt_stub_probe);
	bt->max_tbs = TC_MAX_TBS;
	bt->max_sites = TC_MAX_SITES;
	bt->imap_cap = TC_MAX_IMAP;
	bt->max_chains = TC_MAX_TBS * TB_SLOTS;
	bt->tbs = calloc(bt->max_tbs, sizeof(*bt->tbs));
	bt->sites = calloc(bt->max_sites, sizeof(*bt->sites));
	bt->imaps = calloc(bt->imap_cap, sizeof(*bt->imaps));
	bt->chains = calloc(bt->max_chains, sizeof(*bt->chains));
	bt->loops = calloc(TC_MAX_LOOPS, sizeof(*bt->loops));
	bt->jc[0] = malloc(jcsz);
	bt->jc[1] = malloc(jcsz);
	bt->jc_empty = malloc(jcsz);
	bt->code_vpages = calloc(1u << 17, 1);
	bt->ic = malloc(IC_MAX * sizeof(struct jc_entry));
	bt->ic_empty = malloc(IC_MAX * sizeof(struct jc_entry));
	if (!bt->tbs || !bt->sites || !bt->imaps || !bt->chains || !bt->loops || !bt->jc[0] ||
	    !bt->jc[1] || !bt->jc_empty || !bt->ic || !bt->ic_empty || !bt->code_vpages)
		return -ENOMEM;
	jc_fill_empty(bt, bt->jc_empty);
	ic_reset(bt, bt->ic, IC_MAX);
	ic_reset(bt, bt->ic_empty, IC_MAX);
	bt->cpu.ic = (uint64_t)(uintptr_t)bt->ic;
	tc_flush(bt);
	bt->tc_flushes = 0;
	return 0;
}

void tc_destroy(struct bt *bt)
{
	if (bt->tc)
		munmap(bt->tc, bt->tc_size);
	free(bt->tbs);
	free(bt->sites);
	free(bt->imaps);
	free(bt->chains);
	free(bt->loops);
	free(bt->jc[0]);
	free(bt->jc[1]);
	free(bt->jc_empty);
	free(bt->code_vpages);
	free(bt->ic);
	free(bt->ic_empty);
}

void tc_flush(struct bt *bt)
{
	bt->tc_used = (bt->stubs_len + 63) & ~(size_t)63;
	bt->ntbs = 0;
	bt->nsites = 0;
	bt->imap_used = 0;
	bt->nchains = 0;
	bt->nloops = 0;
	bt->loops_cut = false;
	bt->unlinked = false;
	bt->nkicked = 0;
	bt->tc_epoch++;
	memset(bt->hash, 0, sizeof(bt->hash));
	memset(bt->code_vpages, 0, 1u << 17);
	bt->nsegstates = 1;
	bt->seg_id = 0;
	bt->segtab[0] = segstate_now(bt);
	bt->seg_states = 1;
	if (bt->page_tbs)
		memset(bt->page_tbs, 0, bt->npages * sizeof(*bt->page_tbs));
	if (bt->pflags) {
		uint32_t p;

		/* Pages lose their code: drop their read-only shadow so writes are free again. */
		for (p = 0; p < bt->npages; p++)
			bt->pflags[p] &= ~PF_CODE;
	}
	tc_jc_reset(bt);
	bt->cache_bytes = 0;
	bt->tc_flushes++;
}

struct tb *tc_begin(struct bt *bt, size_t code_max, uint16_t ninsn_max)
{
	struct tb *tb;

	if (bt->ntbs == bt->max_tbs || bt->tc_used + code_max > bt->tc_size ||
	    bt->imap_used + ninsn_max + 1u > bt->imap_cap || bt->nsites + ninsn_max > bt->max_sites)
		return NULL;
	tb = &bt->tbs[bt->ntbs];
	memset(tb, 0, sizeof(*tb));
	tb->code = bt->tc + bt->tc_used;
	tb->imap = &bt->imaps[bt->imap_used];
	tb->page[1] = ~0u;
	tb->segs = bt->seg_id;
	tb->seg_mask = TB_SEG_ALL;
	return tb;
}

static void page_link(struct bt *bt, struct tb *tb, int i)
{
	uint32_t p = tb->page[i];

	if (p >= bt->npages)
		return;
	tb->page_next[i] = bt->page_tbs[p];
	bt->page_tbs[p] = tb;
	if (!(bt->pflags[p] & PF_CODE)) {
		bt->pflags[p] |= PF_CODE;
		/* Existing writable mappings of the page must fault from now on. */
		mmu_unmap_ppage(bt, p);
	}
}

void tc_commit(struct bt *bt, struct tb *tb)
{
	uint32_t h = tc_hash(tb->eip, tb->cpl);

	bt->ntbs++;
	bt->tc_used = (bt->tc_used + tb->code_len + 15) & ~(size_t)15;
	bt->imap_used += tb->ninsn + 1u;
	bt->cache_bytes = bt->tc_used;
	tb->valid = true;
	tb->hash_next = bt->hash[h];
	bt->hash[h] = tb;
	page_link(bt, tb, 0);
	if (tb->page[1] != ~0u && tb->page[1] != tb->page[0])
		page_link(bt, tb, 1);
	bt->blocks++;
	bt->insns += tb->ninsn;
}

bool tc_contains(const struct bt *bt, uintptr_t pc)
{
	return pc >= (uintptr_t)bt->tc && pc < (uintptr_t)bt->tc + bt->tc_used;
}

/* Blocks are laid out in creation order, so their code addresses ascend. */
struct tb *tc_find_host(struct bt *bt, uintptr_t pc)
{
	uint32_t lo = 0, hi = bt->ntbs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if ((uintptr_t)bt->tbs[mid].code <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (pc >= (uintptr_t)bt->tbs[lo - 1].code + bt->tbs[lo - 1].code_len)
		return NULL;
	return &bt->tbs[lo - 1];
}

uint32_t tc_site(struct bt *bt, uint8_t kind, uint32_t eip, const uint8_t *bytes, uint8_t len)
{
	struct bt_site *s = &bt->sites[bt->nsites];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->eip = eip;
	s->len = len;
	memcpy(s->bytes, bytes, len);
	return bt->nsites++;
}
