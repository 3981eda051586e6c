/*
 * bt_cache.c: the translation cache. Blocks live in one RWX buffer headed by
 * the stubs; a hash on (eip, cpl) finds them, a direct-mapped jump cache per
 * CPL class serves indirect branches from translated code, chained direct
 * branches jump block to block, and invalidation (code writes, invlpg) unchains.
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

static uint32_t tb_hash(uint32_t eip, uint8_t cpl)
{
	return ((eip * 0x9e3779b1u) >> 19 ^ cpl) & (TB_HASH_SIZE - 1);
}

static uint8_t *stub_addr(struct bt *bt, const uint8_t *sym)
{
	return bt->tc + (sym - bt_stubs_start);
}

static void jc_fill_empty(struct bt *bt, struct jc_entry *jc)
{
	uint32_t i;

	for (i = 0; i < JC_SIZE; i++) {
		jc[i].eip = ~i; /* never equal to an eip with these low bits */
		jc[i].host = (uint64_t)(uintptr_t)bt->stub_miss;
	}
}

/* Inline caches start (and end) empty: eip 0 with the miss stub, which is always safe. */
static void ic_reset(struct bt *bt, struct jc_entry *ic, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		ic[i] = (struct jc_entry){ 0, 0, (uint64_t)(uintptr_t)bt->stub_miss };
}

void tc_jc_reset(struct bt *bt)
{
	jc_fill_empty(bt, bt->jc[0]);
	jc_fill_empty(bt, bt->jc[1]);
	ic_reset(bt, bt->ic, bt->ic_used);
	bt->ic_used = 0;
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
	bt->ic = malloc(IC_MAX * sizeof(struct jc_entry));
	bt->ic_empty = malloc(IC_MAX * sizeof(struct jc_entry));
	if (!bt->tbs || !bt->sites || !bt->imaps || !bt->chains || !bt->loops || !bt->jc[0] || !bt->jc[1] ||
	    !bt->jc_empty || !bt->ic || !bt->ic_empty)
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
	memset(bt->hash, 0, sizeof(bt->hash));
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

struct tb *tc_lookup(struct bt *bt, uint32_t eip, uint8_t cpl)
{
	struct tb *tb;

	for (tb = bt->hash[tb_hash(eip, cpl)]; tb; tb = tb->hash_next)
		if (tb->eip == eip && tb->cpl == cpl)
			return tb;
	return NULL;
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
	uint32_t h = tb_hash(tb->eip, tb->cpl);

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

static void patch_rel32(struct tb *tb, int slot, const uint8_t *dest)
{
	uint8_t *field = tb->code + tb->jmp_off[slot];
	int32_t rel = (int32_t)(dest - (field + 4));

	memcpy(field, &rel, 4);
}

void tc_chain(struct bt *bt, struct tb *from, int slot, struct tb *to)
{
	if (!from->valid || !to->valid || from->chained[slot] || from->slot_dead[slot] ||
	    bt->nchains == bt->max_chains)
		return;
	patch_rel32(from, slot, to->code);
	from->chained[slot] = to;
	bt->chains[bt->nchains++] = (struct bt_chainref){ from, (uint8_t)slot };
	bt->chained++;
}

/* Undo every chain's bookkeeping and code. */
static void patch_field(uint8_t *field, const uint8_t *dest)
{
	int32_t rel = (int32_t)(dest - (field + 4));

	memcpy(field, &rel, 4);
}

bool tc_loop_add(struct bt *bt, uint8_t *field, uint8_t *head, uint8_t *exit)
{
	if (bt->nloops == TC_MAX_LOOPS)
		return false;
	bt->loops[bt->nloops++] = (struct bt_loopref){ field, head, exit };
	if (bt->loops_cut)
		patch_field(field, exit);
	return true;
}

void tc_unchain_all(struct bt *bt)
{
	uint32_t i;

	if (bt->loops_cut) {
		for (i = 0; i < bt->nloops; i++)
			patch_field(bt->loops[i].field, bt->loops[i].head);
		bt->loops_cut = false;
	}

	for (i = 0; i < bt->nchains; i++) {
		struct tb *tb = bt->chains[i].tb;
		int slot = bt->chains[i].slot;

		if (tb->chained[slot]) {
			patch_rel32(tb, slot, tb->code + tb->stub_off[slot]);
			tb->chained[slot] = NULL;
			bt->unchains++;
		}
	}
	bt->nchains = 0;
	bt->unlinked = false;
}

/*
 * From a signal handler that interrupted translated code: make every block
 * leave the cache at its end. Only code is touched; tc_unchain_all later
 * mends the bookkeeping. The jump cache is swapped for one that always misses.
 */
void tc_unlink_all_async(struct bt *bt)
{
	uint32_t i;

	for (i = 0; i < bt->nchains; i++) {
		struct tb *tb = bt->chains[i].tb;
		int slot = bt->chains[i].slot;

		patch_rel32(tb, slot, tb->code + tb->stub_off[slot]);
	}
	/* A rep string instruction in progress stops after its current iteration. */
	for (i = 0; i < bt->nloops; i++)
		patch_field(bt->loops[i].field, bt->loops[i].exit);
	bt->loops_cut = true;
	bt->cpu.jc = (uint64_t)(uintptr_t)bt->jc_empty;
	bt->cpu.ic = (uint64_t)(uintptr_t)bt->ic_empty;
	bt->unlinked = true;
}

void tc_invalidate_tb(struct bt *bt, struct tb *tb)
{
	struct tb **pp;
	uint32_t i, idx;

	if (!tb->valid)
		return;
	tb->valid = false;
	for (pp = &bt->hash[tb_hash(tb->eip, tb->cpl)]; *pp; pp = &(*pp)->hash_next)
		if (*pp == tb) {
			*pp = tb->hash_next;
			break;
		}
	idx = tb->eip & (JC_SIZE - 1);
	for (i = 0; i < 2; i++)
		if (bt->jc[i][idx].host == (uint64_t)(uintptr_t)tb->code)
			bt->jc[i][idx] = (struct jc_entry){ ~idx, 0, (uint64_t)(uintptr_t)bt->stub_miss };
	/* Inline caches that remember this block forget it. */
	for (i = 0; i < bt->ic_used; i++)
		if (bt->ic[i].host == (uint64_t)(uintptr_t)tb->code)
			bt->ic[i] = (struct jc_entry){ 0, 0, (uint64_t)(uintptr_t)bt->stub_miss };
	/* Incoming and outgoing chains: simplest correct answer is to undo them all. */
	tc_unchain_all(bt);
	bt->smc_invalidations++;
}

void tc_invalidate_page(struct bt *bt, uint32_t ppage)
{
	struct tb *tb, *next;

	if (ppage >= bt->npages)
		return;
	for (tb = bt->page_tbs[ppage]; tb; tb = next) {
		next = tb->page[0] == ppage ? tb->page_next[0] : tb->page_next[1];
		tc_invalidate_tb(bt, tb);
	}
	bt->page_tbs[ppage] = NULL;
	bt->pflags[ppage] &= ~PF_CODE;
}

void tc_invalidate_vpage(struct bt *bt, uint32_t vpage)
{
	uint32_t i;

	for (i = 0; i < bt->ntbs; i++) {
		struct tb *tb = &bt->tbs[i];

		if (tb->valid && ((tb->eip >> 12) == vpage ||
				  ((tb->eip + tb->guest_len - 1) >> 12) == vpage))
			tc_invalidate_tb(bt, tb);
	}
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
