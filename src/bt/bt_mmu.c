/*
 * bt_mmu.c: guest virtual memory for the translator: the walk of the guest's
 * 2-level tables (4 KiB and 4 MiB PSE pages, U/S, R/W, CR0.WP, A/D, G), the
 * shadow fill on a host fault (one memfd page mmapped at view + va, read-only
 * until the guest may write it and has set its D bit, and always while translated
 * code comes from it; present, accessed neighbours in the same go), the traced
 * page-table writes that keep every cached address space exact, and the copies
 * to and from guest memory the callouts use. The views themselves: bt_shadow.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bt.h"
#include "bus.h"
#include "log.h"
#include "monitor.h"

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u
#define PTE_A 0x20u
#define PTE_D 0x40u
#define PTE_G 0x100u
#define PDE_PS 0x80u
/*
 * A 4 MiB PDE's bits 21:13: reserved with 32-bit physical addresses (the models have
 * no PSE-36, SDM Vol 3A 4.3 and Table 4-4); one set is a #PF with RSVD, not a page.
 */
#define PDE_PS_RSVD 0x003fe000u
#define PF_RSVD 0x8u
#define CR4_PGE 0x80u
/* A fill maps the present, accessed pages of its aligned group of this many. */
#define FILL_GROUP 16u

static uint32_t *ram32(struct bt *bt, uint32_t pa)
{
	return vm_gpa(&bt->mon->vm, pa, 4);
}

static int pf(struct bt *bt, uint32_t va, int acc, bool user, bool present)
{
	bt->cpu.exc = (struct bt_exc){.vector = EXC_PF,
	                              .has_err = true,
	                              .cr2 = va,
	                              .err = (present ? 1u : 0u) | (acc == ACC_WRITE ? 2u : 0u) |
	                                     (user ? 4u : 0u)};
	return -1;
}

/* What a walk found, beyond the physical address: how the shadow may map it. */
struct walk {
	uint32_t pa;
	bool can_write; /* mapped writable: D set and the access rules allow writes */
	bool wp0;       /* writable only because CR0.WP is 0 (supervisor) */
	bool global;    /* G with CR4.PGE */
	bool pse;       /* a 4 MiB page (no page table) */
	uint32_t pt;    /* the page table's physical address (4 KiB pages) */
	bool pde_w, pde_u;
};

static int walk(struct bt *bt, uint32_t va, int acc, bool user, struct walk *w)
{
	const struct bt_cpu *c = &bt->cpu;
	bool wp = c->cr0 & X86_CR0_WP, w_ok, u_ok;
	uint32_t *pde, *pte, e, set;

	*w = (struct walk){.pa = va, .can_write = true};
	if (!(c->cr0 & X86_CR0_PG))
		return 0;
	pde = ram32(bt, (c->cr3 & ~0xfffu) + (va >> 22) * 4);
	if (!pde || !(*pde & PTE_P))
		return pf(bt, va, acc, user, false);
	mmu_trace_pt(bt, c->cr3);
	set = PTE_A | (acc == ACC_WRITE ? PTE_D : 0);
	if ((*pde & PDE_PS) && (c->cr4 & X86_CR4_PSE)) {
		e = *pde;
		if (e & PDE_PS_RSVD) {
			pf(bt, va, acc, user, true);
			bt->cpu.exc.err |= PF_RSVD;
			return -1;
		}
		pte = pde;
		w->pa = (e & 0xffc00000u) | (va & 0x3fffffu);
		w->pse = true;
		w_ok = e & PTE_W;
		u_ok = e & PTE_U;
	} else {
		pte = ram32(bt, (*pde & ~0xfffu) + ((va >> 12) & 0x3ff) * 4);
		if (!pte || !(*pte & PTE_P))
			return pf(bt, va, acc, user, false);
		mmu_trace_pt(bt, *pde);
		{
			/* Remember which directory entry uses this table: its writes map back in
			 * O(1). */
			uint32_t pt = *pde >> 12;
			uint16_t ref = (uint16_t)((va >> 22) + 1);

			if (pt < bt->mmu.npages && bt->mmu.ptref[pt] != ref)
				bt->mmu.ptref[pt] = bt->mmu.ptref[pt] ? 0xffff : ref;
		}
		e = *pte;
		w->pa = (e & ~0xfffu) | (va & 0xfffu);
		w->pt = *pde & ~0xfffu;
		w->pde_w = *pde & PTE_W;
		w->pde_u = *pde & PTE_U;
		w_ok = (*pde & PTE_W) && (e & PTE_W);
		u_ok = (*pde & PTE_U) && (e & PTE_U);
		if (!user || u_ok)
			*pde |= PTE_A;
	}
	if (user && !u_ok)
		return pf(bt, va, acc, user, true);
	if (acc == ACC_WRITE && !w_ok && (user || wp))
		return pf(bt, va, acc, user, true);
	*pte |= set;
	w->can_write = (*pte & PTE_D) && (w_ok || (!user && !wp));
	w->wp0 = w->can_write && !w_ok;
	w->global = (c->cr4 & CR4_PGE) && (e & PTE_G);
	return 0;
}

int mmu_translate(struct bt *bt, uint32_t va, int acc, bool user, uint32_t *pa, bool *can_write)
{
	struct walk w;

	if (walk(bt, va, acc, user, &w))
		return -1;
	*pa = w.pa;
	if (can_write)
		*can_write = w.can_write;
	return 0;
}

bool mmu_code_pages_hold(struct bt *bt)
{
	const struct bt_as *as = &bt->mmu.as[bt->mmu.cur_as];
	uint32_t i, f;

	if (as->jc_pages > JC_AS_PAGES)
		return false;
	for (i = 0; i < as->jc_pages; i++)
		if (!mmu_peek_fetch(bt, as->jc_page[i] << 12, as->jc_page[i] >> 31, &f) ||
		    f != as->jc_frame[i])
			return false;
	return true;
}

bool mmu_peek_fetch(struct bt *bt, uint32_t va, bool user, uint32_t *frame)
{
	const struct bt_cpu *c = &bt->cpu;
	const uint32_t *pde, *pte;

	*frame = va >> 12;
	if (!(c->cr0 & X86_CR0_PG))
		return true;
	pde = ram32(bt, (c->cr3 & ~0xfffu) + (va >> 22) * 4);
	if (!pde || (*pde & (PTE_P | PTE_A)) != (PTE_P | PTE_A) || (user && !(*pde & PTE_U)))
		return false;
	if ((*pde & PDE_PS) && (c->cr4 & X86_CR4_PSE)) {
		*frame = ((*pde & 0xffc00000u) | (va & 0x3ff000u)) >> 12;
		return !(*pde & PDE_PS_RSVD);
	}
	pte = ram32(bt, (*pde & ~0xfffu) + ((va >> 12) & 0x3ff) * 4);
	if (!pte || (*pte & (PTE_P | PTE_A)) != (PTE_P | PTE_A) || (user && !(*pte & PTE_U)))
		return false;
	*frame = *pte >> 12;
	return true;
}

bool mmu_peek_global(struct bt *bt, uint32_t va)
{
	const struct bt_cpu *c = &bt->cpu;
	const uint32_t *pde, *pte;

	if (!(c->cr0 & X86_CR0_PG) || !(c->cr4 & CR4_PGE))
		return false;
	pde = ram32(bt, (c->cr3 & ~0xfffu) + (va >> 22) * 4);
	if (!pde || !(*pde & PTE_P))
		return false;
	if ((*pde & PDE_PS) && (c->cr4 & X86_CR4_PSE))
		return *pde & PTE_G;
	pte = ram32(bt, (*pde & ~0xfffu) + ((va >> 12) & 0x3ff) * 4);
	return pte && (*pte & (PTE_P | PTE_G)) == (PTE_P | PTE_G);
}

bool mmu_large_page(struct bt *bt, uint32_t va)
{
	const struct bt_cpu *c = &bt->cpu;
	const uint32_t *pde;

	if (!(c->cr0 & X86_CR0_PG) || !(c->cr4 & X86_CR4_PSE))
		return false;
	pde = ram32(bt, (c->cr3 & ~0xfffu) + (va >> 22) * 4);
	return pde && (*pde & (PTE_P | PDE_PS)) == (PTE_P | PDE_PS);
}

/* A run of neighbours: consecutive pages on consecutive frames, one protection: one mmap. */
struct fill_run {
	uint32_t v, p, n, f;
	int prot;
};

/* Page i (frame p, prot, V2P flags f) joins the run, or (!ok) ends it; a run it cannot join is
 * mapped first. */
static void run_add(struct bt *bt, int view, struct fill_run *r, bool ok, uint32_t i, uint32_t p,
                    int prot, uint32_t f)
{
	if (r->n && (!ok || p != r->p + r->n || prot != r->prot || f != r->f)) {
		if (mmu_map_run(bt, view, r->v, r->n, r->p, r->prot, r->f) == 0)
			bt->stats.neighbour_pages += r->n;
		r->n = 0;
	}
	if (!ok)
		return;
	if (!r->n)
		*r = (struct fill_run){.v = i, .p = p, .f = f, .prot = prot};
	r->n++;
}

/*
 * Map the pages of vpage's aligned group whose PTEs (in the same table) are present
 * with A set, no page the guest has not accessed (so no A/D bit changes), writable
 * only with D set; runs of consecutive frames are one mmap each.
 */
static void fill_neighbours(struct bt *bt, int view, uint32_t vpage, const struct walk *w)
{
	const uint32_t *pt = vm_gpa(&bt->mon->vm, w->pt, 4096);
	bool user = VIEW_KIND(view) == VIEW_USER, wp = bt->cpu.cr0 & X86_CR0_WP;
	bool pge = bt->cpu.cr4 & CR4_PGE;
	uint32_t g0 = vpage & ~(FILL_GROUP - 1), i;
	struct fill_run run = {0};

	if (!pt)
		return;
	for (i = g0; i <= g0 + FILL_GROUP; i++) {
		uint32_t e = i < g0 + FILL_GROUP ? pt[i & 0x3ff] : 0, p = e >> 12, f = 0;
		int prot = PROT_READ;
		bool ok = i < g0 + FILL_GROUP && i != vpage && i != 0 && !bt->mmu.v2p[view][i] &&
		          (e & (PTE_P | PTE_A)) == (PTE_P | PTE_A) && p < bt->mmu.npages &&
		          (!user || (w->pde_u && (e & PTE_U)));

		if (ok) {
			bool w_ok = w->pde_w && (e & PTE_W);

			if ((e & PTE_D) && (w_ok || (!user && !wp))) {
				/* read-only while traced, writable again when not (V2P_TW) */
				if (bt->mmu.pflags[p] & (PF_CODE | PF_PT))
					f |= V2P_TW;
				else
					prot |= PROT_WRITE;
				f |= w_ok ? 0 : V2P_WP0;
			}
			f |= pge && (e & PTE_G) ? V2P_G : 0;
		}
		run_add(bt, view, &run, ok, i, p, prot, f);
	}
}

/*
 * The same for a 4 MiB page (PSE): the other pages of vpage's aligned group of 16 lie
 * in the same large page, translated by the same PDE, whose A bit this walk set and
 * whose D bit is the faulting page's: mapping them changes nothing the guest sees.
 * Their frames are consecutive, so each run between pages that are traced (then
 * read-only), already mapped or not RAM is one mmap.
 */
static void fill_large_neighbours(struct bt *bt, int view, uint32_t vpage, const struct walk *w)
{
	uint32_t g0 = vpage & ~(FILL_GROUP - 1), f0 = (w->pa >> 12) - vpage, i;
	uint32_t flags = (w->global ? V2P_G : 0) | (w->can_write && w->wp0 ? V2P_WP0 : 0);
	struct fill_run run = {0};

	for (i = g0; i <= g0 + FILL_GROUP; i++) {
		uint32_t p = f0 + i, f = flags;
		int prot = PROT_READ;
		bool ok = i < g0 + FILL_GROUP && i != vpage && i != 0 && !bt->mmu.v2p[view][i] &&
		          p < bt->mmu.npages;

		if (ok && w->can_write) {
			if (bt->mmu.pflags[p] & (PF_CODE | PF_PT))
				f |= V2P_TW;
			else
				prot |= PROT_WRITE;
		}
		run_add(bt, view, &run, ok, i, p, prot, f);
	}
}

int mmu_fill(struct bt *bt, int view, uint32_t va, bool write, uint32_t *pa_out)
{
	uint32_t ppage, vpage = va >> 12, flags, pa;
	struct walk w;
	int prot, ret;

	if (walk(bt, va, write ? ACC_WRITE : ACC_READ, VIEW_KIND(view) == VIEW_USER, &w))
		return -1;
	*pa_out = pa = w.pa;
	if (w.pse && w.global) /* (invlpg anywhere in it drops it all: mmu_unmap_va) */
		bt->mmu.large_global[va >> 25] |= (uint8_t)(1u << ((va >> 22) & 7));
	if (pa >= bt->mon->vm.ram_size) {
		if (bus_claims(&bt->mon->mmio, pa & ~0xfffu, 4096))
			return 1;
		ppage = bt->mmu.npages; /* open bus: the page of ones, never writable */
		w.can_write = false;
	} else {
		ppage = pa >> 12;
	}
	if (ppage < bt->mmu.npages && write && (bt->mmu.pflags[ppage] & PF_CODE)) {
		/* A write to a page with translated code: its blocks go, then it is plain RAM. */
		bt->stats.trace_faults++;
		tc_invalidate_page(bt, ppage);
	}
	/* A store to a page table no cached address space uses: untraced, no step. */
	if (ppage < bt->mmu.npages && write && w.can_write && (bt->mmu.pflags[ppage] & PF_PT))
		mmu_pt_release(bt, ppage);
	prot = PROT_READ;
	if (w.can_write && !(bt->mmu.pflags[ppage] & (PF_CODE | PF_PT)))
		prot |= PROT_WRITE;
	flags = (w.global ? V2P_G : 0) | (w.can_write && w.wp0 ? V2P_WP0 : 0) |
	        (w.can_write && !(prot & PROT_WRITE) && ppage < bt->mmu.npages ? V2P_TW : 0);
	/*
	 * Already mapped so: a store to a traced page table or open bus (stepped next).
	 * A read fault there, or the same page twice without a step between, would
	 * mean the host mapping is not what v2p says: map it again rather than loop.
	 */
	if ((prot & PROT_WRITE) && bt->mmu.v2p[view][vpage] == ((ppage + 1) | flags | V2P_TW)) {
		/* read-only for a trace that is over (mmu_unprotect_ppage left it to us) */
		mmu_shadow_mprotect(bt, view, va, PROT_READ | PROT_WRITE);
		bt->mmu.v2p[view][vpage] = (ppage + 1) | flags | V2P_W;
	} else if (write &&
	           bt->mmu.v2p[view][vpage] ==
	               ((ppage + 1) | flags | ((prot & PROT_WRITE) ? V2P_W : 0)) &&
	           bt->mmu.fill_saved != ((uint64_t)vpage << 8 | (unsigned)view) + 1) {
		bt->stats.remaps_saved++;
		bt->mmu.fill_saved = ((uint64_t)vpage << 8 | (unsigned)view) + 1;
	} else {
		bt->mmu.fill_saved = 0;
		mmu_reserve_pages(bt, 1 + FILL_GROUP);
		if ((ret = mmu_map_run(bt, view, vpage, 1, ppage, prot, flags))) {
			log_err("bt: cannot map guest page 0x%x: %s", ppage << 12, strerror(-ret));
			return -1;
		}
		if (ppage < bt->mmu.npages && (bt->cpu.cr0 & X86_CR0_PG)) {
			if (w.pse)
				fill_large_neighbours(bt, view, vpage, &w);
			else
				fill_neighbours(bt, view, vpage, &w);
		}
	}
	bt->stats.hidden_faults++;
	if (ppage == bt->mmu.npages)
		return write ? 3 : 0;
	return (write && w.can_write && (bt->mmu.pflags[ppage] & PF_PT)) ? 2 : 0;
}

/* Drop guest page vpage from both views of slot s (write_only: only make it read-only). */
static void unmap_in(struct bt *bt, int s, uint32_t vpage, bool write_only)
{
	for (int k = 0; k < VIEW_KINDS; k++) {
		if (write_only)
			mmu_write_protect_one(bt, s * VIEW_KINDS + k, vpage);
		else
			mmu_unmap_one(bt, s * VIEW_KINDS + k, vpage);
	}
}

/*
 * Entry e of ppage changed, for slot s (directory key): drop what it translated there
 * (write_only: a page-table entry that still maps the same frame, only no longer
 * writably: make those mappings read-only instead; a directory entry always drops).
 */
static void entry_changed_in(struct bt *bt, int s, uint32_t key, uint32_t ppage, uint32_t e,
                             bool write_only)
{
	uint32_t *pd = vm_gpa(&bt->mon->vm, key, 4096), j, v;

	if ((key >> 12) == ppage) /* a directory entry: its 4 MiB go, mapped pages only */
		for (int k = 0; k < VIEW_KINDS; k++) {
			const uint32_t *m = bt->mmu.v2p[s * VIEW_KINDS + k];

			for (v = e << 10; v < (e + 1) << 10 && bt->mmu.as[s].mapped; v++)
				if (m[v])
					mmu_unmap_one(bt, s * VIEW_KINDS + k, v);
		}
	/*
	 * Shadow entries come from walks, and every walk through a table records the
	 * directory index it used (ptref): none recorded, no entry derives from ppage as
	 * a table; one index, only that directory entry can have given any. A scan only
	 * for a table seen at several indices.
	 */
	if (!pd || !bt->mmu.ptref[ppage])
		return;
	if (bt->mmu.ptref[ppage] != 0xffff) {
		j = bt->mmu.ptref[ppage] - 1u;
		if ((pd[j] & PTE_P) && (pd[j] >> 12) == ppage)
			unmap_in(bt, s, (j << 10) | e, write_only);
		return;
	}
	for (j = 0; j < 1024; j++)
		if ((pd[j] & PTE_P) && !(pd[j] & PDE_PS && bt->cpu.cr4 & X86_CR4_PSE) &&
		    (pd[j] >> 12) == ppage)
			unmap_in(bt, s, (j << 10) | e, write_only);
}

/* mmu_pt_entry_changed, or with write_only the read-only downgrade (entry_changed_in). */
static void entry_changed(struct bt *bt, uint32_t ppage, uint32_t e, bool write_only)
{
	/*
	 * A table may serve several cached address spaces (a kernel's shared tables, a
	 * directory page reused): each one's directory says which of its pages it was.
	 */
	for (int s = 0; s < BT_AS_NR; s++)
		if (bt->mmu.as[s].mapped && bt->mmu.as[s].cr3 != BT_AS_FREE)
			entry_changed_in(bt, s, bt->mmu.as[s].cr3, ppage, e, write_only);
		else if (bt->mmu.as[s].mapped && s == bt->mmu.cur_as)
			entry_changed_in(bt, s, bt->cpu.cr3 & ~0xfffu, ppage, e, write_only);
}

void mmu_pt_entry_changed(struct bt *bt, uint32_t ppage, uint32_t e)
{
	entry_changed(bt, ppage, e, false);
}

void mmu_pt_entry_was(struct bt *bt, uint32_t ppage, uint32_t e, uint32_t old)
{
	uint32_t now = ((const uint32_t *)(bt->mon->vm.ram + ((size_t)ppage << 12)))[e];

	if (!(old & PTE_P))
		return;
	/*
	 * Only W, D or A changed, still present (a fork write-protecting its parent for
	 * copy-on-write, a writeback cleaning D): as a page-table entry, the same frame is
	 * still mapped, so its mappings stay, read-only unless the store still allows
	 * writes with D set (a shadow never maps writable what the fill would not). Not
	 * when A is cleared (page aging): the next access after a CR3 load must set it
	 * again (SDM Vol 3A 4.8, 4.10.4.1), and a mapping kept would hide that access.
	 */
	if ((now & PTE_P) && !((old ^ now) & ~(PTE_W | PTE_A | PTE_D)) && !(old & ~now & PTE_A)) {
		if ((now & (PTE_W | PTE_D)) != (PTE_W | PTE_D))
			entry_changed(bt, ppage, e, true);
		return;
	}
	entry_changed(bt, ppage, e, false);
	/*
	 * A directory entry that pointed to a table no longer does: if no cached
	 * address space uses that table any more (a process freeing its tables at
	 * exit), it is untraced now, not at the kernel's first store when it reuses it.
	 */
	if (!(old & PDE_PS && bt->cpu.cr4 & X86_CR4_PSE) && (now ^ old) >> 12 &&
	    (old >> 12) < bt->mmu.npages && (bt->mmu.pflags[old >> 12] & PF_PT) &&
	    mmu_is_directory(bt, ppage))
		mmu_pt_release_unused(bt, old >> 12, false);
}

void mmu_pt_write_begin(struct bt *bt, int view, uint32_t va, uint32_t pa)
{
	bt->mmu.pt_write.active = true;
	bt->mmu.pt_write.view = view;
	bt->mmu.pt_write.va = va;
	bt->mmu.pt_write.ppage = pa >> 12;
	memcpy(bt->mmu.pt_write.before, bt->mon->vm.ram + (pa & ~0xfffu), 4096);
	mmu_shadow_mprotect(bt, view, va, PROT_READ | PROT_WRITE);
	bt->stats.trace_faults++;
	bt->stats.pt_traces++;
}

void mmu_pt_write_end(struct bt *bt)
{
	const uint32_t *now =
	    (const uint32_t *)(bt->mon->vm.ram + ((size_t)bt->mmu.pt_write.ppage << 12));
	uint32_t e;

	bt->mmu.pt_write.active = false;
	bt->mmu.fill_saved = 0;
	if (bt->mmu.v2p[bt->mmu.pt_write.view]
	               [bt->mmu.pt_write.va >> 12]) /* (not dropped meanwhile) */
		mmu_shadow_mprotect(bt, bt->mmu.pt_write.view, bt->mmu.pt_write.va, PROT_READ);
	for (e = 0; e < 1024; e++)
		if (now[e] != bt->mmu.pt_write.before[e])
			mmu_pt_entry_was(bt, bt->mmu.pt_write.ppage, e, bt->mmu.pt_write.before[e]);
	mmu_pt_traced_write(bt, bt->mmu.pt_write.ppage);
}

void mmu_openbus_write_begin(struct bt *bt, int view, uint32_t va)
{
	/* Faulting again on a second page before the step ends: the store straddles two
	 * open-bus pages, and both stay writable for it (ending the first would loop). */
	if (bt->mmu.openbus_write.active && bt->mmu.openbus_write.n == 2)
		mmu_openbus_write_end(bt);
	if (!bt->mmu.openbus_write.active)
		bt->mmu.openbus_write.n = 0;
	bt->mmu.openbus_write.active = true;
	bt->mmu.openbus_write.view[bt->mmu.openbus_write.n] = view;
	bt->mmu.openbus_write.va[bt->mmu.openbus_write.n++] = va;
	mmu_shadow_mprotect(bt, view, va, PROT_READ | PROT_WRITE);
	bt->stats.openbus_writes++;
}

void mmu_openbus_write_end(struct bt *bt)
{
	bt->mmu.openbus_write.active = false;
	bt->mmu.fill_saved = 0;
	for (int i = 0; i < bt->mmu.openbus_write.n; i++)
		if (bt->mmu.v2p[bt->mmu.openbus_write.view[i]][bt->mmu.openbus_write.va[i] >> 12])
			mmu_shadow_mprotect(bt, bt->mmu.openbus_write.view[i],
			                    bt->mmu.openbus_write.va[i], PROT_READ);
	bt->mmu.openbus_write.n = 0;
	memset(bt->mmu.openbus, 0xff, 4096); /* the write is dropped */
}

/*
 * Descriptors, gates and exception frames are a few bytes: a plain loop beats
 * the compiler's inline rep movs, whose start-up cost dominated system calls.
 */
static void copy_small(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	if (n > 32) {
		memcpy(dst, src, n);
		return;
	}
	while (n >= 4) {
		uint32_t w;

		__builtin_memcpy(&w, src, 4);
		__builtin_memcpy(dst, &w, 4);
		dst += 4, src += 4, n -= 4;
	}
	while (n--)
		*dst++ = *src++;
}

/* Copy between guest virtual memory and buf, page by page; writes invalidate code. */
static int mmu_copy(struct bt *bt, uint32_t va, void *buf, uint32_t len, bool user, bool write)
{
	uint8_t *b = buf;

	while (len) {
		uint32_t pa, n = 4096 - (va & 0xfff);
		uint8_t *host;

		if (n > len)
			n = len;
		/* A page the shadow maps (writable, for a write) needs no walk: A/D are set. */
		uint32_t ent =
		    bt->mmu
		        .v2p[bt->mmu.cur_as * VIEW_KINDS + (user ? VIEW_USER : VIEW_SUP)][va >> 12];

		if (ent && (!write || (ent & V2P_W)))
			pa = (V2P_PAGE(ent) << 12) | (va & 0xfff);
		else if (mmu_translate(bt, va, write ? ACC_WRITE : ACC_READ, user, &pa, NULL))
			return -1;
		host = vm_gpa(&bt->mon->vm, pa, n);
		if (!host) {
			if (!write)
				memset(b, 0xff, n);
		} else if (write) {
			uint32_t p = pa >> 12, e;

			if (bt->mmu.pflags[p] & PF_CODE)
				tc_invalidate_page(bt, p);
			copy_small(host, b, n);
			if (bt->mmu.pflags[p] & PF_PT)
				for (e = (pa & 0xfff) / 4; e <= ((pa & 0xfff) + n - 1) / 4; e++)
					mmu_pt_entry_changed(bt, p, e);
		} else {
			copy_small(b, host, n);
		}
		va += n;
		b += n;
		len -= n;
	}
	return 0;
}

int mmu_read(struct bt *bt, uint32_t va, void *buf, uint32_t len, bool user)
{
	return mmu_copy(bt, va, buf, len, user, false);
}

int mmu_write(struct bt *bt, uint32_t va, const void *buf, uint32_t len, bool user)
{
	return mmu_copy(bt, va, (void *)buf, len, user, true);
}
