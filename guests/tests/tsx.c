/*
 * tsx.c: attack guest for a task switch whose new TSS holds the CR3 already loaded.
 * The SDM (Vol 3 7.3, step 12: the new task's CR3 is loaded) makes it a CR3 load,
 * and a CR3 load flushes every non-global TLB entry (Vol 3 4.10.4.1), whatever its
 * value; qemu-system-i386 flushes too (cpu_x86_update_cr3). So a data page and a code
 * page remapped by PTE stores without invlpg, then a jmp to a TSS with the same CR3,
 * must show the new frames. Each line is what qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_DATA 0x40000000u
#define VA_CODE 0x40001000u
#define SEL_TSS2 0x40

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt, iomap;
};
_Static_assert(sizeof(struct tss32) == 104, "i386 TSS");

static uint64_t gdt2[16] __attribute__((aligned(16)));
static struct tss32 tss2 __attribute__((aligned(128)));
static uint8_t stack2[4096] __attribute__((aligned(16)));
static uint8_t data1[4096] __attribute__((aligned(4096)));
static uint8_t data2[4096] __attribute__((aligned(4096)));
static uint8_t code1[4096] __attribute__((aligned(4096)));
static uint8_t code2[4096] __attribute__((aligned(4096)));

static uint64_t sys_desc(uint32_t base, uint32_t limit, uint8_t access)
{
	return (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16) | (uint64_t)access << 40 |
	       (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)(base >> 24) << 56;
}

/* mov eax, v; ret */
static void put_code(uint8_t *p, uint32_t v)
{
	p[0] = 0xb8;
	memcpy(p + 1, &v, 4);
	p[5] = 0xc3;
}

static uint32_t call_code(void)
{
	return ((uint32_t(*)(void))VA_CODE)();
}

/* The new task: CR3 reloaded, so both pages show their new frames. */
static void task2(void)
{
	printf("tsx: after the task switch: data=0x%08x code=0x%08x\n",
	       (unsigned)*(volatile uint32_t *)VA_DATA, (unsigned)call_code());
	printf("tsx: done\n");
	guest_exit(EXIT_OK);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	struct dtr old, d;
	uint32_t cr3, v = 0, c = 0;
	int i;

	(void)magic;
	(void)mbi;
	enable_paging();
	memset(data1, 0x11, sizeof(data1));
	memset(data2, 0x22, sizeof(data2));
	put_code(code1, 0x11111111u);
	put_code(code2, 0x22222222u);
	if (map_page(VA_DATA, (uint32_t)data1, PTE_W) || map_page(VA_CODE, (uint32_t)code1, 0)) {
		printf("tsx: map_page failed\n");
		return EXIT_FAIL;
	}
	/* CR0.TS set up front: the switch's own TS changes nothing (bt: no x87 flush). */
	__asm__ volatile("movl %%cr0, %0\n\torl $8, %0\n\tmovl %0, %%cr0" : "=r"(cr3));
	/* Used many times: the TLB (bt: shadow, jump cache) holds both mappings. */
	for (i = 0; i < 100; i++) {
		v += *(volatile uint32_t *)VA_DATA;
		c += call_code();
	}
	printf("tsx: before: data=0x%08x code=0x%08x\n", (unsigned)*(volatile uint32_t *)VA_DATA,
	       (unsigned)call_code());
	/* Remap both without invlpg. */
	*pte_lookup(VA_DATA) = (uint32_t)data2 | PTE_P | PTE_W;
	*pte_lookup(VA_CODE) = (uint32_t)code2 | PTE_P;

	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[SEL_TSS2 >> 3] = sys_desc((uint32_t)&tss2, sizeof(tss2) - 1, 0x89);
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	__asm__ volatile("movl %%cr3, %0" : "=r"(cr3));
	memset(&tss2, 0, sizeof(tss2));
	tss2.cr3 = cr3; /* the same address space */
	tss2.eip = (uint32_t)task2;
	tss2.eflags = 2;
	tss2.esp = (uint32_t)stack2 + sizeof(stack2) - 16;
	tss2.cs = 0x08;
	tss2.es = tss2.ss = tss2.ds = tss2.fs = tss2.gs = 0x10;
	tss2.iomap = sizeof(tss2);
	__asm__ volatile("ljmp $0x40, $0" ::: "memory");
	printf("tsx: back in the old task (0x%x 0x%x)\n", (unsigned)v, (unsigned)c);
	return EXIT_FAIL;
}
