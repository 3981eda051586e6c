/*
 * adapt.c: a guest for the binary translator's adaptive retranslation. Every
 * instruction here that faults repeatedly under bt (a page-table store, an MMIO
 * access, a divide by zero) gets retranslated after BT_ADAPT_THRESHOLD faults, and
 * the output must not change: it is the same with --no-adaptive and under QEMU.
 *
 * One shared store instruction (store32) is adapted as a page-table store in part
 * 1, then its target changes role: ordinary RAM (the page is no longer a page
 * table, part 2), a page table again, code (the immediate patches of part 3) and
 * the local APIC's TPR (MMIO, part 4).
 *   1. PTE loop: store32 alternates a PTE between frames A and B, invlpg, read.
 *   2. The page table page is left out of a second page directory, filled with
 *      data while that one is live, then used as a page table again; in between,
 *      store32 must raise exact #PFs (not present, read-only) at its own EIP.
 *   3. SMC: code in its own page (a caller of store32, and a store carrying its
 *      own immediate, itself adapted) is patched after running many times.
 *   4. MMIO: the TPR at 0xFEE00080 written and read back 100 times.
 *   5. #DE: a `div %ecx` with divisor 0 on every other iteration; the handler skips
 *      it. Then quotient overflows (non-zero divisor) must still fault.
 *   6. Two adjacent page-table stores (store_pair), both adapted: each 4 bytes of
 *      host code, shorter than the jmp a patch writes.
 * Output lines carry only layout-independent values (data patterns, counts).
 */
#include "rt.h"

#define PTE_PWT 0x008u
#define PTE_PCD 0x010u

#define TEST_VA 0x40000000u /* a PDE of its own: its page table comes from the pool */
#define LAPIC_BASE 0xFEE00000u
#define LAPIC_TPR (LAPIC_BASE + 0x80)

#define PTE_LOOPS 1000
#define REPURPOSE_ROUNDS 3
#define SMC_WARMUP 20
#define TPR_LOOPS 100
#define DIV_LOOPS 100
#define DIV_OVERFLOWS 4

/* Data frames seen through TEST_VA, and the code page of part 3. */
static uint32_t frame_a[1024] __attribute__((aligned(4096)));
static uint32_t frame_b[1024] __attribute__((aligned(4096)));
static uint32_t frame_c[1024] __attribute__((aligned(4096)));
static uint32_t pd2[1024] __attribute__((aligned(4096)));
static uint8_t smc_page[4096] __attribute__((aligned(4096)));

static volatile uint32_t *test_pte; /* the PTE of TEST_VA */
static volatile uint32_t *test_pt;  /* its page table */
static unsigned test_idx;           /* the PTE's index in it */

static void fail(const char *fmt, ...) RT_PRINTF(1, 2) RT_NORETURN;
static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("adapt: FAIL ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	guest_exit(EXIT_FAIL);
}

/* The one shared store, in assembly so that it is exactly one `mov %edx,(%eax)` at a
 * known address (store32_insn): void store32(volatile uint32_t *p, uint32_t v). */
void store32(volatile uint32_t *p, uint32_t v);
extern const char store32_insn[], store32_end[];
__asm__(".text\n"
        ".balign 16\n"
        ".globl store32, store32_insn, store32_end\n"
        ".type store32, @function\n"
        "store32:\n\t"
        "movl 4(%esp), %eax\n\t"
        "movl 8(%esp), %edx\n"
        "store32_insn:\n\t"
        "movl %edx, (%eax)\n"
        "store32_end:\n\t"
        "ret\n"
        ".size store32, . - store32\n");

/* A plain load that is also a compiler barrier. */
static inline uint32_t rd(uint32_t va)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(va) : "memory");
	return v;
}

static inline uint32_t rol(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static inline uint32_t mix(uint32_t ck, uint32_t v)
{
	return rol(ck, 5) ^ (v + 0x9E3779B9u);
}

static void fill_frames(void)
{
	for (uint32_t k = 0; k < 1024; k++) {
		frame_a[k] = 0xA0000000u | (k * 0x00010003u & 0x0FFFFFFFu);
		frame_b[k] = 0xB0000000u | ((k ^ 0x3C5) * 0x00020001u & 0x0FFFFFFFu);
		frame_c[k] = 0xC0000000u | ((k * 0x0101u + 0x77) & 0x0FFFFFFFu);
	}
}

static uint32_t pte_of(const uint32_t *frame)
{
	return (uint32_t)frame | PTE_W | PTE_P;
}

/* Read word k of TEST_VA; it must be word k of frame. */
static uint32_t read_va(const uint32_t *frame, uint32_t k, const char *what, uint32_t iter)
{
	uint32_t got = rd(TEST_VA + k * 4), want = frame[k];

	if (got != want)
		fail("%s: iteration %u: word %u via 0x%08x is 0x%08x, want 0x%08x", what, iter, k,
		     TEST_VA, got, want);
	return got;
}

/* ---- 1: the PTE loop ---- */
static uint32_t pte_loop(uint32_t n, uint32_t salt, const char *what)
{
	uint32_t ck = 0;

	for (uint32_t i = 0; i < n; i++) {
		const uint32_t *f = (i & 1) ? frame_b : frame_a;
		uint32_t k = (i * 37 + salt) & 1023;

		store32(test_pte, pte_of(f));
		invlpg(TEST_VA);
		ck = mix(ck, read_va(f, k, what, i));
	}
	return ck;
}

static void part_pte(void)
{
	if (map_page(TEST_VA, (uint32_t)frame_a, PTE_W))
		fail("map_page 0x%08x", TEST_VA);
	test_pte = pte_lookup(TEST_VA);
	test_pt = (volatile uint32_t *)((uint32_t)rt_page_dir[TEST_VA >> 22] & ~0xFFFu);
	test_idx = (TEST_VA >> 12) & 0x3FF;
	if (!test_pte || test_pte != &test_pt[test_idx] || test_pte == &rt_page_dir[TEST_VA >> 22])
		fail("pte_lookup 0x%08x", TEST_VA);
	printf("adapt: pte checksum=0x%08x\n", pte_loop(PTE_LOOPS, 0, "pte loop"));
}

/* ---- 2: the page table page repurposed ---- */
static uint32_t data_word(uint32_t round, uint32_t k)
{
	return (0xDA7A0000u ^ (k * 0x9E3779B0u) ^ (round << 20)) & ~PTE_P; /* never present */
}

/* A #PF must come from the shared store: recorded, and the store skipped. */
static volatile uint32_t pf_count, pf_cr2, pf_err;

static void pf_handler(struct trapframe *tf)
{
	if (tf->eip != (uint32_t)store32_insn)
		fail("#PF at eip 0x%08x (cr2 0x%08x, err 0x%x), want the shared store at 0x%08x",
		     tf->eip, read_cr2(), tf->err, (uint32_t)store32_insn);
	pf_count++;
	pf_cr2 = read_cr2();
	pf_err = tf->err;
	tf->eip = (uint32_t)store32_end;
}

/* The shared store to va must raise one #PF with error code err. */
static uint32_t store_fault(uint32_t va, uint32_t err, const char *what, uint32_t round)
{
	uint32_t before = pf_count;

	store32((volatile uint32_t *)va, 0xBAD0BAD0u);
	if (pf_count != before + 1 || pf_cr2 != va || pf_err != err)
		fail("%s (round %u): %u #PF, cr2 0x%08x, err 0x%x; want 1, cr2 0x%08x, err 0x%x",
		     what, round, pf_count - before, pf_cr2, pf_err, va, err);
	return (va - TEST_VA) << 4 | err;
}

static void part_repurpose(void)
{
	uint32_t ck = 0;

	/* Directory 2: 0-16 MiB identity-mapped with 4 MiB pages, no page tables at all,
	 * nothing at TEST_VA. */
	memset(pd2, 0, sizeof(pd2));
	for (uint32_t t = 0; t < RT_IDENT_MIB / 4; t++)
		pd2[t] = t * PSE_SIZE | PDE_PS | PTE_W | PTE_P;

	trap_set_handler(14, pf_handler);
	for (uint32_t r = 0; r < REPURPOSE_ROUNDS; r++) {
		write_cr3((uint32_t)pd2);
		/* Nothing at TEST_VA in directory 2. */
		ck = mix(ck,
		         store_fault(TEST_VA + 4 * r, PTE_W, "store to TEST_VA in directory 2", r));
		/* Ordinary data now: fill the whole page, entry test_idx with frame C's PTE. */
		for (uint32_t k = 0; k < 1024; k++)
			store32(&test_pt[k], k == test_idx ? pte_of(frame_c) : data_word(r, k));
		for (uint32_t k = 0; k < 1024; k++) {
			uint32_t got = test_pt[k];
			uint32_t want = k == test_idx ? pte_of(frame_c) : data_word(r, k);

			if (got != want)
				fail("directory 2, round %u: word %u of the old page table is "
				     "0x%08x, "
				     "want 0x%08x",
				     r, k, got, want);
			if (k != test_idx)
				ck = mix(ck, got);
		}
		/* A page table again: TEST_VA now maps what was written as data. */
		write_cr3((uint32_t)rt_page_dir);
		for (uint32_t k = 0; k < 1024; k += 97)
			ck = mix(ck, read_va(frame_c, k, "after switching back", r));
		/* Clean it up with page-table stores, then the PTE loop again. */
		for (uint32_t k = 0; k < 1024; k++)
			if (k != test_idx)
				store32(&test_pt[k], 0);
		/* Read-only: the shared store faults (P|W), frame C unchanged. */
		store32(test_pte, (uint32_t)frame_c | PTE_P);
		invlpg(TEST_VA);
		ck = mix(ck, store_fault(TEST_VA + 8 + 4 * r, PTE_W | PTE_P,
		                         "store to a read-only TEST_VA", r));
		ck = mix(ck,
		         read_va(frame_c, 2 + r, "read-only TEST_VA after the faulting store", r));
		ck = mix(ck, pte_loop(100, r + 1, "pte loop after repurposing"));
	}
	trap_set_handler(14, NULL);
	printf("adapt: repurposed checksum=0x%08x\n", ck);
}

/* ---- 3: self-modifying code ---- */
typedef uint32_t (*smc_fn)(volatile uint32_t *p);

#define F1_OFF 0x000 /* mov $imm,%eax; push %eax; pushl 8(%esp); call store32; pop; pop; ret */
#define F1_IMM (F1_OFF + 1)
#define F2_OFF 0x800 /* mov 4(%esp),%eax; movl $imm,(%eax); mov (%eax),%eax; ret */
#define F2_IMM (F2_OFF + 6)

static void smc_build(void)
{
	static const uint8_t f1[] = {0xB8, 0,    0,    0,    0,    /* mov $imm, %eax */
	                             0x50,                         /* push %eax (v) */
	                             0xFF, 0x74, 0x24, 0x08,       /* pushl 8(%esp) (p) */
	                             0xE8, 0,    0,    0,    0,    /* call store32 */
	                             0x5A,                         /* pop %edx */
	                             0x58,                         /* pop %eax */
	                             0xC3};                        /* ret */
	static const uint8_t f2[] = {0x8B, 0x44, 0x24, 0x04,       /* mov 4(%esp), %eax */
	                             0xC7, 0x00, 0,    0,    0, 0, /* movl $imm, (%eax) */
	                             0x8B, 0x00,                   /* mov (%eax), %eax */
	                             0xC3};                        /* ret */
	uint8_t *p1 = smc_page + F1_OFF, *p2 = smc_page + F2_OFF;
	int32_t rel = (int32_t)((uint32_t)store32 - (uint32_t)(p1 + 15));

	memset(smc_page, 0xCC, sizeof(smc_page));
	memcpy(p1, f1, sizeof(f1));
	memcpy(p1 + 11, &rel, 4);
	memcpy(p2, f2, sizeof(f2));
}

static uint32_t smc_call(uint32_t off, volatile uint32_t *p)
{
	__asm__ volatile("" ::: "memory");
	return ((smc_fn)(uint32_t)(smc_page + off))(p);
}

/* Patch the 32-bit immediate at off with the shared store (unaligned, into code). */
static void smc_patch(uint32_t off, uint32_t v)
{
	store32((volatile uint32_t *)(smc_page + off), v);
}

/* Call the function at off: it must return v, store it to the PTE, and TEST_VA must map frame. */
static uint32_t smc_check(uint32_t off, const uint32_t *frame, uint32_t iter, const char *what)
{
	uint32_t v = pte_of(frame), r = smc_call(off, test_pte);

	if (r != v)
		fail("%s: iteration %u: returned 0x%08x, want 0x%08x", what, iter, r, v);
	if (*test_pte != v)
		fail("%s: iteration %u: PTE 0x%08x, want 0x%08x", what, iter, *test_pte, v);
	invlpg(TEST_VA);
	return read_va(frame, (iter * 11) & 1023, what, iter);
}

static void part_smc(void)
{
	static const uint32_t *const seq[] = {frame_b, frame_c, frame_a, frame_c, frame_b};
	uint32_t value = 0;

	smc_build();
	for (unsigned f = 0; f < 2; f++) {
		uint32_t off = f ? F2_OFF : F1_OFF, imm = f ? F2_IMM : F1_IMM;
		const char *what = f ? "smc: adapted store with a patched immediate"
		                     : "smc: patched caller of the shared store";

		smc_patch(imm, pte_of(frame_a));
		for (uint32_t i = 0; i < SMC_WARMUP; i++)
			value ^= smc_check(off, frame_a, i, what);
		for (uint32_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
			smc_patch(imm, pte_of(seq[i]));
			value ^= smc_check(off, seq[i], SMC_WARMUP + i, what);
			/* twice: the second call runs from the translation cache */
			value ^= smc_check(off, seq[i], SMC_WARMUP + i, what);
		}
	}
	value ^= rd(TEST_VA + 4 * 0x123);
	printf("adapt: smc value=0x%x\n", value);
}

/* ---- 4: the local APIC TPR (MMIO) ---- */
__attribute__((noinline, noipa)) static void tpr_write(uint32_t v)
{
	*(volatile uint32_t *)LAPIC_TPR = v;
}

__attribute__((noinline, noipa)) static uint32_t tpr_read(void)
{
	return *(volatile uint32_t *)LAPIC_TPR;
}

static void part_tpr(void)
{
	uint32_t ck = 0;

	if (map_page(LAPIC_BASE, LAPIC_BASE, PTE_W | PTE_PCD | PTE_PWT))
		fail("map_page 0x%08x", LAPIC_BASE);
	for (uint32_t i = 0; i < TPR_LOOPS; i++) {
		uint32_t v = i & 0xF0, got;

		if (i & 1)
			tpr_write(v);
		else /* the shared page-table store, now to MMIO */
			store32((volatile uint32_t *)LAPIC_TPR, v);
		got = tpr_read();
		if (got != v)
			fail("tpr: iteration %u: read 0x%08x after writing 0x%08x", i, got, v);
		ck = mix(ck, got);
	}
	tpr_write(0);
	printf("adapt: tpr checksum=0x%08x\n", ck);
}

/* ---- 5: divide errors ---- */
extern const char adapt_div_insn[], adapt_div_end[];
static volatile uint32_t de_count, de_bad_eip, de_bad_ecx;

static void de_handler(struct trapframe *tf)
{
	if (tf->eip != (uint32_t)adapt_div_insn && !de_bad_eip)
		de_bad_eip = tf->eip;
	if (tf->ecx != 0 && tf->edx < tf->ecx && !de_bad_ecx)
		de_bad_ecx = tf->ecx | 0x80000000u; /* neither zero nor an overflow */
	de_count++;
	tf->eip = (uint32_t)adapt_div_end;
}

/* edx:eax / ecx with the one `div %ecx`; on #DE the handler skips it (eax unchanged). */
__attribute__((noinline, noipa)) static uint32_t do_div(uint32_t hi, uint32_t lo, uint32_t d)
{
	__asm__ volatile(".globl adapt_div_insn, adapt_div_end\n"
	                 "adapt_div_insn:\n\t"
	                 "divl %%ecx\n"
	                 "adapt_div_end:"
	                 : "+a"(lo), "+d"(hi)
	                 : "c"(d)
	                 : "cc", "memory");
	return lo;
}

static void part_div(void)
{
	uint32_t sum = 0, want = 0;

	if (adapt_div_end - adapt_div_insn != 2)
		fail("div: the divide is %d bytes, want 2", (int)(adapt_div_end - adapt_div_insn));
	trap_set_handler(0, de_handler);
	for (uint32_t i = 0; i < DIV_LOOPS; i++) {
		uint32_t lo = 0x12345678u + i * 0x01010101u, d = (i & 1) ? i * 3 + 1 : 0;
		uint32_t before = de_count, q = do_div(0, lo, d);

		if (d) {
			if (de_count != before || q != lo / d)
				fail("div: iteration %u: %u / %u gave %u (faults %u->%u)", i, lo, d,
				     q, before, de_count);
			sum += q;
			want += lo / d;
		} else if (de_count != before + 1 || q != lo) {
			fail("div: iteration %u: divide by zero: faults %u->%u, eax 0x%08x", i,
			     before, de_count, q);
		}
	}
	printf("adapt: div faults=%u sum=0x%08x\n", de_count, sum);
	if (sum != want)
		fail("div: sum 0x%08x, want 0x%08x", sum, want);
	/* A non-zero divisor can fault too: the quotient does not fit (edx >= ecx). */
	for (uint32_t i = 0; i < DIV_OVERFLOWS; i++) {
		uint32_t before = de_count, q = do_div(7 + i, 0x1234u, 5);

		if (de_count != before + 1 || q != 0x1234u)
			fail("div: overflow %u: faults %u->%u, eax 0x%08x", i, before, de_count, q);
	}
	/* And ordinary divides after those. */
	if (do_div(1, 0, 2) != 0x80000000u || do_div(0, 100, 7) != 14)
		fail("div: ordinary divides after the overflows");
	trap_set_handler(0, NULL);
	if (de_bad_eip)
		fail("div: #DE reported at eip 0x%08x, want 0x%08x", de_bad_eip,
		     (uint32_t)adapt_div_insn);
	if (de_bad_ecx)
		fail("div: #DE with divisor %u and edx below it", de_bad_ecx & 0x7FFFFFFFu);
}

/* ---- 6: two adjacent page-table stores ---- */
/*
 * void store_pair(volatile uint32_t *p, uint32_t v, volatile uint32_t *q, uint32_t w):
 * two stores back to back, each 4 bytes of host code under bt (`mov [r8 + rax], edx`),
 * both adapted as page-table stores, the first before or with the second. Patching the
 * second's jmp over the first's once sent the first's jmp out of the cache (a host
 * SIGSEGV): a jmp needs 5 bytes.
 */
void store_pair(volatile uint32_t *p, uint32_t v, volatile uint32_t *q, uint32_t w);
__asm__(".text\n"
        ".balign 16\n"
        ".globl store_pair\n"
        ".type store_pair, @function\n"
        "store_pair:\n\t"
        "pushl %ebx\n\t"
        "movl 8(%esp), %eax\n\t"
        "movl 12(%esp), %edx\n\t"
        "movl 16(%esp), %ecx\n\t"
        "movl 20(%esp), %ebx\n\t"
        "movl %edx, (%eax)\n\t"
        "movl %ebx, (%ecx)\n\t"
        "popl %ebx\n\t"
        "ret\n"
        ".size store_pair, . - store_pair\n");

#define PAIR_VA 0x44000000u /* a PDE of its own, like TEST_VA */
#define PAIR_LOOPS 200

static void part_pair(void)
{
	volatile uint32_t *pte0, *pte1;
	uint32_t ck = 0;

	if (map_page(PAIR_VA, (uint32_t)frame_a, PTE_W) ||
	    map_page(PAIR_VA + PAGE_SIZE, (uint32_t)frame_b, PTE_W))
		fail("map_page 0x%08x", PAIR_VA);
	pte0 = pte_lookup(PAIR_VA);
	pte1 = pte_lookup(PAIR_VA + PAGE_SIZE);
	if (!pte0 || pte1 != pte0 + 1)
		fail("pte_lookup 0x%08x", PAIR_VA);
	for (uint32_t i = 0; i < PAIR_LOOPS; i++) {
		const uint32_t *f0 = (i & 1) ? frame_b : frame_c, *f1 = (i & 1) ? frame_c : frame_a;
		uint32_t k = (i * 53) & 1023, g0, g1;

		store_pair(pte0, pte_of(f0), pte1, pte_of(f1));
		invlpg(PAIR_VA);
		invlpg(PAIR_VA + PAGE_SIZE);
		g0 = rd(PAIR_VA + k * 4);
		g1 = rd(PAIR_VA + PAGE_SIZE + k * 4);
		if (g0 != f0[k] || g1 != f1[k])
			fail("pair: iteration %u: words %u are 0x%08x, 0x%08x, want 0x%08x, 0x%08x",
			     i, k, g0, g1, f0[k], f1[k]);
		ck = mix(mix(ck, g0), g1);
	}
	printf("adapt: pair checksum=0x%08x\n", ck);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	fill_frames();
	enable_paging();
	part_pte();
	part_repurpose();
	part_smc();
	part_tpr();
	part_div();
	part_pair();
	printf("adapt: all ok\n");
	return EXIT_OK;
}
