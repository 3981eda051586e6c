/*
 * esx.c: attack guest for bt's retrace (src/bt/bt_shadow.c: on a new address space it
 * scans RAM's page flags eight pages at a time, one by one in a tail that is not eight
 * pages). Run with --mem 8204K (2051 pages, a tail of three): six page directories in
 * RAM's last pages (more than bt's four cached slots, so every round keys a slot anew,
 * as a fork does), all pointing VA 0x40000000 at one page table in RAM's very last page.
 * Each round loads each directory, reads the VA, rewrites the table's PTE to the other
 * data page, reloads CR3 and reads again: a table left untraced would show the old
 * page. Each line is what qemu-system-i386 prints.
 */
#include "rt.h"

#define RAM_END 0x803000u /* --mem 8204K */
#define NDIR 6
#define VA 0x40000000u

static uint32_t data_pg[2][1024] __attribute__((aligned(4096)));

static void load_cr3(uint32_t v)
{
	__asm__ volatile("movl %0, %%cr3" ::"r"(v) : "memory");
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t *pt = (uint32_t *)(RAM_END - 0x1000), old_cr3, i, r, bad = 0, sum = 0;

	(void)magic;
	(void)mbi;
	enable_paging();
	__asm__ volatile("movl %%cr3, %0" : "=r"(old_cr3));
	data_pg[0][0] = 0x1111, data_pg[1][0] = 0x2222;
	memset(pt, 0, 4096);
	pt[0] = (uint32_t)data_pg[0] | PTE_P | PTE_W;
	for (i = 0; i < NDIR; i++) {
		uint32_t *pd = (uint32_t *)(RAM_END - 0x2000 - i * 0x1000);

		memcpy(pd, rt_page_dir, 4096);
		pd[VA >> 22] = (uint32_t)pt | PTE_P | PTE_W;
	}
	for (r = 0; r < 1000; r++) {
		for (i = 0; i < NDIR; i++) {
			uint32_t pd = RAM_END - 0x2000 - i * 0x1000, want, got;

			load_cr3(pd);
			want = data_pg[(pt[0] & ~0xfffu) == (uint32_t)data_pg[1]][0];
			got = *(volatile uint32_t *)VA;
			bad += got != want;
			pt[0] = (uint32_t)data_pg[(r + i) & 1] | PTE_P | PTE_W;
			load_cr3(pd);
			got = *(volatile uint32_t *)VA;
			bad += got != data_pg[(r + i) & 1][0];
			sum += got;
		}
		load_cr3(old_cr3);
		pt[0] ^= (uint32_t)data_pg[0] ^ (uint32_t)data_pg[1];
	}
	load_cr3(old_cr3);
	printf("esx: tail tables: stale=%u sum=0x%08x\n", (unsigned)bad, (unsigned)sum);
	printf("esx: done\n");
	return EXIT_OK;
}
