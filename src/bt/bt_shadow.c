/*
 * bt_shadow.c: the translator's shadow page tables. Each cached guest address
 * space (a slot keyed by CR3, BT_AS_NR of them, LRU) owns a pair of 4 GiB host
 * views (supervisor: every present page; user: only U pages), each in its own
 * PROT_NONE reservation with guards, a mirror of page 0 at 4 GiB and canary pages
 * at both ends (see bt.h). A view maps memfd pages of guest RAM (or the open-bus
 * page) and nothing else. Slots that are not current stay exact: every write to a
 * guest page table or directory traces (bt_mmu.c) and drops the entries it
 * changed in every slot, so a CR3 load of a cached key is a switch of the view
 * base, never a stale translation (SDM Vol 3A 4.10.4: after mov cr3 no non-global
 * entry of before may be used; an exact shadow has none that differ).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bt.h"
#include "log.h"
#include "monitor.h"

#define VIEW_SIZE (1ULL << 32)
/*
 * A view and the page after it: the page at 4 GiB mirrors guest page 0, so an access
 * that straddles 0xFFFFFFFF (or a one-register form that lands just past 4 GiB)
 * wraps exactly as on i386.
 */
#define VIEW_MAPPED (VIEW_SIZE + 4096)
/* The whole reservation, from the canary below to the canary above. */
#define RESERVE_LEN (4096 + BT_GUARD_BELOW + VIEW_MAPPED + BT_GUARD_ABOVE + 4096)
#define VPAGES (1u << 20)
/*
 * The mapping budget, all views together: each isolated page is up to two VMAs and
 * Linux allows 65530 per process by default (vm.max_map_count).
 */
#define SHADOW_MAX_PAGES 25000u
#define PTE_P 0x1u
#define PDE_PS 0x80u
#define CR4_PGE 0x80u

static uint8_t *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#define CANARY_BYTE 0xc5

/* A page of canary bytes at addr, a page of the view's own reservation. */
static uint8_t *canary_at(uint8_t *addr)
{
	if (mprotect(addr, 4096, PROT_READ | PROT_WRITE))
		return NULL;
	memset(addr, CANARY_BYTE, 4096);
	return addr;
}

int mmu_canary_check(const struct bt *bt)
{
	int i, bad = 0;

	for (i = 0; i < 2 * VIEW_NR; i++) {
		const uint8_t *p = bt->mmu.canary[i];
		unsigned k;

		for (k = 0; p && k < 4096; k++)
			if (p[k] != CANARY_BYTE) {
				log_err("bt: host memory next to view %d changed at %p: guest "
				        "confinement "
				        "broken",
				        i / 2, (const void *)(p + k));
				bad = -1;
				break;
			}
	}
	return bad;
}

int mmu_init(struct bt *bt)
{
	int v;

	bt->mmu.openbus_fd = -1; /* mmu_destroy closes it once it exists, whatever failed after */
	bt->mmu.npages = (uint32_t)(bt->mon->vm.ram_size >> 12);
	bt->mmu.pflags = calloc(bt->mmu.npages, 1);
	bt->cache.page_tbs = calloc(bt->mmu.npages, sizeof(*bt->cache.page_tbs));
	/* One more rmap list: the open-bus page, "physical page" npages in v2p. */
	bt->mmu.rmap_head = calloc(bt->mmu.npages + 1, sizeof(*bt->mmu.rmap_head));
	bt->mmu.ptref = calloc(bt->mmu.npages, sizeof(*bt->mmu.ptref));
	bt->mmu.pt_hot = calloc(bt->mmu.npages, 1);
	bt->mmu.rmap_cap = SHADOW_MAX_PAGES + 64;
	bt->mmu.rmap = calloc(bt->mmu.rmap_cap, sizeof(*bt->mmu.rmap));
	if (!bt->mmu.pflags || !bt->cache.page_tbs || !bt->mmu.rmap_head || !bt->mmu.rmap ||
	    !bt->mmu.ptref || !bt->mmu.pt_hot)
		return -ENOMEM;
	/* Open bus reads all-ones (QEMU's unassigned memory, a PC's floating bus). */
	bt->mmu.openbus_fd = memfd_create("tandem-open-bus", MFD_CLOEXEC);
	if (bt->mmu.openbus_fd < 0 || ftruncate(bt->mmu.openbus_fd, 8192))
		return -errno;
	bt->mmu.openbus =
	    mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, bt->mmu.openbus_fd, 0);
	if (bt->mmu.openbus == MAP_FAILED) {
		bt->mmu.openbus = NULL;
		return -errno;
	}
	memset(bt->mmu.openbus, 0xff, 4096);
	for (v = 0; v < VIEW_NR; v++) {
		/* [canary][guard below][4 GiB view][mirror][guard above][canary] */
		bt->mmu.view[v] = reserve(RESERVE_LEN);
		if (bt->mmu.view[v])
			bt->mmu.view[v] += 4096 + BT_GUARD_BELOW;
		bt->mmu.v2p[v] = (uint32_t *)reserve(VPAGES * sizeof(uint32_t));
		if (!bt->mmu.view[v] || !bt->mmu.v2p[v])
			return -ENOMEM;
		if (mprotect(bt->mmu.v2p[v], VPAGES * sizeof(uint32_t), PROT_READ | PROT_WRITE))
			return -errno;
		/* Tripwires right below and right after the reservation (see mmu_canary_check). */
		bt->mmu.canary[2 * v] = canary_at(bt->mmu.view[v] - BT_GUARD_BELOW - 4096);
		bt->mmu.canary[2 * v + 1] =
		    canary_at(bt->mmu.view[v] + VIEW_MAPPED + BT_GUARD_ABOVE);
	}
	for (v = 0; v < BT_AS_NR; v++)
		bt->mmu.as[v] = (struct bt_as){.cr3 = BT_AS_FREE};
	bt->mmu.cur_as = 0;
	return 0;
}

void mmu_destroy(struct bt *bt)
{
	int v;

	for (v = 0; v < VIEW_NR; v++) {
		if (bt->mmu.view[v])
			munmap(bt->mmu.view[v] - BT_GUARD_BELOW - 4096, RESERVE_LEN);
		if (bt->mmu.v2p[v])
			munmap(bt->mmu.v2p[v], VPAGES * sizeof(uint32_t));
	}
	if (bt->mmu.openbus)
		munmap(bt->mmu.openbus, 8192);
	if (bt->mmu.openbus_fd >= 0)
		close(bt->mmu.openbus_fd);
	free(bt->mmu.pflags);
	free(bt->cache.page_tbs);
	free(bt->mmu.rmap_head);
	free(bt->mmu.ptref);
	free(bt->mmu.pt_hot);
	free(bt->mmu.rmap);
}

bool mmu_shadow_ok(const struct bt *bt, uint32_t va, bool write)
{
	uint32_t e = bt->mmu.v2p[bt->mmu.cur_view][va >> 12];

	return e && (!write || (e & V2P_W));
}

void mmu_set_view(struct bt *bt)
{
	bt->mmu.cur_view = bt->mmu.cur_as * VIEW_KINDS + (bt->cpu.cpl == 3 ? VIEW_USER : VIEW_SUP);
	bt->cpu.vbase =
	    (uint64_t)(uintptr_t)bt->mmu.view[bt->mmu.cur_view]; /* r8 at the next entry */
}

/* Guest page 0 also lives at 4 GiB (the wrap mirror): both copies change together. */
void mmu_shadow_mprotect(struct bt *bt, int v, uint32_t va, int prot)
{
	mprotect(mmu_host_page(bt, v, va), 4096, prot);
	if ((va >> 12) == 0)
		mprotect(bt->mmu.view[v] + VIEW_SIZE, 4096, prot);
}

static void shadow_none(struct bt *bt, int v, uint32_t vpage)
{
	mmap(mmu_host_page(bt, v, vpage << 12), 4096, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (vpage == 0)
		mmap(bt->mmu.view[v] + VIEW_SIZE, 4096, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* ppage npages is the open-bus page, npages + 1 the device scratch page (mmio_step). */
static int shadow_map(struct bt *bt, int v, uint32_t vpage, uint32_t n, int prot, uint32_t ppage)
{
	int fd = ppage >= bt->mmu.npages ? bt->mmu.openbus_fd : bt->mon->vm.memfd;
	off_t off =
	    ppage >= bt->mmu.npages ? (off_t)(ppage - bt->mmu.npages) << 12 : (off_t)ppage << 12;

	if (mmap(mmu_host_page(bt, v, vpage << 12), (size_t)n << 12, prot, MAP_SHARED | MAP_FIXED,
	         fd, off) == MAP_FAILED)
		return -errno;
	if (vpage == 0 && mmap(bt->mmu.view[v] + VIEW_SIZE, 4096, prot, MAP_SHARED | MAP_FIXED, fd,
	                       off) == MAP_FAILED)
		return -errno;
	return 0;
}

#define RMAP_DEAD 0xffu /* bt_rmap.view of a pool entry on the free list */

/* Entry idx (index + 1) goes back to the free list; the caller has unlinked it. */
static void rmap_release(struct bt *bt, uint32_t idx)
{
	struct bt_rmap *r = &bt->mmu.rmap[idx - 1];

	r->view = RMAP_DEAD;
	r->next = bt->mmu.rmap_free;
	bt->mmu.rmap_free = idx;
}

static void rmap_remove(struct bt *bt, uint32_t ppage, int v, uint32_t vpage)
{
	uint32_t *link = &bt->mmu.rmap_head[ppage];

	while (*link) {
		struct bt_rmap *r = &bt->mmu.rmap[*link - 1];

		if (r->va == vpage && r->view == v) {
			uint32_t idx = *link;

			*link = r->next;
			rmap_release(bt, idx);
			return;
		}
		link = &r->next;
	}
}

static int rmap_add(struct bt *bt, uint32_t ppage, int v, uint32_t vpage)
{
	uint32_t idx;

	if (bt->mmu.rmap_free) {
		idx = bt->mmu.rmap_free;
		bt->mmu.rmap_free = bt->mmu.rmap[idx - 1].next;
	} else if (bt->mmu.rmap_used < bt->mmu.rmap_cap) {
		idx = ++bt->mmu.rmap_used;
	} else {
		return -ENOSPC;
	}
	bt->mmu.rmap[idx - 1] =
	    (struct bt_rmap){.va = vpage, .next = bt->mmu.rmap_head[ppage], .view = (uint8_t)v};
	bt->mmu.rmap_head[ppage] = idx;
	return 0;
}

/* v2p and the counters forget vpage of view v (the host mapping is the caller's). */
static void forget(struct bt *bt, int v, uint32_t vpage)
{
	uint32_t e = bt->mmu.v2p[v][vpage];

	bt->mmu.wp0_mapped -= !!(e & V2P_WP0);
	bt->mmu.global_mapped -= !!(e & V2P_G);
	bt->mmu.v2p[v][vpage] = 0;
	bt->mmu.mapped--;
	bt->mmu.as[VIEW_AS(v)].mapped--;
}

void mmu_unmap_one(struct bt *bt, int v, uint32_t vpage)
{
	uint32_t e = bt->mmu.v2p[v][vpage];

	if (!e)
		return;
	rmap_remove(bt, V2P_PAGE(e), v, vpage);
	shadow_none(bt, v, vpage);
	forget(bt, v, vpage);
}

void mmu_write_protect_one(struct bt *bt, int v, uint32_t vpage)
{
	uint32_t *e = &bt->mmu.v2p[v][vpage];

	if (!*e)
		return;
	if (*e & V2P_W)
		mmu_shadow_mprotect(bt, v, vpage << 12, PROT_READ);
	bt->mmu.wp0_mapped -= !!(*e & V2P_WP0);
	*e &= ~(V2P_W | V2P_WP0 | V2P_TW);
}

int mmu_map_run(struct bt *bt, int v, uint32_t vpage, uint32_t n, uint32_t ppage, int prot,
                uint32_t flags)
{
	uint32_t i;
	int ret;

	for (i = 0; i < n; i++) {
		uint32_t e = bt->mmu.v2p[v][vpage + i];

		if (e) { /* replaced by the mmap below: no unmap of its own */
			rmap_remove(bt, V2P_PAGE(e), v, vpage + i);
			forget(bt, v, vpage + i);
		}
	}
	if ((ret = shadow_map(bt, v, vpage, n, prot, ppage)))
		goto undo;
	if (prot & PROT_WRITE)
		flags |= V2P_W;
	for (i = 0; i < n; i++) {
		uint32_t p = ppage >= bt->mmu.npages ? bt->mmu.npages : ppage + i;

		if (rmap_add(bt, p, v, vpage + i)) {
			ret = -ENOSPC;
			goto undo_rmap;
		}
		bt->mmu.v2p[v][vpage + i] = (p + 1) | flags;
		bt->mmu.wp0_mapped += !!(flags & V2P_WP0);
		bt->mmu.global_mapped += !!(flags & V2P_G);
		bt->mmu.mapped++;
		bt->mmu.as[VIEW_AS(v)].mapped++;
	}
	return 0;
undo_rmap:
	while (i--)
		mmu_unmap_one(bt, v, vpage + i);
undo:
	for (i = 0; i < n; i++)
		shadow_none(bt, v, vpage + i);
	return ret;
}

/*
 * Drop the entries of the views in vmask (bit per flat view) whose v2p flags have
 * one of any (0: every entry) and none of keep. With nothing to keep, each view is
 * emptied by one mmap; otherwise page by page. Returns how many were dropped. The
 * cost is one pass over the rmap pool (its high-water mark), not over guest RAM.
 */
static uint32_t sweep(struct bt *bt, uint32_t vmask, uint32_t any, uint32_t keep)
{
	bool bulk = !any && !keep;
	uint32_t i, dropped = 0;
	int v;

	if (!bulk && !any) { /* keeping some: bulk anyway when there is none to keep */
		bulk = true;
		for (i = 0; i < bt->mmu.rmap_used && bulk; i++) {
			const struct bt_rmap *r = &bt->mmu.rmap[i];

			if (r->view != RMAP_DEAD && (vmask >> r->view) & 1 &&
			    (bt->mmu.v2p[r->view][r->va] & keep))
				bulk = false;
		}
	}
	if (bulk)
		for (v = 0; v < VIEW_NR; v++)
			if ((vmask >> v) & 1 && bt->mmu.as[VIEW_AS(v)].mapped)
				mmap(bt->mmu.view[v], VIEW_MAPPED, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
				     0);
	for (i = 0; i < bt->mmu.rmap_used; i++) {
		const struct bt_rmap *r = &bt->mmu.rmap[i];
		uint32_t e, va;

		if (r->view == RMAP_DEAD || !((vmask >> r->view) & 1))
			continue;
		v = r->view;
		va = r->va;
		e = bt->mmu.v2p[v][va];
		if ((any && !(e & any)) || (e & keep))
			continue;
		if (!bulk)
			shadow_none(bt, v, va);
		rmap_remove(bt, V2P_PAGE(e), v, va); /* this very entry: one per (view, page) */
		forget(bt, v, va);
		dropped++;
	}
	return dropped;
}

static uint32_t slot_mask(int s)
{
	return ((1u << VIEW_KINDS) - 1) << (s * VIEW_KINDS);
}

void mmu_slot_empty(struct bt *bt, int s)
{
	sweep(bt, slot_mask(s), 0, 0);
}

void mmu_slot_drop(struct bt *bt, int s)
{
	if (bt->mmu.as[s].mapped)
		sweep(bt, slot_mask(s), 0, V2P_G);
	bt->mmu.as[s].cr3 = BT_AS_FREE;
}

void mmu_flush(struct bt *bt)
{
	int s;

	sweep(bt, (1u << VIEW_NR) - 1, 0, 0);
	bt->mmu.rmap_used = 0;
	bt->mmu.rmap_free = 0;
	for (uint32_t p = 0; p < bt->mmu.npages; p++)
		bt->mmu.pflags[p] &=
		    (uint8_t) ~(PF_PT | PF_PT_INUSE); /* traced again when walked */
	memset(bt->mmu.ptref, 0, bt->mmu.npages * sizeof(*bt->mmu.ptref));
	for (s = 0; s < BT_AS_NR; s++)
		bt->mmu.as[s].cr3 = BT_AS_FREE;
	bt->mmu.as[bt->mmu.cur_as].cr3 = bt->cpu.cr3 & ~0xfffu;
	bt->stats.shadow_flushes++;
}

void mmu_trace_pt(struct bt *bt, uint32_t pa)
{
	uint32_t p = pa >> 12;

	if (p < bt->mmu.npages && !(bt->mmu.pflags[p] & PF_PT)) {
		bt->mmu.pflags[p] = (uint8_t)((bt->mmu.pflags[p] | PF_PT) & ~PF_PT_INUSE);
		bt->mmu.pt_hot[p] = 0;
		mmu_protect_ppage(bt, p);
	}
}

/* A CR3 load (paging on): the cached slot of the new key, or the LRU slot keyed anew. */
static void as_load(struct bt *bt)
{
	uint32_t key = bt->cpu.cr3 & ~0xfffu;
	int s, pick = -1;

	for (s = 0; s < BT_AS_NR; s++)
		if (bt->mmu.as[s].cr3 == key)
			break;
	if (s < BT_AS_NR) {
		bt->stats.as_hits++;
	} else {
		for (s = 0; s < BT_AS_NR; s++) {
			if (s == bt->mmu.cur_as)
				continue;
			if (bt->mmu.as[s].cr3 == BT_AS_FREE) {
				pick = s; /* a free slot first */
				break;
			}
			if (pick < 0 || bt->mmu.as[s].stamp < bt->mmu.as[pick].stamp)
				pick = s;
		}
		s = pick < 0 ? bt->mmu.cur_as : pick;
		bt->stats.as_misses++;
		if (bt->mmu.as[s].mapped) {
			/* Global entries may outlive a CR3 load (SDM Vol 3A 4.10.4.1). */
			sweep(bt, slot_mask(s), 0, V2P_G);
			bt->stats.as_evictions++;
		}
		bt->mmu.as[s].cr3 = key;
	}
	bt->mmu.as[s].stamp = ++bt->mmu.as_clock;
	bt->mmu.cur_as = s;
}

void mmu_reserve_pages(struct bt *bt, uint32_t n)
{
	while (bt->mmu.mapped + n > SHADOW_MAX_PAGES) {
		int s, pick = -1;

		for (s = 0; s < BT_AS_NR; s++)
			if (s != bt->mmu.cur_as && bt->mmu.as[s].mapped &&
			    (pick < 0 || bt->mmu.as[s].stamp < bt->mmu.as[pick].stamp))
				pick = s;
		if (pick < 0)
			pick = bt->mmu.cur_as; /* the current address space alone is over budget */
		sweep(bt, slot_mask(pick), 0, 0);
		if (pick != bt->mmu.cur_as)
			bt->mmu.as[pick].cr3 = BT_AS_FREE;
		bt->stats.as_evictions++;
		if (pick == bt->mmu.cur_as)
			break;
	}
}

void mmu_cr_written(struct bt *bt, int n, uint32_t old0, uint32_t old4)
{
	const struct bt_cpu *c = &bt->cpu;

	if (n == 3) {
		if (c->cr0 & X86_CR0_PG) {
			as_load(bt);
		} else {
			/* No translation in effect: every slot is empty or identity (PG 0 flushed).
			 */
			for (int s = 0; s < BT_AS_NR; s++)
				if (bt->mmu.as[s].cr3 == (c->cr3 & ~0xfffu))
					bt->mmu.as[s].cr3 = BT_AS_FREE;
			bt->mmu.as[bt->mmu.cur_as].cr3 = c->cr3 & ~0xfffu;
		}
		mmu_set_view(bt);
		return;
	}
	if (((old0 ^ c->cr0) & X86_CR0_PG) || ((old4 ^ c->cr4) & X86_CR4_PSE)) {
		mmu_flush(bt);
		return;
	}
	if ((old0 ^ c->cr0) & X86_CR0_WP) {
		uint32_t sup = 0;

		for (int s = 0; s < BT_AS_NR; s++)
			sup |= 1u << (s * VIEW_KINDS + VIEW_SUP);
		bt->stats.wp_changes++;
		/* 1 -> 0 only lets more through: the next fault maps it */
		if ((c->cr0 & X86_CR0_WP) && bt->mmu.wp0_mapped)
			sweep(bt, sup, V2P_WP0, 0);
	}
	if ((old4 ^ c->cr4) & CR4_PGE) {
		bt->stats.pge_changes++;
		if (bt->mmu.global_mapped)
			sweep(bt, (1u << VIEW_NR) - 1, V2P_G, 0);
	}
}

void mmu_unmap_va(struct bt *bt, uint32_t va)
{
	uint32_t vpage = va >> 12, r = va >> 22, p;
	int v;

	for (v = 0; v < VIEW_NR; v++)
		if (VIEW_AS(v) == bt->mmu.cur_as ||
		    (bt->mmu.global_mapped && (bt->mmu.v2p[v][vpage] & V2P_G)))
			mmu_unmap_one(bt, v, vpage);
	if (!(bt->mmu.large_global[r >> 3] & (1u << (r & 7))))
		return;
	bt->mmu.large_global[r >> 3] &= (uint8_t) ~(1u << (r & 7));
	for (p = r << 10; bt->mmu.global_mapped && p < (r + 1) << 10; p++)
		for (v = 0; v < VIEW_NR; v++)
			if (bt->mmu.v2p[v][p] & V2P_G)
				mmu_unmap_one(bt, v, p);
}

void mmu_unmap_ppage(struct bt *bt, uint32_t ppage)
{
	uint32_t i = bt->mmu.rmap_head[ppage];

	while (i) {
		struct bt_rmap *r = &bt->mmu.rmap[i - 1];
		uint32_t next = r->next;

		shadow_none(bt, r->view, r->va);
		forget(bt, r->view, r->va);
		rmap_release(bt, i);
		i = next;
	}
	bt->mmu.rmap_head[ppage] = 0;
}

void mmu_protect_ppage(struct bt *bt, uint32_t ppage)
{
	for (uint32_t i = bt->mmu.rmap_head[ppage]; i; i = bt->mmu.rmap[i - 1].next) {
		const struct bt_rmap *r = &bt->mmu.rmap[i - 1];
		uint32_t *e = &bt->mmu.v2p[r->view][r->va];

		if (!(*e & V2P_W))
			continue;
		mmu_shadow_mprotect(bt, r->view, r->va << 12, PROT_READ);
		*e = (*e & ~V2P_W) | V2P_TW; /* (V2P_WP0 stays: a CR0.WP 0->1 drops it) */
	}
}

void mmu_unprotect_ppage(struct bt *bt, uint32_t ppage)
{
	if (ppage >= bt->mmu.npages || (bt->mmu.pflags[ppage] & (PF_CODE | PF_PT)))
		return;
	for (uint32_t i = bt->mmu.rmap_head[ppage]; i; i = bt->mmu.rmap[i - 1].next) {
		const struct bt_rmap *r = &bt->mmu.rmap[i - 1];
		uint32_t *e = &bt->mmu.v2p[r->view][r->va];

		/* Other address spaces' mappings wait for a store of theirs (mmu_fill). */
		if (!(*e & V2P_TW) || VIEW_AS(r->view) != bt->mmu.cur_as)
			continue;
		mmu_shadow_mprotect(bt, r->view, r->va << 12, PROT_READ | PROT_WRITE);
		*e = (*e & ~V2P_TW) | V2P_W;
	}
}

int mmu_devpage_map(struct bt *bt, int view, uint32_t va)
{
	return shadow_map(bt, view, va >> 12, 1, PROT_READ | PROT_WRITE, bt->mmu.npages + 1);
}

void mmu_devpage_unmap(struct bt *bt, int view, uint32_t va)
{
	shadow_none(bt, view, va >> 12);
}
