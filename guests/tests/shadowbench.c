/* shadowbench.c: what address-space work costs a guest kernel, in rdtsc cycles (a
 * benchmark, printed, never asserted): a CR0.WP toggle around a supervisor write to a
 * read-only page, and a switch between two page directories that each touch 64 pages
 * of their own (a context switch's shadow work), with 4 MiB of the identity map in use.
 * Then 32,768 aliased pages read twice (more than bt's shadow budget: eviction), every
 * value checked: a wrong sum is a failing exit, the one thing asserted. */
#include "rt.h"

#define PAGES 64u
#define ROUNDS 200u
#define VA_RO 0x40000000u
#define VA_WS 0x48000000u

#define BUDGET_VA 0x60000000u
#define BUDGET_PTS 32u /* 32 tables: 32,768 pages, more than bt's shadow budget */
#define BUDGET_FRAMES 64u
#define BUDGET_PA 0x00C00000u

static uint32_t pd2[1024] __attribute__((aligned(4096)));
static uint32_t budget_pt[BUDGET_PTS][1024] __attribute__((aligned(4096)));
static uint32_t pt2[1024] __attribute__((aligned(4096)));

static uint32_t touch(uint32_t base, uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < n; i++)
		sum += *(volatile uint32_t *)(base + i * PAGE_SIZE);
	return sum;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t cr0, pd1, sum = 0, bad = 0;
	uint64_t t;

	(void)magic, (void)mbi;
	enable_paging();
	cr0 = read_cr0();
	if (map_page(VA_RO, 0x00900000u, 0)) /* read-only, supervisor */
		return EXIT_FAIL;
	for (uint32_t i = 0; i < PAGES; i++)
		if (map_page(VA_WS + i * PAGE_SIZE, 0x00A00000u + i * PAGE_SIZE, PTE_W))
			return EXIT_FAIL;
	sum += touch(0x00400000u, 1024); /* a populated shadow, as a running kernel has */

	t = rdtsc();
	for (uint32_t r = 0; r < ROUNDS; r++) {
		write_cr0(cr0 & ~CR0_WP);
		*(volatile uint32_t *)VA_RO = r;
		write_cr0(cr0);
		sum += touch(0x00400000u, 16);
	}
	printf("shadowbench: wp_toggle %u cycles (WP 1->0, a write, 0->1, 16 reads)\n",
	       (uint32_t)((rdtsc() - t) / ROUNDS));

	pd1 = read_cr3();
	memcpy(pd2, (void *)pd1, PAGE_SIZE);
	memcpy(pt2, (void *)(((uint32_t *)pd1)[VA_WS >> 22] & ~0xFFFu), PAGE_SIZE);
	for (uint32_t i = 0; i < PAGES; i++) /* the same VAs, other frames */
		pt2[((VA_WS >> 12) & 0x3FF) + i] = (0x00B00000u + i * PAGE_SIZE) | PTE_P | PTE_W;
	pd2[VA_WS >> 22] = (uint32_t)pt2 | PTE_P | PTE_W;
	t = rdtsc();
	for (uint32_t r = 0; r < ROUNDS; r++) {
		write_cr3((uint32_t)pd2);
		sum += touch(VA_WS, PAGES);
		write_cr3(pd1);
		sum += touch(VA_WS, PAGES);
	}
	printf("shadowbench: cr3_switch %u cycles (per switch, then %u pages read)\n",
	       (uint32_t)((rdtsc() - t) / (2 * ROUNDS)), PAGES);

	/* More pages than the shadow budget: aliases of 64 frames; every read must be right. */
	for (uint32_t f = 0; f < BUDGET_FRAMES; f++)
		*(volatile uint32_t *)(BUDGET_PA + f * PAGE_SIZE) = f;
	for (uint32_t n = 0; n < BUDGET_PTS; n++) {
		for (uint32_t i = 0; i < 1024; i++)
			budget_pt[n][i] =
			    (BUDGET_PA + ((n * 1024 + i) % BUDGET_FRAMES) * PAGE_SIZE) | PTE_P;
		((uint32_t *)pd1)[(BUDGET_VA >> 22) + n] = (uint32_t)budget_pt[n] | PTE_P;
	}
	write_cr3(pd1);
	t = rdtsc();
	for (uint32_t pass = 0; pass < 2; pass++) {
		uint32_t got = 0, want = BUDGET_PTS * 1024 / BUDGET_FRAMES * (BUDGET_FRAMES - 1) *
		                         BUDGET_FRAMES / 2;

		for (uint32_t i = 0; i < BUDGET_PTS * 1024; i++)
			got += *(volatile uint32_t *)(BUDGET_VA + i * PAGE_SIZE);
		bad |= got != want;
		printf("shadowbench: budget pass %u %s (sum %u, want %u)\n", pass,
		       got == want ? "ok" : "WRONG", got, want);
		write_cr3((uint32_t)pd2);
		sum += touch(VA_WS, PAGES);
		write_cr3(pd1);
	}
	printf("shadowbench: budget %u cycles per page (32,768 pages, twice)\n",
	       (uint32_t)((rdtsc() - t) / (2 * BUDGET_PTS * 1024)));
	printf("shadowbench: done (%u)\n", sum & 1);
	return bad ? EXIT_FAIL : EXIT_OK;
}
