/*
 * fsx.c: attack guest for FS/GS bases added at run time by bt: a segment load inside a
 * chained loop, string instructions with fs:/gs: overrides and wrapping bases, fs:
 * stores to a live page table (adapted and redirected), push/pop/call through fs:.
 * Each line is what qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_W 0x50000000u

static uint8_t pg[4][4096] __attribute__((aligned(4096)));
static uint8_t dst[4096] __attribute__((aligned(4096)));
static uint64_t gdt2[16] __attribute__((aligned(16)));

static uint64_t seg_desc(uint32_t base)
{
	uint64_t d = 0xffffu | ((uint64_t)(base & 0xffffffu) << 16);

	d |= (uint64_t)0x92 << 40;
	d |= (uint64_t)0xf << 48;
	d |= (uint64_t)0xc << 52;
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t spage[4096] __attribute__((aligned(4096)));
static volatile uint32_t f_vec, f_err, f_cr2;
volatile uint32_t recover_eip;
static volatile uint32_t u_out[4];

static void on_fault(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_err = tf->err;
	f_cr2 = tf->vector == 14 ? read_cr2() : 0;
	if (!recover_eip) {
		printf("fsx: unexpected trap %u at 0x%08x\n", (unsigned)tf->vector,
		       (unsigned)tf->eip);
		guest_exit(EXIT_FAIL);
	}
	tf->eip = recover_eip;
	recover_eip = 0;
}

#define VA_S 0x51000000u /* supervisor-only */

static int user_fn(void)
{
	uint32_t v = 0x5a5a5a5a;

	__asm__ volatile("movw %w0, %%fs" ::"r"(0x6b));
	/* fs base 0x80000000: the supervisor page through fs, then past 4 GiB onto a user page */
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "movl %%fs:(%1), %0\n"
	                 "1:"
	                 : "+r"(v)
	                 : "r"(VA_S + 0x80000000u + 8)
	                 : "memory");
	u_out[0] = v;
	v = 0;
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "movl $0x77, %%fs:(%0)\n"
	                 "1:" ::"r"(VA_S + 0x80000000u + 12)
	                 : "memory");
	/* bt through fs onto the supervisor page (a RMW bts gives err=7 under bt, 5 under qemu: W
	 * for a RMW, not fs-specific) from a user page's address */
	v = 8 * 0x1000;
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "btl %0, %%fs:(%1)\n"
	                 "1:" ::"r"(v),
	                 "r"(VA_S - 0x1000 + 0x80000000u)
	                 : "memory", "cc");
	u_out[1] = 1;
	return 0;
}

static uint32_t fn_target(uint32_t x)
{
	return x * 3 + 1;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	struct dtr old, d;
	uint32_t v, sum = 0, i;

	(void)magic;
	(void)mbi;
	enable_paging();
	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	for (i = 0; i < 4; i++) {
		memset(pg[i], (int)(0x10 * (i + 1)), 4096);
		/* bases that wrap: base + (pg[i] - base) mod 2^32 */
		gdt2[8 + i] = seg_desc(0x100000000ull - 0x1000 * (i + 1) - 0x7000000);
	}
	gdt2[12] = seg_desc(0xffffffffu);
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));

	/* 1: a segment load inside a loop: each iteration a different FS base */
	for (i = 0; i < 200; i++) {
		uint32_t sel = 0x40 + 8 * (i & 3),
		         base = (uint32_t)(0x100000000ull - 0x1000 * ((i & 3) + 1) - 0x7000000);
		__asm__ volatile("movw %w1, %%fs\n\t"
		                 "movzbl %%fs:(%2), %0"
		                 : "=r"(v)
		                 : "r"(sel), "r"((uint32_t)pg[i & 3] - base + 5)
		                 : "memory");
		sum += v * (i + 1);
		__asm__ volatile("movw %w1, %%gs\n\t"
		                 "movzbl %%gs:(%2), %0"
		                 : "=r"(v)
		                 : "r"(sel), "r"((uint32_t)pg[(i + 1) & 3] - base + 7)
		                 : "memory");
		sum += v;
	}
	printf("fsx: seg loop sum=0x%08x\n", (unsigned)sum);

	/* 2: rep movsb fs:esi -> es:edi, base 0xffffffff (esi = addr + 1 wraps) */
	__asm__ volatile("movw %w0, %%fs" ::"r"(0x60));
	memset(dst, 0, 64);
	{
		uint32_t s = (uint32_t)pg[2] + 1, dd = (uint32_t)dst, c = 40;
		__asm__ volatile("cld\n\trep movsb %%fs:(%%esi), %%es:(%%edi)"
		                 : "+S"(s), "+D"(dd), "+c"(c)::"memory");
		printf("fsx: rep movs fs: esi=0x%08x edi-dst=%u dst[0]=0x%08x dst[36]=0x%08x\n",
		       (unsigned)s, (unsigned)(dd - (uint32_t)dst), (unsigned)*(uint32_t *)dst,
		       (unsigned)*(uint32_t *)(dst + 36));
		s = (uint32_t)pg[3] + 1;
		v = 0;
		__asm__ volatile("lodsl %%fs:(%%esi), %%eax" : "+S"(s), "+a"(v)::"memory");
		printf("fsx: lods fs: 0x%08x\n", (unsigned)v);
		/* cmps with fs: */
		s = (uint32_t)pg[0] + 1;
		dd = (uint32_t)pg[0];
		c = 16;
		__asm__ volatile("repe cmpsb %%es:(%%edi), %%fs:(%%esi)"
		                 : "+S"(s), "+D"(dd), "+c"(c)::"memory", "cc");
		printf("fsx: repe cmps fs: ecx=%u\n", (unsigned)c);
	}

	/* 3: push/pop/call through fs: (base 0xffffffff) */
	{
		uint32_t w = 0x11112222, r = 0, p = (uint32_t)&w + 1, q = (uint32_t)&r + 1;
		uint32_t fp = (uint32_t)fn_target, fpp = (uint32_t)&fp + 1;
		__asm__ volatile("pushl %%fs:(%0)\n\tpopl %%fs:(%1)" ::"r"(p), "r"(q) : "memory");
		printf("fsx: push/pop fs: 0x%08x\n", (unsigned)r);
		__asm__ volatile("pushl $7\n\tcall *%%fs:(%1)\n\taddl $4, %%esp"
		                 : "=a"(v)
		                 : "r"(fpp)
		                 : "memory", "ecx", "edx");
		printf("fsx: call fs: %u\n", (unsigned)v);
	}

	/* 4: fs: stores to a live page table entry, 60 times (trace faults, then adapted) */
	map_page(VA_W, (uint32_t)pg[0], PTE_W);
	{
		uint32_t *pte = pte_lookup(VA_W);
		uint32_t pa = (uint32_t)pte + 1, bad = 0;

		for (i = 0; i < 60; i++) {
			uint32_t e = (uint32_t)pg[i & 3] | PTE_P | PTE_W;
			__asm__ volatile("movl %0, %%fs:(%1)" ::"r"(e), "r"(pa) : "memory");
			__asm__ volatile("invlpg (%0)" ::"r"(VA_W) : "memory");
			if (*(volatile uint8_t *)(VA_W + 9) != 0x10 * ((i & 3) + 1))
				bad++;
			/* bts through fs: on the PTE: set bit 9 (avail) then clear with btr */
			v = 9;
			__asm__ volatile("btsl %0, %%fs:(%1)\n\tbtrl %0, %%fs:(%1)" ::"r"(v),
			                 "r"(pa)
			                 : "memory", "cc");
		}
		printf("fsx: fs pte stores: bad=%u pte&0xfff=0x%03x\n", (unsigned)bad,
		       (unsigned)(*pte & 0xfff & ~0x60u));
		/* a large bit offset through fs: onto the PTE page: bit (4*8*1 + 1) of pte+4 */
		v = 8 * 4 * 1024 * 1024u; /* +4 MiB in bytes from pa: far away RAM */
		__asm__ volatile("btl %0, %%fs:(%1)" ::"r"(v), "r"(pa) : "memory", "cc");
	}
	__asm__ volatile("movw %w0, %%fs\n\tmovw %w0, %%gs" ::"r"(SEL_KDATA));
	/* 5: ring 3 through fs: onto a supervisor-only page */
	gdt2[13] = seg_desc(0x80000000u) | (uint64_t)0x60 << 40; /* DPL 3 */
	map_page(VA_S, (uint32_t)spage, PTE_W);
	map_page(VA_S - 0x1000, (uint32_t)spage, PTE_W | PTE_U);
	spage[8] = 0x31;
	for (i = 14; i <= 14; i++)
		trap_set_handler(i, on_fault);
	trap_set_handler(13, on_fault);
	f_vec = 0xff;
	enter_user(user_fn, user_stack + sizeof(user_stack), 0);
	printf("fsx: ring3 fs: v=0x%08x last fault %u err=%u cr2=0x%08x spage[12]=0x%02x "
	       "spage[0]=0x%02x\n",
	       (unsigned)u_out[0], (unsigned)f_vec, (unsigned)f_err, (unsigned)f_cr2,
	       (unsigned)spage[12], (unsigned)spage[0]);
	printf("fsx: done\n");
	return EXIT_OK;
}
