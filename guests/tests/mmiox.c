/*
 * mmiox.c: attack guest for bt's MMIO completed in the SIGSEGV handler and for
 * FS-based accesses with bases that wrap at 4 GiB. A dword mov that straddles a
 * RAM page and the local APIC page (both orders, load and store), then fs:
 * accesses whose base + offset wrap, to RAM and to the APIC. Each line is what
 * qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_A 0x40000000u /* RAM, then the APIC at VA_A + 4 KiB, then RAM again */

static uint8_t ram1[4096] __attribute__((aligned(4096)));
static uint8_t ram2[4096] __attribute__((aligned(4096)));
static uint64_t gdt2[16] __attribute__((aligned(16)));

static uint64_t seg_desc(uint32_t base, uint32_t limit)
{
	uint64_t d = (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16);

	d |= (uint64_t)0x92 << 40; /* present, ring 0, data rw */
	d |= (uint64_t)((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)0xc << 52; /* G, D */
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

static void set_fs(uint32_t base)
{
	struct dtr d;

	gdt2[8] = seg_desc(base, 0xfffff);
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	__asm__ volatile("movw %w0, %%fs" ::"r"(0x40) : "memory");
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	struct dtr old;
	uint32_t v;

	(void)magic;
	(void)mbi;
	enable_paging();
	map_page(VA_A, (uint32_t)ram1, PTE_W);
	map_page(VA_A + 0x1000, 0xfee00000u, PTE_W);
	map_page(VA_A + 0x2000, (uint32_t)ram2, PTE_W);
	memset(ram1, 0x11, sizeof(ram1));
	memset(ram2, 0x22, sizeof(ram2));

	/* the APIC version through the alias (no straddle) */
	v = *(volatile uint32_t *)(VA_A + 0x1030);
	printf("mmiox: apic version via alias 0x%08x\n", (unsigned)v);

	/* a byte load into AH from the APIC version register, and push/pop through it */
	v = 0x12345678;
	__asm__ volatile("movb (%1), %%ah" : "+a"(v) : "r"(VA_A + 0x1030) : "memory");
	printf("mmiox: ah load 0x%08x\n", (unsigned)v);
	/* store straddling RAM (2 bytes) then APIC (2 bytes) */
	__asm__ volatile("movl %0, (%1)" ::"r"(0xa1b2c3d4u), "r"(VA_A + 0xffe) : "memory");
	printf("mmiox: store ram|apic: ram1[ffc]=0x%08x\n", (unsigned)*(uint32_t *)(ram1 + 0xffc));
	/* store straddling APIC then RAM */
	__asm__ volatile("movl %0, (%1)" ::"r"(0xa1b2c3d4u), "r"(VA_A + 0x1ffe) : "memory");
	printf("mmiox: store apic|ram: ram2[0]=0x%08x\n", (unsigned)*(uint32_t *)ram2);
	/* loads, both orders */
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(VA_A + 0xffe) : "memory");
	printf("mmiox: load ram|apic 0x%08x\n", (unsigned)v);
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(VA_A + 0x1ffe) : "memory");
	printf("mmiox: load apic|ram 0x%08x\n", (unsigned)v);

	/* fs: with a base that wraps */
	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	set_fs(0x80000000u);
	ram1[0x10] = 0x5a;
	__asm__ volatile("movzbl %%fs:(%1), %0"
	                 : "=r"(v)
	                 : "r"((uint32_t)ram1 + 0x10 + 0x80000000u));
	printf("mmiox: fs wrap load 0x%08x\n", (unsigned)v);
	__asm__ volatile("movl %0, %%fs:(%1)" ::"r"(0x01020304u), "r"(VA_A + 0x20 + 0x80000000u)
	                 : "memory");
	printf("mmiox: fs wrap store ram1[20]=0x%08x\n", (unsigned)*(uint32_t *)(ram1 + 0x20));
	__asm__ volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(VA_A + 0x1030 + 0x80000000u));
	printf("mmiox: fs wrap apic version 0x%08x\n", (unsigned)v);
	/* fs straddle at 4 GiB: base 0xffffffff, offset VA_A+0xfff -> VA_A+0xffe, ram|apic */
	set_fs(0xffffffffu);
	memset(ram1 + 0xff0, 0x33, 16);
	__asm__ volatile("movl %0, %%fs:(%1)" ::"r"(0x55667788u), "r"(VA_A + 0xfff) : "memory");
	printf("mmiox: fs store ram|apic: ram1[ffc]=0x%08x\n",
	       (unsigned)*(uint32_t *)(ram1 + 0xffc));
	/* bit test through fs with a large bit offset */
	set_fs(0x80000000u);
	memset(ram2, 0, 64);
	v = 8 * 0x40;
	__asm__ volatile("btsl %0, %%fs:(%1)" ::"r"(v), "r"(VA_A + 0x2000 + 0x80000000u)
	                 : "memory", "cc");
	printf("mmiox: fs bts ram2[40]=0x%08x\n", (unsigned)*(uint32_t *)(ram2 + 0x40));
	v = 0xfffffff8u; /* -8 bits: the byte before */
	ram1[0xfff] = 0;
	__asm__ volatile("btsl %0, %%fs:(%1)" ::"r"(v), "r"(VA_A + 0x2000 + 0x80000000u)
	                 : "memory", "cc");
	printf("mmiox: fs bts neg ram1[ffc]=0x%08x\n", (unsigned)*(uint32_t *)(ram1 + 0xffc));
	set_fs(0);
	__asm__ volatile("movw %w0, %%fs" ::"r"(SEL_KDATA));
	/* the same straddling store 40 times (adapted after some faults), then add/xchg */
	for (int i = 0; i < 40; i++) {
		memset(ram1 + 0xff0, 0x44, 16);
		__asm__ volatile("movl %0, (%1)" ::"r"(0xa1b2c3d4u + i), "r"(VA_A + 0xffe)
		                 : "memory");
	}
	printf("mmiox: store x40 ram|apic: ram1[ffc]=0x%08x\n",
	       (unsigned)*(uint32_t *)(ram1 + 0xffc));
	memset(ram1 + 0xff0, 0x44, 16);
	__asm__ volatile("addl $0x01010101, (%0)" ::"r"(VA_A + 0xffe) : "memory", "cc");
	printf("mmiox: add ram|apic: ram1[ffc]=0x%08x\n", (unsigned)*(uint32_t *)(ram1 + 0xffc));
	memset(ram2, 0x22, 16);
	__asm__ volatile("addl $0x01010101, (%0)" ::"r"(VA_A + 0x1ffe) : "memory", "cc");
	printf("mmiox: add apic|ram: ram2[0]=0x%08x\n", (unsigned)*(uint32_t *)ram2);
	/* other forms on the TPR (0x80): pop, push, xchg, movs, stos, mov from esp */
	{
		uint32_t t = 0x20, e, s0, d0, c;

		__asm__ volatile("pushl %1\n\tpopl (%2)\n\tmovl (%2), %0"
		                 : "=r"(e)
		                 : "r"(t), "r"(VA_A + 0x1080)
		                 : "memory");
		printf("mmiox: pop tpr 0x%08x\n", (unsigned)e);
		__asm__ volatile("pushl (%1)\n\tpopl %0" : "=r"(e) : "r"(VA_A + 0x1080) : "memory");
		printf("mmiox: push tpr 0x%08x\n", (unsigned)e);
		e = 0x30;
		__asm__ volatile("xchgl %0, (%1)" : "+r"(e) : "r"(VA_A + 0x1080) : "memory");
		printf("mmiox: xchg tpr old 0x%08x now 0x%08x\n", (unsigned)e,
		       (unsigned)*(volatile uint32_t *)(VA_A + 0x1080));
		t = 0x40;
		s0 = (uint32_t)&t;
		d0 = VA_A + 0x1080;
		c = 1;
		__asm__ volatile("rep movsl" : "+S"(s0), "+D"(d0), "+c"(c)::"memory");
		printf("mmiox: movs tpr 0x%08x\n", (unsigned)*(volatile uint32_t *)(VA_A + 0x1080));
		d0 = VA_A + 0x1080;
		__asm__ volatile("stosl" : "+D"(d0) : "a"(0x50u) : "memory");
		printf("mmiox: stos tpr 0x%08x\n", (unsigned)*(volatile uint32_t *)(VA_A + 0x1080));
		__asm__ volatile("movl %%esp, (%1)\n\tmovl (%1), %0"
		                 : "=r"(e)
		                 : "r"(VA_A + 0x1080)
		                 : "memory");
		printf("mmiox: esp tpr 0x%08x\n", (unsigned)e);
		__asm__ volatile("movw $0x60, (%0)" ::"r"(VA_A + 0x1080) : "memory");
		__asm__ volatile("movl $0, (%0)" ::"r"(VA_A + 0x1080) : "memory");
		__asm__ volatile("movsbl (%1), %0" : "=r"(e) : "r"(VA_A + 0x1030) : "memory");
		printf("mmiox: movsx ver 0x%08x\n", (unsigned)e);
	}
	/* two device pages in a row: a dword across them */
	map_page(VA_A + 0x3000, 0xfee00000u, PTE_W);
	map_page(VA_A + 0x4000, 0xfee00000u, PTE_W);
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(VA_A + 0x3ffe) : "memory");
	printf("mmiox: load apic|apic 0x%08x\n", (unsigned)v);
	__asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(VA_A + 0x3ffe) : "memory");
	printf("mmiox: store apic|apic\n");
	printf("mmiox: done\n");
	return EXIT_OK;
}
