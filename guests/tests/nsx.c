/*
 * nsx.c: attack guest for null and limited data segments against operands that are
 * no access: PREFETCHh and the ModRM NOP (0f 1f /0) through an explicit fs:/es:
 * override on a null selector, and on a byte-granular segment whose limit the
 * operand is far beyond. Neither instruction reads memory (SDM Vol 2: NOP "does not
 * issue a memory operation", PREFETCHh raises no exception), so neither faults;
 * lea is checked alongside. Then the same instructions in a loop, so a translation
 * made while the segment was flat runs again with it null (the segment key's lax
 * rule). Then sidt and a segment load from memory through a null DS (callouts): #GP(0)
 * whether the block was translated with DS flat or null (QEMU does not check null
 * selectors: accepted there). Each line is what qemu-system-i386 prints.
 */
#include "rt.h"

static uint64_t gdt2[16] __attribute__((aligned(16)));
static volatile uint32_t f_n, f_vec, f_err;
volatile uint32_t nsx_recover;
static uint32_t data[16];

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	uint64_t d = (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16);

	d |= (uint64_t)access << 40;
	d |= (uint64_t)((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)flags << 52;
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

static void on_fault(struct trapframe *tf)
{
	f_n++;
	f_vec = tf->vector;
	f_err = tf->err;
	if (!nsx_recover) {
		printf("nsx: unexpected trap %u at 0x%08x\n", (unsigned)tf->vector,
		       (unsigned)tf->eip);
		guest_exit(EXIT_FAIL);
	}
	tf->eip = nsx_recover;
	nsx_recover = 0;
}

static void report(const char *what)
{
	printf("nsx: %s faults=%u vec=%u err=%u\n", what, (unsigned)f_n, f_n ? (unsigned)f_vec : 0,
	       f_n ? (unsigned)f_err : 0);
	f_n = 0;
	nsx_recover = 0;
}

/* With fs = sel: prefetchnta, prefetcht0, nopl through fs:, and lea. */
static __attribute__((noinline)) uint32_t fs_ops(uint16_t sel, uint32_t off)
{
	uint32_t a = 0;

	__asm__ volatile("movl $1f, nsx_recover\n\t"
	                 "movw %w1, %%fs\n\t"
	                 "prefetchnta %%fs:(%2)\n\t"
	                 "prefetcht0 %%fs:4(%2)\n\t"
	                 "nopl %%fs:8(%2)\n\t"
	                 ".byte 0x64\n\t" /* fs: on the lea (gas drops the override) */
	                 "leal 12(%2), %0\n"
	                 "1:\tmovw %w3, %%fs\n\t"
	                 "movl $0, nsx_recover"
	                 : "=&r"(a)
	                 : "r"(sel), "r"(off), "r"(0x10)
	                 : "memory");
	return a;
}

/* With es = sel: nopw and prefetcht1 through es:, then restore es. */
static __attribute__((noinline)) void es_ops(uint16_t sel, uint32_t off)
{
	__asm__ volatile("movl $1f, nsx_recover\n\t"
	                 "movw %w0, %%es\n\t"
	                 "nopw %%es:(%1)\n\t"
	                 "prefetcht1 %%es:0x40(%1)\n"
	                 "1:\tmovw %w2, %%es\n\t"
	                 "movl $0, nsx_recover" ::"r"(sel),
	                 "r"(off), "r"(0x10)
	                 : "memory");
}

/*
 * With ds = sel: sidt and a segment load from memory, both through DS implicitly and
 * both done by callouts. Through a null DS each is #GP(0) (SDM Vol 3 5.4.1), whether
 * its block was first translated with DS flat or null. The block holding the
 * instruction (between two jmps) has no other DS access; noinline, and a nop apart
 * (so the compiler neither copies nor merges them).
 */
static uint8_t idt_buf[8];
static uint16_t sel_word = 0x10;

#define DS_CALLOUT(name, insn, pad)                                                                \
	static __attribute__((noinline)) void name(uint16_t sel)                                   \
	{                                                                                          \
		__asm__ volatile("movl $1f, nsx_recover\n\t" pad "movw %w0, %%ds\n\t"              \
		                 "jmp 2f\n"                                                        \
		                 "2:\t" insn "\n"                                                  \
		                 "1:\tmovw %w2, %%ds\n\t"                                          \
		                 "jmp 3f\n"                                                        \
		                 "3:\tmovl $0, nsx_recover" ::"r"(sel),                            \
		                 "b"(idt_buf), "r"(0x10), "c"(&sel_word)                           \
		                 : "memory", "eax");                                               \
	}
DS_CALLOUT(sidt_flat_first, "sidt (%1)", "")
DS_CALLOUT(sidt_null_first, "sidt (%1)", "nop\n\t")
DS_CALLOUT(fsload_flat_first, "movw (%3), %%fs", "")
DS_CALLOUT(fsload_null_first, "movw (%3), %%fs", "nop\n\t")

static int on_qemu(void)
{
	uint32_t r[4];

	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(0x80000000u));
	if (r[0] < 0x80000002u)
		return 0;
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(0x80000002u));
	return !memcmp(r, "QEMU", 4);
}

/* One #GP (QEMU's TCG does not check null selectors: none there). */
static void expect_gp(const char *what)
{
	if (f_n == 1 && f_vec == 13 && f_err == 0)
		printf("nsx: %s: #GP(0) ok\n", what);
	else if (f_n == 0 && on_qemu())
		printf("nsx: %s: #GP(0) ok\n", what); /* (QEMU: no null-selector check) */
	else
		printf("nsx: %s: WRONG faults=%u vec=%u\n", what, (unsigned)f_n, (unsigned)f_vec);
	f_n = 0;
	nsx_recover = 0;
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	struct dtr old, d;
	uint32_t a;
	int i;

	(void)magic;
	(void)mbi;
	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[8] = seg_desc(0, 0xfff, 0x92, 0x4); /* DPL 0 data, base 0, limit 4 KiB - 1 (bytes) */
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	trap_set_handler(13, on_fault);
	trap_set_handler(12, on_fault);

	a = fs_ops(0, (uint32_t)data);
	report("fs null: prefetch, nop");
	printf("nsx: fs null: lea=%s\n", a == (uint32_t)data + 12 ? "ok" : "wrong");
	a = fs_ops(0x40, 0x100000);
	report("fs limited, past the limit: prefetch, nop");
	es_ops(0, (uint32_t)data);
	report("es null: nop, prefetch");
	es_ops(0x40, 0x200000);
	report("es limited, past the limit: nop, prefetch");
	/* the same code again, flat first, then null, then flat, 100 times */
	for (i = 0; i < 100; i++) {
		fs_ops(0x10, (uint32_t)data);
		fs_ops(0, (uint32_t)data);
		es_ops(0x10, (uint32_t)data);
		es_ops(0, (uint32_t)data);
	}
	report("alternating flat and null, 100 rounds");
	for (i = 0; i < 3; i++)
		sidt_flat_first(0x10);
	report("sidt, ds flat");
	sidt_flat_first(0);
	expect_gp("sidt, ds null, translated with ds flat");
	sidt_null_first(0);
	expect_gp("sidt, ds null, translated with ds null");
	for (i = 0; i < 3; i++)
		fsload_flat_first(0x10);
	report("mov fs from memory, ds flat");
	fsload_flat_first(0);
	expect_gp("mov fs from memory, ds null, translated with ds flat");
	fsload_null_first(0);
	expect_gp("mov fs from memory, ds null, translated with ds null");
	printf("nsx: done\n");
	return EXIT_OK;
}
