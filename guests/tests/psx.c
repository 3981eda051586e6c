/*
 * psx.c: attack guest for code in a 4 MiB page (CR4.PSE) remapped by a PDE store, then
 * invlpg of another 4 KiB page inside the same 4 MiB page. INVLPG invalidates the
 * TLB entry for the page containing its operand (SDM Vol 2 INVLPG; Vol 3 4.10.4.1: for
 * a large page, that is the whole 4 MiB entry), so both the code and a data read
 * through the old mapping must show the new frame; qemu-system-i386 flushes large
 * pages so too. Then the PDE back to the first frame, and the same invlpg. Each line
 * is what qemu-system-i386 prints. (qemu 7.2 drops its jump cache for the invlpg'd page
 * and the one before only, so an invlpg further into the 4 MiB page leaves it running
 * the old code: a QEMU deviation, not tested here; bt invalidates for any page of it.)
 */
#include "rt.h"

#define VA 0x80000000u
#define PA1 0x00800000u
#define PA2 0x00c00000u

/* mov eax, v; ret at pa + 0x100 */
static void put_code(uint32_t pa, uint32_t v)
{
	uint8_t *p = (uint8_t *)(pa + 0x100);

	p[0] = 0xb8;
	memcpy(p + 1, &v, 4);
	p[5] = 0xc3;
	*(volatile uint32_t *)(pa + 0x2000) = v ^ 0xffffffffu; /* data, in the 3rd 4 KiB page */
}

static uint32_t run(void)
{
	return ((uint32_t(*)(void))(VA + 0x100))();
}

static void report(const char *what)
{
	printf("psx: %s: code=0x%08x data=0x%08x\n", what, (unsigned)run(),
	       (unsigned)*(volatile uint32_t *)(VA + 0x2000));
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t s = 0;
	int i;

	(void)magic;
	(void)mbi;
	enable_paging();
	put_code(PA1, 0x11111111u);
	put_code(PA2, 0x22222222u);
	if (map_pse(VA, PA1, PTE_W)) {
		printf("psx: map_pse failed\n");
		return EXIT_FAIL;
	}
	for (i = 0; i < 100; i++)
		s += run() + *(volatile uint32_t *)(VA + 0x2000);
	report("before");
	*pte_lookup(VA) = PA2 | PDE_PS | PTE_W | PTE_P;
	invlpg(VA + 0x1000); /* not the page the code or the data is in */
	report("remapped, invlpg of another 4 KiB page in it");
	for (i = 0; i < 100; i++)
		s += run() + *(volatile uint32_t *)(VA + 0x2000);
	*pte_lookup(VA) = PA1 | PDE_PS | PTE_W | PTE_P;
	invlpg(VA + 0x1000);
	report("back, the same invlpg");
	printf("psx: done (0x%08x)\n", (unsigned)s);
	return EXIT_OK;
}
