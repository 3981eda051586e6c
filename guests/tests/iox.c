/*
 * iox.c: attack guest for ins/outs dispatched in a bt callout: a rep insb from the
 * fw_cfg data port (each read advances it) into a buffer whose second page is not
 * present; the #PF handler maps it and the instruction restarts. i386 (and
 * qemu-system-i386, which stores a dummy element before each port read to stay
 * restartable) consumes no port data past the faulting element.
 */
#include "rt.h"

#define VA_B 0x70000000u

static uint8_t p1[4096] __attribute__((aligned(4096)));
static uint8_t p2[4096] __attribute__((aligned(4096)));
static uint8_t code[4096] __attribute__((aligned(4096)));
static uint8_t fa[4096] __attribute__((aligned(4096)));
static volatile uint32_t nfault, fcr2, ferr, pf3;

static void on_pf(struct trapframe *tf)
{
	uint32_t a = read_cr2();

	ferr = tf->err;
	if (a == VA_B + 0x3001) {
		pf3++;
		map_page(VA_B + 0x3000, (uint32_t)fa, PTE_W);
		return;
	}
	nfault++;
	fcr2 = a;
	map_page(VA_B + 0x1000, (uint32_t)p2, PTE_W);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t d, c;

	(void)magic;
	(void)mbi;
	enable_paging();
	map_page(VA_B, (uint32_t)p1, PTE_W);
	unmap_page(VA_B + 0x1000);
	trap_set_handler(14, on_pf);
	outw(0x510, 0x0000); /* the signature, "QEMU" */
	d = VA_B + 0xffe;
	c = 4;
	__asm__ volatile("cld\n\trep insb" : "+D"(d), "+c"(c) : "d"(0x511) : "memory");
	printf("iox: rep insb across a missing page: %c%c%c%c faults=%u cr2=0x%08x err=%u "
	       "edi-start=%u\n",
	       p1[0xffe], p1[0xfff], p2[0] ? p2[0] : '.', p2[1] ? p2[1] : '.', (unsigned)nfault,
	       (unsigned)fcr2, (unsigned)ferr, (unsigned)(d - (VA_B + 0xffe)));
	/* outs with an fs: override (source), a plain DS */
	p1[0] = 'o';
	p1[1] = 'k';
	p1[2] = '\n';
	d = VA_B;
	c = 3;
	__asm__ volatile("rep outsb %%fs:(%%esi), (%%dx)"
	                 : "+S"(d), "+c"(c)
	                 : "d"(0x3f8)
	                 : "memory");
	/* ins writes code (SMC through the callout), and the flags byte of a live PTE */
	{
		uint32_t (*fn)(void) = (uint32_t(*)(void))(void *)code, v0, v1;
		uint32_t *pte;
		int j, bad = 0;

		code[0] = 0xb8;
		code[1] = 0x11;
		code[2] = code[3] = code[4] = 0;
		code[5] = 0xc3;
		v0 = fn();
		outw(0x510, 0x0000);
		d = (uint32_t)code + 1;
		c = 4;
		__asm__ volatile("rep insb" : "+D"(d), "+c"(c) : "d"(0x511) : "memory");
		v1 = fn();
		printf("iox: ins into code: before 0x%08x after 0x%08x\n", (unsigned)v0,
		       (unsigned)v1);
		for (j = 0; j < 12; j++) {
			map_page(VA_B + 0x3000, (uint32_t)fa, PTE_W);
			*(volatile uint8_t *)(VA_B + 0x3000) =
			    (uint8_t)j; /* writable in the shadow */
			pte = pte_lookup(VA_B + 0x3000);
			outw(0x510, 0x0000);
			d = (uint32_t)pte;
			__asm__ volatile("insb"
			                 : "+D"(d)
			                 : "d"(0x511)
			                 : "memory"); /* 'Q': P, no W */
			__asm__ volatile("movl %%cr3, %%eax\n\tmovl %%eax, %%cr3" ::
			                     : "eax", "memory");
			pf3 = 0;
			*(volatile uint8_t *)(VA_B + 0x3001) = 0x77;
			if (pf3 != 1 || fa[1] != 0x77)
				bad++;
		}
		printf("iox: ins makes a live pte read-only: bad=%d err=%u\n", bad, (unsigned)ferr);
	}
	printf("iox: done\n");
	return EXIT_OK;
}
