/*
 * asx.c: attack guest for translations reused across CR3 loads (keyed by physical
 * page) and for shadows cached per address space. Two directories map VA_C to
 * different code frames; a direct call to VA_C in a loop across CR3 loads; code
 * rewritten through an alias in the other space; a PTE remapped under a chained call;
 * a frame that was data in one cached space becomes a page table of the other.
 * Each line is what qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_C 0x60000000u
#define VA_W 0x60400000u /* alias of code frame A in D2 */
#define VA_D 0x60800000u /* data, D1: frame F writable */
#define VA_T 0x60c00000u /* D2: its table is frame F */

static uint32_t d1[1024] __attribute__((aligned(4096)));
static uint32_t d2[1024] __attribute__((aligned(4096)));
static uint32_t t1[1024] __attribute__((aligned(4096)));
static uint32_t t2[1024] __attribute__((aligned(4096)));
static uint8_t codeA[4096] __attribute__((aligned(4096)));
static uint8_t codeB[4096] __attribute__((aligned(4096)));
static uint8_t codeC[4096] __attribute__((aligned(4096)));
static uint32_t F[1024] __attribute__((aligned(4096)));
static uint8_t G1[4096] __attribute__((aligned(4096)));
static uint8_t G2[4096] __attribute__((aligned(4096)));
static uint32_t tT[1024] __attribute__((aligned(4096)));
static uint32_t d3[1024] __attribute__((aligned(4096)));

static void put_code(uint8_t *p, uint32_t v)
{
	p[0] = 0xb8;
	memcpy(p + 1, &v, 4);
	p[5] = 0xc3;
}

static uint32_t __attribute__((noinline)) call_c(void)
{
	uint32_t v;

	__asm__ volatile("call 0x60000000" : "=a"(v)::"memory", "ecx", "edx");
	return v;
}

static void load_cr3(uint32_t *d)
{
	__asm__ volatile("movl %0, %%cr3" ::"r"((uint32_t)d) : "memory");
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t sum = 0, i, v, bad = 0;

	(void)magic;
	(void)mbi;
	enable_paging();
	memcpy(d1, rt_page_dir, 4096);
	memcpy(d2, rt_page_dir, 4096);
	d1[VA_C >> 22] = (uint32_t)t1 | PTE_P | PTE_W;
	d2[VA_C >> 22] = (uint32_t)t2 | PTE_P | PTE_W;
	put_code(codeA, 0xaaaa);
	put_code(codeB, 0xbbbb);
	put_code(codeC, 0xcccc);
	t1[0] = (uint32_t)codeA | PTE_P | PTE_W;
	t2[0] = (uint32_t)codeB | PTE_P | PTE_W;
	/* D2: alias of codeA at VA_W */
	d2[VA_W >> 22] = (uint32_t)t2 | PTE_P | PTE_W; /* same table: VA_W -> t2[0] too */
	/* simpler: a separate entry in t2 for VA_W's index within table: use t2[1] */
	d2[VA_W >> 22] = 0;
	t2[1] = (uint32_t)codeA | PTE_P | PTE_W; /* VA_C + 0x1000 in D2 = codeA alias */

	/* 1: direct call across CR3 loads */
	for (i = 0; i < 40; i++) {
		load_cr3(i & 1 ? d2 : d1);
		v = call_c();
		if (v != (i & 1 ? 0xbbbbu : 0xaaaau))
			bad++;
		sum += v;
	}
	printf("asx: call across cr3: sum=0x%08x bad=%u\n", (unsigned)sum, (unsigned)bad);

	/* 2: rewrite codeA through D2's alias, then run it in D1 */
	bad = 0;
	for (i = 0; i < 20; i++) {
		load_cr3(d1);
		v = call_c();
		if (v != 0xaaaau + (i ? i - 1 : 0))
			bad++;
		load_cr3(d2);
		put_code((uint8_t *)(VA_C + 0x1000), 0xaaaa + i);
	}
	load_cr3(d1);
	printf("asx: smc via alias: last=0x%08x bad=%u\n", (unsigned)call_c(), (unsigned)bad);

	/* 3: remap VA_C under the chained call, in D1 */
	bad = 0;
	for (i = 0; i < 20; i++) {
		t1[0] = (uint32_t)(i & 1 ? codeC : codeA) | PTE_P | PTE_W;
		__asm__ volatile("invlpg (%0)" ::"r"(VA_C) : "memory");
		v = call_c();
		if (v != (i & 1 ? 0xccccu : 0xaaaau + 19))
			bad++;
	}
	printf("asx: remap under chain: bad=%u\n", (unsigned)bad);
	/* 3b: remap without invlpg but with a CR3 reload (a flush) */
	bad = 0;
	for (i = 0; i < 20; i++) {
		t1[0] = (uint32_t)(i & 1 ? codeA : codeC) | PTE_P | PTE_W;
		load_cr3(d1);
		v = call_c();
		if (v != (i & 1 ? 0xaaaau + 19 : 0xccccu))
			bad++;
	}
	printf("asx: remap + cr3 reload: bad=%u\n", (unsigned)bad);

	/* 4: F is data, writable, in D1 (cached); then F becomes D2's table; then D1 writes F */
	t1[(VA_D >> 12) & 1023] = 0;
	d1[VA_D >> 22] = (uint32_t)t1 | PTE_P | PTE_W; /* VA_D shares t1 (index 0x800>>.. ) */
	/* VA_D = 0x60800000: PDE 0x182, use table t1 too: t1 index 0 is VA_C, so map index 0 of
	 * a PDE that points at a second table: reuse codeC's neighbour? keep it simple: */
	d1[VA_D >> 22] = 0;
	t1[2] = (uint32_t)F | PTE_P | PTE_W; /* VA_C + 0x2000 in D1 -> F, writable */
	memset(G1, 0x61, 4096);
	memset(G2, 0x62, 4096);
	memset(F, 0, 4096);
	load_cr3(d1);
	*(volatile uint32_t *)(VA_C + 0x2000) = 0; /* D1's shadow: F writable */
	load_cr3(d2);
	F[0] = (uint32_t)G1 | PTE_P | PTE_W; /* F as a table for VA_T in D2 */
	d2[VA_T >> 22] = (uint32_t)F | PTE_P | PTE_W;
	v = *(volatile uint8_t *)VA_T;
	printf("asx: D2 VA_T -> G1: 0x%02x\n", (unsigned)v);
	load_cr3(d1);
	*(volatile uint32_t *)(VA_C + 0x2000) = (uint32_t)G2 | PTE_P | PTE_W; /* D1 rewrites F */
	load_cr3(d2);
	v = *(volatile uint8_t *)VA_T;
	printf("asx: D2 VA_T after D1 wrote F -> G2: 0x%02x\n", (unsigned)v);
	/* and D2 writes through VA_T: must land in G2 */
	*(volatile uint8_t *)(VA_T + 1) = 0x77;
	printf("asx: G1[1]=0x%02x G2[1]=0x%02x\n", (unsigned)G1[1], (unsigned)G2[1]);
	/* 5: F released as a table in D2 (PDE cleared), written as data in D1, then a table again
	 */
	d2[VA_T >> 22] = 0;
	load_cr3(d1);
	for (i = 0; i < 40; i++)
		((volatile uint32_t *)(VA_C + 0x2000))[i] = 0;
	((volatile uint32_t *)(VA_C + 0x2000))[0] = (uint32_t)G1 | PTE_P | PTE_W;
	load_cr3(d2);
	d2[VA_T >> 22] = (uint32_t)F | PTE_P | PTE_W;
	v = *(volatile uint8_t *)(VA_T + 1);
	load_cr3(d1);
	((volatile uint32_t *)(VA_C + 0x2000))[0] = (uint32_t)G2 | PTE_P | PTE_W;
	load_cr3(d2);
	printf("asx: reuse: G1 via VA_T 0x%02x, now 0x%02x\n", (unsigned)v,
	       (unsigned)*(volatile uint8_t *)(VA_T + 1));
	/* 6: T is D1's table through two PDEs; one is cleared; D2 rewrites T through an alias */
	{
		const uint32_t k1 = 0x190, k2 = 0x191;

		memset(tT, 0, 4096);
		memset(G1, 0x61, 4096);
		memset(G2, 0x62, 4096);
		tT[0] = (uint32_t)G1 | PTE_P | PTE_W;
		d1[k1] = (uint32_t)tT | PTE_P | PTE_W;
		d1[k2] = (uint32_t)tT | PTE_P | PTE_W;
		t2[3] = (uint32_t)tT | PTE_P | PTE_W; /* D2: VA_C + 0x3000 -> T */
		load_cr3(d1);
		v = *(volatile uint8_t *)(k1 << 22);
		v += *(volatile uint8_t *)(k2 << 22);
		*(volatile uint8_t *)((k2 << 22) + 2) = 0x99; /* writable in D1's shadow */
		d1[k1] = 0;
		__asm__ volatile("invlpg (%0)" ::"r"(k1 << 22) : "memory");
		load_cr3(d2);
		((volatile uint32_t *)(VA_C + 0x3000))[0] = (uint32_t)G2 | PTE_P | PTE_W;
		load_cr3(d1);
		*(volatile uint8_t *)((k2 << 22) + 3) = 0x55;
		printf("asx: two pdes: v=0x%02x read=0x%02x G1[3]=0x%02x G2[3]=0x%02x\n",
		       (unsigned)v, (unsigned)*(volatile uint8_t *)(k2 << 22), (unsigned)G1[3],
		       (unsigned)G2[3]);
	}
	/* 7: T shared by D1 and D3 (different PDE indices); 5 other spaces cycle; D3 edits */
	{
		const uint32_t k3 = 0x1a0;

		memcpy(d3, rt_page_dir, 4096);
		tT[0] = (uint32_t)G1 | PTE_P | PTE_W;
		d3[k3] = (uint32_t)tT | PTE_P | PTE_W;
		d3[VA_C >> 22] = (uint32_t)t2 | PTE_P | PTE_W;
		load_cr3(d1);
		*(volatile uint8_t *)((0x191u << 22) + 4) = 0x44;
		load_cr3(d3);
		*(volatile uint8_t *)((k3 << 22) + 5) = 0x45;
		/* D3 rewrites T (its own table, D1 cached and not current) */
		((volatile uint32_t *)(VA_C + 0x3000))[0] = (uint32_t)G2 | PTE_P | PTE_W;
		load_cr3(d1);
		*(volatile uint8_t *)((0x191u << 22) + 6) = 0x46;
		printf("asx: shared T: G1[4..6]=%02x%02x%02x G2[4..6]=%02x%02x%02x\n", G1[4], G1[5],
		       G1[6], G2[4], G2[5], G2[6]);
	}
	load_cr3(rt_page_dir);
	printf("asx: done\n");
	return EXIT_OK;
}
