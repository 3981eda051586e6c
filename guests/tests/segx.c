/*
 * segx.c: attack guest for FS/GS bases at run time across a privilege change: iret to
 * ring 3 with FS and GS holding ring-0 data segments with non-zero bases. The SDM
 * (IRET, return to an outer level) makes them null, and an access through a null
 * selector is #GP(0). qemu-system-i386 7.2 keeps the old base with P clear (reads
 * 2 GiB up: 0); bt reads with base 0 (0x3c3c3c3c). Neither faults: not in CTest.
 */
#include "rt.h"

static uint64_t gdt2[16] __attribute__((aligned(16)));
static uint8_t ustack[4096] __attribute__((aligned(16)));
static uint8_t data[4096] __attribute__((aligned(4096)));

static uint64_t seg_desc(uint32_t base, uint8_t access)
{
	uint64_t d = 0xffffu | ((uint64_t)(base & 0xffffffu) << 16);

	d |= (uint64_t)access << 40;
	d |= (uint64_t)0xf << 48;
	d |= (uint64_t)0xc << 52;
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

static void on_ud(struct trapframe *tf)
{
	printf("segx: ring 3: fs=0x%04x gs=0x%04x eax=0x%08x ebx=0x%08x\n",
	       (unsigned)tf->fs & 0xffff, (unsigned)tf->gs & 0xffff, (unsigned)tf->eax,
	       (unsigned)tf->ebx);
	guest_exit(EXIT_OK);
}

static void on_gp(struct trapframe *tf)
{
	printf("segx: ring 3: #GP err=0x%x at fs=0x%04x\n", (unsigned)tf->err,
	       (unsigned)tf->fs & 0xffff);
	guest_exit(EXIT_OK);
}

void user_code(void);

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	struct dtr old, d;

	(void)magic;
	(void)mbi;
	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[8] = seg_desc(0x80000000u, 0x92); /* DPL 0 data, base 2 GiB */
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	trap_set_handler(6, on_ud);
	trap_set_handler(13, on_gp);
	memset(data, 0x3c, 4096);
	tss_set_esp0(0x200000);
	/* a few runs of the same ring-3 block with different FS first (translation reuse) */
	__asm__ volatile(
	    "movw $0x23, %%ax\n\tmovw %%ax, %%ds\n\tmovw %%ax, %%es\n\t"
	    "movw $0x40, %%ax\n\tmovw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
	    "pushl $0x23\n\tpushl %0\n\tpushl $0x2\n\tpushl $0x1b\n\tpushl $user_code\n\t"
	    "iret\n"
	    ".globl user_code\nuser_code:\n\t"
	    "movl $data, %%esi\n\t"
	    "movl %%fs:(%%esi), %%eax\n\t"
	    "movl %%gs:4(%%esi), %%ebx\n\t"
	    "ud2" ::"r"((uint32_t)ustack + sizeof(ustack)),
	    "i"(0)
	    : "memory", "eax");
	return EXIT_FAIL;
}
