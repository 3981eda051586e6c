/*
 * vm.c: minios memory: the frame allocator, per-process page directories, the eager
 * fork copy, and the page-fault handler (demand-zero heap and stack; the image's data
 * pages copied from the pristine image on first touch).
 *
 * Every address space maps the kernel the same way: 0..4 MiB through a per-process
 * copy of one low page table (kernel text and rodata U read-only, shared with ring 3;
 * kernel data supervisor; the image's user data range private per process), 4..64 MiB
 * identity with 4 MiB pages (the frames), and physical 0..4 MiB again at KALIAS_LOW
 * (the pristine image). Kernel mappings are global when the CPU has PGE (SDM 4.10.2.4),
 * so they survive CR3 loads.
 */
#include "minios.h"

#define PTE_G 0x100u
#define CPUID_PSE (1u << 3)
#define CPUID_PGE (1u << 13)
#define CR4_PGE 0x80u
#define PAGE_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

extern char __user_data_start[], __user_data_end[];

static uint32_t low_template[1024] __attribute__((aligned(4096)));
static uint32_t boot_pd[1024] __attribute__((aligned(4096)));
/* The free frames as a stack of frame numbers (not a list threaded through the frames:
 * building that would touch every frame of RAM at boot). */
static uint16_t free_stack[RAM_MAP_END >> 12];
static uint32_t nfree;
int have_pge;

uint32_t frame_alloc(void)
{
	return nfree ? (uint32_t)free_stack[--nfree] << 12 : 0;
}

static uint32_t frame_zalloc(void)
{
	uint32_t pa = frame_alloc();

	if (pa)
		memset((void *)pa, 0, PAGE_SIZE);
	return pa;
}

void frame_free(uint32_t pa)
{
	free_stack[nfree++] = (uint16_t)(pa >> 12);
}

uint32_t frames_free(void)
{
	return nfree;
}

static int in_image_data(uint32_t va)
{
	return va >= (uint32_t)__user_data_start && va < (uint32_t)__user_data_end;
}

int vm_init(uint32_t mem_bytes)
{
	uint32_t feat = cpu_features(), g, end = mem_bytes < RAM_MAP_END ? mem_bytes : RAM_MAP_END;

	if (!(feat & CPUID_PSE))
		return -1;
	have_pge = !!(feat & CPUID_PGE);
	g = have_pge ? PTE_G : 0;
	for (uint32_t pa = end - PAGE_SIZE; pa >= FRAME_BASE; pa -= PAGE_SIZE)
		frame_free(pa); /* pushed top down: handed out bottom up */
	for (uint32_t i = 1; i < 1024; i++) {
		uint32_t va = i << 12;

		if (in_image_data(va))
			low_template[i] = 0; /* per process, on demand */
		else if (va >= 0x100000u && va < (uint32_t)__user_data_start)
			low_template[i] =
			    va | PTE_U | PTE_P | g; /* text, rodata: shared with ring 3 */
		else
			low_template[i] = va | PTE_W | PTE_P | g;
	}
	boot_pd[0] = (uint32_t)low_template | PTE_U | PTE_W | PTE_P;
	for (uint32_t pa = FRAME_BASE; pa < RAM_MAP_END; pa += PSE_SIZE)
		boot_pd[pa >> 22] = pa | PDE_PS | PTE_W | PTE_P | g;
	boot_pd[KALIAS_LOW >> 22] = PDE_PS | PTE_W | PTE_P | g;
	write_cr4(read_cr4() | CR4_PSE | (have_pge ? CR4_PGE : 0));
	write_cr3((uint32_t)boot_pd);
	write_cr0(read_cr0() | CR0_PG | CR0_WP);
	return 0;
}

uint32_t *vm_new(void)
{
	uint32_t *pd = (uint32_t *)frame_zalloc(), *low;

	if (!pd)
		return NULL;
	low = (uint32_t *)frame_alloc();
	if (!low) {
		frame_free((uint32_t)pd);
		return NULL;
	}
	memcpy(low, low_template, PAGE_SIZE);
	for (unsigned i = 1; i < 1024; i++)
		pd[i] = boot_pd[i];
	pd[0] = (uint32_t)low | PTE_U | PTE_W | PTE_P;
	return pd;
}

/* The PTE for va in pd (a page table allocated when create), NULL if none. */
static uint32_t *pte_get(uint32_t *pd, uint32_t va, int create)
{
	uint32_t *pde = &pd[va >> 22], pt;

	if (!(*pde & PTE_P)) {
		if (!create || !(pt = frame_zalloc()))
			return NULL;
		*pde = pt | PTE_U | PTE_W | PTE_P;
	}
	if (*pde & PDE_PS)
		return NULL;
	return &((uint32_t *)(*pde & ~0xFFFu))[(va >> 12) & 0x3FF];
}

/* Is PDE index i one that holds user pages (the low table's data range, heap, stack)? */
static int user_pde(unsigned i)
{
	return i == 0 || (i >= (HEAP_BASE >> 22) && i <= ((STACK_TOP - 1) >> 22));
}

/* Is the PTE at index j of the page table under PDE i a user page? */
static int user_pte(unsigned i, unsigned j)
{
	return i != 0 || in_image_data(j << 12);
}

int vm_copy(uint32_t *dst, const uint32_t *src)
{
	for (unsigned i = 0; i < 1024; i++) {
		if (!user_pde(i) || !(src[i] & PTE_P))
			continue;
		const uint32_t *spt = (const uint32_t *)(src[i] & ~0xFFFu);

		for (unsigned j = 0; j < 1024; j++) {
			if (!(spt[j] & PTE_P) || !user_pte(i, j))
				continue;
			uint32_t va = i << 22 | j << 12, f = frame_alloc(),
			         *pte = pte_get(dst, va, 1);

			if (!f || !pte) {
				if (f)
					frame_free(f);
				return -1;
			}
			memcpy((void *)f, (const void *)(spt[j] & ~0xFFFu), PAGE_SIZE);
			*pte = f | PTE_U | PTE_W | PTE_P;
		}
	}
	return 0;
}

void vm_free_user(uint32_t *pd)
{
	for (unsigned i = 0; i < 1024; i++) {
		if (!user_pde(i) || !(pd[i] & PTE_P))
			continue;
		uint32_t *pt = (uint32_t *)(pd[i] & ~0xFFFu);

		for (unsigned j = 0; j < 1024; j++)
			if ((pt[j] & PTE_P) && user_pte(i, j)) {
				frame_free(pt[j] & ~0xFFFu);
				pt[j] = 0;
			}
		if (i != 0) {
			pd[i] = 0;
			frame_free((uint32_t)pt);
		}
	}
}

void vm_free_pd(uint32_t *pd)
{
	frame_free(pd[0] & ~0xFFFu);
	frame_free((uint32_t)pd);
}

void vm_unmap_range(uint32_t lo, uint32_t hi)
{
	for (uint32_t va = PAGE_UP(lo); va < hi; va += PAGE_SIZE) {
		uint32_t *pte = pte_get(cur->pd, va, 0);

		if (pte && (*pte & PTE_P)) {
			frame_free(*pte & ~0xFFFu);
			*pte = 0;
			invlpg(va);
		}
	}
}

/* Map a fresh frame at va in the current address space: zeroed, or the image's page. */
static int demand_map(uint32_t va)
{
	uint32_t *pte = pte_get(cur->pd, va, 1), f = frame_alloc();

	if (!pte || !f) {
		if (f)
			frame_free(f);
		return -1;
	}
	if (in_image_data(va))
		memcpy((void *)f, (const void *)(KALIAS_LOW + va), PAGE_SIZE);
	else
		memset((void *)f, 0, PAGE_SIZE);
	*pte = f | PTE_U | PTE_W | PTE_P;
	return 0;
}

void vm_fault(struct trapframe *tf)
{
	uint32_t cr2 = read_cr2(), va = cr2 & ~0xFFFu;

	if (!cur) {
		printf("minios: FAIL page fault before the first process, cr2=0x%08x\n", cr2);
		guest_exit(EXIT_TRAP);
	}
	int demand = in_image_data(va) || (va >= HEAP_BASE && va < PAGE_UP(cur->brk)) ||
	             (va >= STACK_TOP - STACK_MAX && va < STACK_TOP);

	if (!(tf->err & 1) && demand && !demand_map(va))
		return;
	printf("minios: pid %d killed: page fault at eip=0x%08x cr2=0x%08x err=0x%x%s\n", cur->pid,
	       tf->eip, cr2, tf->err, demand ? " (out of memory)" : "");
	proc_exit(-1);
}

int user_range(uint32_t va, uint32_t len, int writable)
{
	uint32_t end = va + len;

	if (end < va)
		return 0;
	if (va >= (uint32_t)__user_data_start && end <= (uint32_t)__user_data_end)
		return 1;
	if (va >= HEAP_BASE && end <= cur->brk)
		return 1;
	if (va >= STACK_TOP - STACK_MAX && end <= STACK_TOP)
		return 1;
	return !writable && va >= 0x100000u && end <= (uint32_t)__user_data_start;
}
