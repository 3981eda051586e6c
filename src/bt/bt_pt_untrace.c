/*
 * bt_pt_untrace.c: when a traced guest page table stops being traced. A table
 * written like data (PT_HOT_FAULTS stepped stores) has its entries dropped and is
 * untraced; a table no cached address space uses any more is untraced at its first
 * store (and a cached space whose directory is written while not current is
 * dropped first). Either way it is traced again when a walk uses it (bt_shadow.c).
 */
#include "bt.h"
#include "monitor.h"

/* Trace faults on one page table (since traced) after which it is untraced. */
#define PT_HOT_FAULTS 32u
#define PTE_P 0x1u
#define PDE_PS 0x80u

void mmu_pt_traced_write(struct bt *bt, uint32_t ppage)
{
	bool pse = bt->cpu.cr4 & X86_CR4_PSE;

	if (ppage >= bt->mmu.npages || ++bt->mmu.pt_hot[ppage] < PT_HOT_FAULTS)
		return;
	for (int s = 0; s < BT_AS_NR; s++) {
		uint32_t key = bt->mmu.as[s].cr3, *pd, j, v;

		if (!bt->mmu.as[s].mapped || key == BT_AS_FREE)
			continue;
		if ((key >> 12) == ppage) {
			mmu_slot_empty(bt, s);
			continue;
		}
		if (!(pd = vm_gpa(&bt->mon->vm, key, 4096)))
			continue;
		for (j = 0; j < 1024; j++)
			if ((pd[j] & PTE_P) && !((pd[j] & PDE_PS) && pse) && (pd[j] >> 12) == ppage)
				for (v = j << 10; v < (j + 1) << 10; v++)
					for (int k = 0; k < VIEW_KINDS; k++)
						mmu_unmap_one(bt, s * VIEW_KINDS + k, v);
	}
	bt->mmu.pflags[ppage] &= (uint8_t)~PF_PT;
	mmu_unprotect_ppage(bt, ppage);
	bt->stats.pt_untraced++;
}

/*
 * Does the directory at key (a page of RAM) point to ppage as a page table that a
 * walk used? 0 no, 1 yes at the walker's hint (ptref), 2 yes found by a scan of the
 * directory. Only walks derive shadow entries and each records its directory index
 * (ptref): no index recorded, no; one index, only that entry is looked at; a scan
 * only for a table walked at several indices.
 */
static int pd_points_to(struct bt *bt, uint32_t key, uint32_t ppage)
{
	bool pse = bt->cpu.cr4 & X86_CR4_PSE;
	const uint32_t *pd = vm_gpa(&bt->mon->vm, key, 4096);
	uint32_t j;

	if (!pd || !bt->mmu.ptref[ppage])
		return 0;
	if (bt->mmu.ptref[ppage] != 0xffff) {
		j = bt->mmu.ptref[ppage] - 1u;
		return (pd[j] & PTE_P) && !((pd[j] & PDE_PS) && pse) && (pd[j] >> 12) == ppage;
	}
	for (j = 0; j < 1024; j++)
		if ((pd[j] & PTE_P) && !((pd[j] & PDE_PS) && pse) && (pd[j] >> 12) == ppage)
			return 2;
	return 0;
}

bool mmu_pt_release_unused(struct bt *bt, uint32_t ppage, bool unprotect)
{
	uint32_t cur = bt->cpu.cr3 & ~0xfffu;

	if (ppage >= bt->mmu.npages || !(bt->mmu.pflags[ppage] & PF_PT))
		return false;

	for (int s = -1; s < BT_AS_NR; s++) {
		uint32_t key = s < 0 ? cur : bt->mmu.as[s].cr3;
		int how;

		if (s >= 0 && (key == BT_AS_FREE || key == cur))
			continue;
		if ((key >> 12) == ppage)
			return false;
		if ((how = pd_points_to(bt, key, ppage))) {
			if (how == 2) /* a costly check (a shared table): adapted stores skip it */
				bt->mmu.pflags[ppage] |= PF_PT_INUSE;
			return false;
		}
	}
	bt->mmu.pflags[ppage] &= (uint8_t)~PF_PT;
	if (unprotect)
		mmu_unprotect_ppage(bt, ppage);
	bt->stats.pt_released++;
	return true;
}

bool mmu_is_directory(const struct bt *bt, uint32_t ppage)
{
	if (((bt->cpu.cr3 & ~0xfffu) >> 12) == ppage)
		return true;
	for (int s = 0; s < BT_AS_NR; s++)
		if (bt->mmu.as[s].cr3 != BT_AS_FREE && (bt->mmu.as[s].cr3 >> 12) == ppage)
			return true;
	return false;
}

/* The tables directory page key points to (4 KiB-page entries, traced RAM), at most n. */
static uint32_t tables_of(struct bt *bt, uint32_t key, uint32_t *out, uint32_t n)
{
	bool pse = bt->cpu.cr4 & X86_CR4_PSE;
	const uint32_t *pd = vm_gpa(&bt->mon->vm, key, 4096);
	uint32_t j, k = 0;

	for (j = 0; pd && j < 1024 && k < n; j++)
		if ((pd[j] & PTE_P) && !((pd[j] & PDE_PS) && pse) &&
		    (pd[j] >> 12) < bt->mmu.npages && (bt->mmu.pflags[pd[j] >> 12] & PF_PT))
			out[k++] = pd[j] >> 12;
	return k;
}

/* Tables of a dropped address space untraced at once (the rest wait for a store). */
#define DROP_UNTRACE_MAX 64u

bool mmu_pt_release(struct bt *bt, uint32_t ppage)
{
	uint32_t cur = bt->cpu.cr3 & ~0xfffu, tables[DROP_UNTRACE_MAX], nt = 0;
	int s;

	if (ppage >= bt->mmu.npages || !(bt->mmu.pflags[ppage] & PF_PT))
		return false;
	if ((cur >> 12) == ppage)
		return false;
	for (s = 0; s < BT_AS_NR; s++)
		if (s != bt->mmu.cur_as && bt->mmu.as[s].cr3 != BT_AS_FREE &&
		    (bt->mmu.as[s].cr3 >> 12) == ppage) {
			/*
			 * The directory of a space that is not current is written (a process's
			 * page directory freed and reused): drop that space rather than follow
			 * each entry; it is built again if its CR3 is loaded. Its tables no
			 * other space uses are untraced now: they were that process's, and
			 * the kernel reusing the directory is about to reuse them too.
			 */
			nt += tables_of(bt, ppage << 12, tables + nt, DROP_UNTRACE_MAX - nt);
			mmu_slot_drop(bt, s);
			bt->stats.as_dropped++;
		}
	for (uint32_t i = 0; i < nt; i++)
		if (bt->mmu.pflags[tables[i]] & PF_PT)
			mmu_pt_release_unused(bt, tables[i], true);
	return mmu_pt_release_unused(bt, ppage, true);
}
