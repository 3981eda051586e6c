/* paging.c: 2-level i386 page tables: an identity map plus map/unmap of 4 KiB and 4 MiB pages. */
#include "rt.h"

#define PT_POOL 8 /* spare page tables for mappings outside the identity map */

uint32_t rt_page_dir[1024] __attribute__((aligned(4096)));
static uint32_t ident_pt[RT_IDENT_MIB / 4][1024] __attribute__((aligned(4096)));
static uint32_t pool_pt[PT_POOL][1024] __attribute__((aligned(4096)));
static unsigned pool_used;
static int built;

static void build_identity(void)
{
	for (unsigned t = 0; t < RT_IDENT_MIB / 4; t++) {
		for (unsigned i = 0; i < 1024; i++)
			ident_pt[t][i] = (t << 22 | i << 12) | PTE_U | PTE_W | PTE_P;
		rt_page_dir[t] = (uint32_t)ident_pt[t] | PTE_U | PTE_W | PTE_P;
	}
	ident_pt[0][0] = 0; /* catch NULL dereferences */
	built = 1;
}

void enable_paging(void)
{
	if (!built)
		build_identity();
	write_cr4(read_cr4() | CR4_PSE);
	write_cr3((uint32_t)rt_page_dir);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
}

/* The page table for va, allocating one from the pool if create is set. */
static uint32_t *pt_for(uint32_t va, int create)
{
	uint32_t *pde = &rt_page_dir[va >> 22];

	if (*pde & PTE_P)
		return (*pde & PDE_PS) ? NULL : (uint32_t *)(*pde & ~0xFFFu);
	if (!create || pool_used == PT_POOL)
		return NULL;
	uint32_t *pt = pool_pt[pool_used++];
	memset(pt, 0, PAGE_SIZE);
	/* U|W at the directory level; the PTE decides. */
	*pde = (uint32_t)pt | PTE_U | PTE_W | PTE_P;
	return pt;
}

int map_page(uint32_t va, uint32_t pa, uint32_t flags)
{
	uint32_t *pt = pt_for(va, 1);

	if (!pt)
		return -1;
	pt[(va >> 12) & 0x3FF] = (pa & ~0xFFFu) | (flags & 0xFFFu) | PTE_P;
	invlpg(va);
	return 0;
}

void unmap_page(uint32_t va)
{
	uint32_t *pt = pt_for(va, 0);

	if (pt)
		pt[(va >> 12) & 0x3FF] = 0;
	invlpg(va);
}

int map_pse(uint32_t va, uint32_t pa, uint32_t flags)
{
	if ((va | pa) & (PSE_SIZE - 1))
		return -1;
	uint32_t old = rt_page_dir[va >> 22];

	rt_page_dir[va >> 22] = pa | (flags & 0xFFFu) | PDE_PS | PTE_P;
	if ((old & (PTE_P | PDE_PS)) == PTE_P)
		write_cr3(read_cr3()); /* a whole page table went away: flush the TLB */
	else
		invlpg(va);
	return 0;
}

uint32_t *pte_lookup(uint32_t va)
{
	uint32_t *pde = &rt_page_dir[va >> 22];

	if (!(*pde & PTE_P))
		return NULL;
	if (*pde & PDE_PS)
		return pde;
	uint32_t *pte = &((uint32_t *)(*pde & ~0xFFFu))[(va >> 12) & 0x3FF];
	return (*pte & PTE_P) ? pte : NULL;
}
