/* as.c: address spaces: several page directories mapping one VA to different frames,
 * switched back and forth; page tables changed while their address space is not
 * current; more spaces than a translator caches; global pages and CR4.PGE; CR0.WP
 * toggled over a read-only supervisor page; A/D bits of neighbouring PTEs. Each check
 * asserts only what SDM Vol 3A 4.10 guarantees (never a stale read). */
#include "st.h"

#define CR4_PGE 0x80u
#define PTE_G 0x100u
#define NSPACE 6
#define AS_PAGE 100u /* test pages AS_PAGE.. of the test region */
#define AS_FRAME(n) SCRATCH_FRAME(64 + (n))

static uint32_t as_pd[NSPACE][1024] __attribute__((aligned(4096)));
static uint32_t as_pt[NSPACE][1024] __attribute__((aligned(4096)));
static uint32_t as_reuse[1024] __attribute__((aligned(4096))); /* table, data, table */

static inline uint32_t rd(uint32_t va)
{
	uint32_t v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(va) : "memory");
	return v;
}
static inline void wr(uint32_t va, uint32_t v)
{
	__asm__ volatile("movl %1, (%0)" : : "r"(va), "r"(v) : "memory");
}

/* Address space i: the boot directory, with its own table for the test region. */
static uint32_t space(unsigned i)
{
	memcpy(as_pd[i], rt_page_dir, PAGE_SIZE);
	memcpy(as_pt[i], test_pte(0), PAGE_SIZE);
	as_pd[i][TEST_REGION >> 22] = (uint32_t)as_pt[i] | PTE_P | PTE_W | PTE_U;
	return (uint32_t)as_pd[i];
}

static void c_two_spaces(void)
{
	uint32_t va = test_va(AS_PAGE), a = space(0), b = space(1);

	as_pt[0][AS_PAGE] = AS_FRAME(0) | PTE_P | PTE_W;
	as_pt[1][AS_PAGE] = AS_FRAME(1) | PTE_P | PTE_W;
	wr(AS_FRAME(0), 0xA0);
	wr(AS_FRAME(1), 0xB0);
	wr(AS_FRAME(1) + 0x800, 0);
	for (uint32_t i = 0; i < 8; i++) {
		write_cr3(a);
		EXPECT_EQ("space A reads its frame", rd(va), 0xA0 + i);
		wr(va, 0xA1 + i);
		wr(va + 0x800, 0xAA00 + i);
		write_cr3(b);
		EXPECT_EQ("space B reads its frame", rd(va), 0xB0 + i);
		wr(va, 0xB1 + i);
		EXPECT_EQ("A's write is not in B", rd(va + 0x800), i ? 0xBB00 + i - 1 : 0);
		wr(va + 0x800, 0xBB00 + i);
	}
	write_cr3((uint32_t)rt_page_dir);
	EXPECT_EQ("frame A", rd(AS_FRAME(0) + 0x800), 0xAA07);
	EXPECT_EQ("frame B", rd(AS_FRAME(1) + 0x800), 0xBB07);
}

/* A PTE and a PDE of B change while A is current (no invlpg): B's CR3 load sees both. */
static void c_change_not_current(void)
{
	uint32_t va = test_va(AS_PAGE + 1), a = space(0), b = space(1);

	as_pt[1][AS_PAGE + 1] = AS_FRAME(2) | PTE_P | PTE_W;
	wr(AS_FRAME(2), 0x2222);
	wr(AS_FRAME(3), 0x3333);
	wr(AS_FRAME(4), 0x4444);
	write_cr3(b);
	EXPECT_EQ("B before", rd(va), 0x2222);
	write_cr3(a);
	as_pt[1][AS_PAGE + 1] = AS_FRAME(3) | PTE_P | PTE_W;
	write_cr3(b);
	EXPECT_EQ("B after its PTE changed in A", rd(va), 0x3333);
	write_cr3(a);
	/* B's directory entry now names A's table (a PDE change while not current). */
	as_pt[0][AS_PAGE + 1] = AS_FRAME(4) | PTE_P | PTE_W;
	as_pd[1][TEST_REGION >> 22] = (uint32_t)as_pt[0] | PTE_P | PTE_W | PTE_U;
	write_cr3(b);
	EXPECT_EQ("B after its PDE changed in A", rd(va), 0x4444);
	write_cr3(a);
	as_pd[1][TEST_REGION >> 22] = (uint32_t)as_pt[1] | PTE_P | PTE_W | PTE_U;
	as_pt[1][AS_PAGE + 1] = 0;
	write_cr3(b);
	__asm__ volatile(ST_ARM "movl (%0), %%eax" ST_RESUME : : "r"(va) : "eax", "memory");
	expect_fault("B after its PTE was cleared in A", 14, 0, st_at);
	write_cr3((uint32_t)rt_page_dir);
}

/* One table in two directories: a PTE changed in A (no invlpg), then B loaded. */
static void c_shared_table(void)
{
	uint32_t va = test_va(AS_PAGE + 2), a = space(0), b = space(1);

	as_pd[1][TEST_REGION >> 22] = (uint32_t)as_pt[0] | PTE_P | PTE_W | PTE_U;
	as_pt[0][AS_PAGE + 2] = AS_FRAME(5) | PTE_P | PTE_W;
	wr(AS_FRAME(5), 0x5555);
	wr(AS_FRAME(6), 0x6666);
	write_cr3(a);
	EXPECT_EQ("A", rd(va), 0x5555);
	write_cr3(b);
	EXPECT_EQ("B", rd(va), 0x5555);
	write_cr3(a);
	as_pt[0][AS_PAGE + 2] = AS_FRAME(6) | PTE_P | PTE_W;
	write_cr3(b);
	EXPECT_EQ("B after the shared PTE changed in A", rd(va), 0x6666);
	write_cr3(a);
	EXPECT_EQ("A after a reload", rd(va), 0x6666);
	write_cr3((uint32_t)rt_page_dir);
}

/* More address spaces than a shadow cache holds, round robin, each its own frame. */
static void c_many_spaces(void)
{
	uint32_t va = test_va(AS_PAGE + 3), cr3[NSPACE];

	for (unsigned i = 0; i < NSPACE; i++) {
		cr3[i] = space(i);
		as_pt[i][AS_PAGE + 3] = AS_FRAME(8 + i) | PTE_P | PTE_W;
		wr(AS_FRAME(8 + i), 0);
	}
	for (uint32_t r = 0; r < 4; r++)
		for (unsigned i = 0; i < NSPACE; i++) {
			write_cr3(cr3[i]);
			EXPECT_EQ("own frame's count", rd(va), r);
			wr(va, r + 1);
		}
	/* A directory page rewritten as another space's directory, then loaded. */
	memcpy(as_pd[0], as_pd[1], PAGE_SIZE);
	write_cr3(cr3[0]);
	EXPECT_EQ("directory 0 now maps space 1's frame", rd(va), 4);
	write_cr3((uint32_t)rt_page_dir);
	for (unsigned i = 0; i < NSPACE; i++)
		EXPECT_EQ("frame count", rd(AS_FRAME(8 + i)), 4);
}

/* Global pages: after a CR4.PGE toggle or invlpg a changed global PTE must be seen. */
static void c_global(void)
{
	uint32_t va = test_va(AS_PAGE + 4), a = space(0), b = space(1), cr4 = read_cr4();

	if (!st_pge) {
		st_skip("only with 'pge' on the command line");
		return;
	}
	if (!(cpu_features() & (1u << 13))) {
		st_fail("'pge' on the command line, but cpuid has no PGE");
		return;
	}
	wr(AS_FRAME(20), 0x20);
	wr(AS_FRAME(21), 0x21);
	wr(AS_FRAME(22), 0x22);
	as_pt[0][AS_PAGE + 4] = AS_FRAME(20) | PTE_P | PTE_W | PTE_G;
	as_pt[1][AS_PAGE + 4] = AS_FRAME(20) | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4 | CR4_PGE);
	write_cr3(a);
	EXPECT_EQ("global in A", rd(va), 0x20);
	write_cr3(b);
	EXPECT_EQ("global in B", rd(va), 0x20);
	wr(va + 4, 0x2B);
	write_cr3(a);
	EXPECT_EQ("B's write through the global page", rd(va + 4), 0x2B);
	as_pt[0][AS_PAGE + 4] = AS_FRAME(21) | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4);
	write_cr4(cr4 | CR4_PGE); /* flushes global entries too (SDM Vol 3A 4.10.4.1) */
	EXPECT_EQ("changed global PTE after a PGE toggle", rd(va), 0x21);
	as_pt[0][AS_PAGE + 4] = AS_FRAME(22) | PTE_P | PTE_W | PTE_G;
	invlpg(va);
	EXPECT_EQ("changed global PTE after invlpg", rd(va), 0x22);
	as_pt[1][AS_PAGE + 4] = AS_FRAME(21) | PTE_P | PTE_W | PTE_G;
	invlpg(va); /* invalidates the global entry whatever space made it */
	write_cr3(b);
	EXPECT_EQ("B's changed global PTE after invlpg and a CR3 load", rd(va), 0x21);
	/* A global page of space 2 only; then other spaces (it may be seen there, and
	 * is not asserted), each after a PGE toggle: none may reach it any more. */
	as_pt[2][AS_PAGE + 6] = AS_FRAME(25) | PTE_P | PTE_W | PTE_G;
	wr(AS_FRAME(25), 0x25);
	write_cr3((uint32_t)as_pd[2]);
	EXPECT_EQ("space 2's global page", rd(test_va(AS_PAGE + 6)), 0x25);
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < NSPACE; i++) {
			if (i == 2)
				continue;
			if (pass == 0)
				space(i);
			write_cr3((uint32_t)as_pd[i]);
			write_cr4(cr4);
			write_cr4(cr4 | CR4_PGE);
			st_nfaults = 0;
			__asm__ volatile(ST_ARM "movl (%0), %%eax" ST_RESUME
			                 :
			                 : "r"(test_va(AS_PAGE + 6))
			                 : "eax", "memory");
			expect_fault("space 2's global page elsewhere after a PGE toggle", 14, 0,
			             st_at);
		}
	write_cr4(cr4);
	write_cr3((uint32_t)rt_page_dir);
}

/* mov $v, %eax; ret */
static void put_fn(uint32_t pa, uint8_t v)
{
	const uint8_t code[] = {0xb8, v, 0, 0, 0, 0xc3};

	memcpy((void *)pa, code, sizeof(code));
}

static uint32_t call_at(uint32_t va)
{
	uint32_t (*f)(void) = (uint32_t(*)(void))va;

	return f(); /* an indirect call: the jump caches, not a chain */
}

/*
 * Code on a global page, reached by indirect calls from two address spaces: a
 * translator may keep the jump there over CR3 loads (as a TLB keeps a global
 * entry), but after invlpg, a CR4.PGE toggle or a store into the code the call
 * must run what the page holds and maps now.
 */
static void c_global_code(void)
{
	uint32_t va = test_va(AS_PAGE + 8), a = space(0), b = space(1), cr4 = read_cr4();

	if (!st_pge) {
		st_skip("only with 'pge' on the command line");
		return;
	}
	put_fn(AS_FRAME(30), 1);
	put_fn(AS_FRAME(31), 2);
	as_pt[0][AS_PAGE + 8] = AS_FRAME(30) | PTE_P | PTE_W | PTE_G;
	as_pt[1][AS_PAGE + 8] = AS_FRAME(30) | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4 | CR4_PGE);
	for (unsigned i = 0; i < 4; i++) {
		write_cr3(i & 1 ? b : a);
		EXPECT_EQ("global code, both spaces", call_at(va), 1);
	}
	as_pt[0][AS_PAGE + 8] = AS_FRAME(31) | PTE_P | PTE_W | PTE_G;
	as_pt[1][AS_PAGE + 8] = AS_FRAME(31) | PTE_P | PTE_W | PTE_G;
	invlpg(va);
	EXPECT_EQ("global code remapped, after invlpg", call_at(va), 2);
	write_cr3(a);
	EXPECT_EQ("global code remapped, after invlpg and a CR3 load", call_at(va), 2);
	as_pt[0][AS_PAGE + 8] = AS_FRAME(30) | PTE_P | PTE_W | PTE_G;
	as_pt[1][AS_PAGE + 8] = AS_FRAME(30) | PTE_P | PTE_W | PTE_G;
	write_cr4(cr4);
	write_cr4(cr4 | CR4_PGE);
	EXPECT_EQ("global code remapped, after a PGE toggle", call_at(va), 1);
	write_cr3(b);
	EXPECT_EQ("global code remapped, after a PGE toggle, other space", call_at(va), 1);
	put_fn(AS_FRAME(30), 3); /* a store into the code, through another mapping */
	EXPECT_EQ("global code rewritten", call_at(va), 3);
	write_cr3(a);
	EXPECT_EQ("global code rewritten, other space", call_at(va), 3);
	write_cr4(cr4);
	write_cr3((uint32_t)rt_page_dir);
}

/* movl v, (va), expecting #PF (present, write: error code 3) */
static void store_faults(const char *what, uint32_t va, uint32_t v)
{
	st_nfaults = 0;
	__asm__ volatile(ST_ARM "movl %1, (%0)" ST_RESUME : : "r"(va), "r"(v) : "memory");
	expect_fault(what, 14, 0x3, st_at);
}

/*
 * A PTE that only loses D (a writeback) or W (copy-on-write), in a space that is not
 * current and in the current one (then invlpg): the next store sets D again, or
 * faults; reads go on. A translator may keep such a page mapped, read-only.
 */
static void c_pte_lose_write(void)
{
	uint32_t va = test_va(AS_PAGE + 9), a = space(0), b = space(1), cr0 = read_cr0();
	uint32_t *pte = &as_pt[0][AS_PAGE + 9];

	write_cr0(cr0 | CR0_WP);
	wr(AS_FRAME(32), 0);
	*pte = AS_FRAME(32) | PTE_P | PTE_W;
	write_cr3(a);
	wr(va, 1);
	EXPECT_EQ("A and D after a store", *pte & (PTE_A | PTE_D), PTE_A | PTE_D);
	write_cr3(b);
	*pte &= ~PTE_D;
	write_cr3(a);
	wr(va, 2);
	EXPECT_EQ("D set again after it was cleared while not current", *pte & PTE_D, PTE_D);
	write_cr3(b);
	*pte &= ~PTE_W;
	write_cr3(a);
	EXPECT_EQ("read after W was cleared while not current", rd(va), 2);
	store_faults("store after W was cleared while not current", va, 3);
	*pte |= PTE_W;
	invlpg(va);
	wr(va, 4);
	*pte &= ~(PTE_W | PTE_D);
	invlpg(va);
	EXPECT_EQ("read after W was cleared, current", rd(va), 4);
	store_faults("store after W was cleared, current", va, 5);
	write_cr3((uint32_t)rt_page_dir);
	EXPECT_EQ("the frame holds the last store that landed", rd(AS_FRAME(32)), 4);
	write_cr0(cr0);
}

/* CR0.WP over a read-only supervisor page: a write faults with WP=1, lands with WP=0. */
static void c_wp_toggle(void)
{
	uint32_t va = test_va(AS_PAGE + 5), cr0 = read_cr0();

	wr(AS_FRAME(24), 0);
	set_pte(AS_PAGE + 5, AS_FRAME(24), PTE_P); /* read-only */
	for (uint32_t i = 0; i < 3; i++) {
		write_cr0(cr0 | CR0_WP);
		st_nfaults = 0;
		__asm__ volatile(ST_ARM "movl %1, (%0)" ST_RESUME
		                 :
		                 : "r"(va), "r"(0xF0 + i)
		                 : "memory");
		expect_fault("write with WP=1", 14, 0x3, st_at);
		EXPECT_EQ("the faulting write left the frame", rd(AS_FRAME(24)),
		          i ? 0xE0 + i - 1 : 0);
		write_cr0(cr0 & ~CR0_WP);
		wr(va, 0xE0 + i);
		EXPECT_EQ("write with WP=0 landed", rd(AS_FRAME(24)), 0xE0 + i);
		EXPECT_EQ("read-only PTE dirty after it", *test_pte(AS_PAGE + 5) & (PTE_A | PTE_D),
		          PTE_A | PTE_D);
	}
	write_cr0(cr0);
}

/* A/D bits: one access sets them on its own PTE only, never on its neighbours. */
static void c_neighbour_ad(void)
{
	uint32_t base = AS_PAGE + 12, i; /* test pages 112-127: an aligned group of 16 */
	volatile uint32_t *pte = test_pte(base);

	for (i = 0; i < 16; i++) {
		wr(AS_FRAME(32 + i), 0x100 + i);
		/* even pages accessed before (A), every fourth also dirty (A|D) */
		pte[i] =
		    AS_FRAME(32 + i) | PTE_P | PTE_W | (i % 2 ? 0 : PTE_A) | (i % 4 ? 0 : PTE_D);
	}
	write_cr3(read_cr3());
	EXPECT_EQ("read page 5", rd(test_va(base + 5)), 0x105);
	for (i = 0; i < 16; i++) {
		uint32_t want = (i % 2 && i != 5 ? 0 : PTE_A) | (i % 4 ? 0 : PTE_D);

		EXPECT_EQ("A|D of the group after one read", pte[i] & (PTE_A | PTE_D), want);
	}
	EXPECT_EQ("read page 2 (accessed, clean)", rd(test_va(base + 2)), 0x102);
	EXPECT_EQ("page 2 still clean", pte[2] & PTE_D, 0);
	wr(test_va(base + 2), 0x202);
	EXPECT_EQ("page 2 dirty after a write", pte[2] & (PTE_A | PTE_D), PTE_A | PTE_D);
	EXPECT_EQ("read page 3 (never accessed)", rd(test_va(base + 3)), 0x103);
	EXPECT_EQ("page 3 accessed, clean", pte[3] & (PTE_A | PTE_D), PTE_A);
	wr(test_va(base + 4), 0x204);
	EXPECT_EQ("page 4 (dirty before)", pte[4] & (PTE_A | PTE_D), PTE_A | PTE_D);
	/* The guest clears A and D of page 6 and flushes: the next access sets them again. */
	(void)rd(test_va(base + 6));
	pte[6] &= ~(PTE_A | PTE_D);
	invlpg(test_va(base + 6));
	wr(test_va(base + 6), 0x206);
	EXPECT_EQ("page 6 after clear, invlpg, write", pte[6] & (PTE_A | PTE_D), PTE_A | PTE_D);
	EXPECT_EQ("page 7 untouched throughout", pte[7] & (PTE_A | PTE_D), 0);
	EXPECT_EQ("frame 6", rd(AS_FRAME(38)), 0x206);
}

/*
 * A page table freed (no directory points to it any more), written as data, then a
 * table again, changed while its space is not current: every CR3 load sees the new
 * entries (SDM Vol 3A 4.10.4.1). A translator may stop tracing the freed page.
 */
static void c_table_reused(void)
{
	uint32_t va = test_va(AS_PAGE + 7), a = space(0), b = space(1), i;
	uint32_t *t = as_reuse, pde = (uint32_t)as_reuse | PTE_P | PTE_W | PTE_U;

	memcpy(t, test_pte(0), PAGE_SIZE);
	t[AS_PAGE + 7] = AS_FRAME(50) | PTE_P | PTE_W;
	wr(AS_FRAME(50), 0x5050);
	wr(AS_FRAME(51), 0x5151);
	wr(AS_FRAME(52), 0x5252);
	wr(AS_FRAME(53), 0x5353);
	as_pt[0][AS_PAGE + 7] = AS_FRAME(53) | PTE_P | PTE_W;
	as_pd[0][TEST_REGION >> 22] = pde;
	write_cr3(a);
	EXPECT_EQ("A through the table", rd(va), 0x5050);
	write_cr3(b);
	as_pd[0][TEST_REGION >> 22] = (uint32_t)as_pt[0] | PTE_P | PTE_W | PTE_U; /* freed */
	for (i = 0; i < 1024; i++)
		t[i] = 0xDEAD0000u + i; /* reused as data */
	EXPECT_EQ("the freed table as data", rd((uint32_t)&t[AS_PAGE + 7]),
	          0xDEAD0000u + AS_PAGE + 7);
	write_cr3(a);
	EXPECT_EQ("A through its other table", rd(va), 0x5353);
	write_cr3(b);
	memcpy(t, test_pte(0), PAGE_SIZE); /* a table again, of A */
	t[AS_PAGE + 7] = AS_FRAME(51) | PTE_P | PTE_W;
	as_pd[0][TEST_REGION >> 22] = pde;
	write_cr3(a);
	EXPECT_EQ("A through the reused table", rd(va), 0x5151);
	write_cr3(b);
	t[AS_PAGE + 7] = AS_FRAME(52) | PTE_P | PTE_W; /* changed while A is not current */
	write_cr3(a);
	EXPECT_EQ("A after the reused table changed", rd(va), 0x5252);
	wr(va, 0x5253);
	write_cr3((uint32_t)rt_page_dir);
	EXPECT_EQ("frame 52", rd(AS_FRAME(52)), 0x5253);
	EXPECT_EQ("frame 51 untouched", rd(AS_FRAME(51)), 0x5151);
}

CHECK_LIST(as) = {
    {"as.two_spaces_one_va", c_two_spaces},
    {"as.pte_pde_changed_not_current", c_change_not_current},
    {"as.shared_table_two_spaces", c_shared_table},
    {"as.more_spaces_than_cached", c_many_spaces},
    {"as.global_pge_invlpg", c_global},
    {"as.global_code_jump", c_global_code},
    {"as.wp_toggle_ro_supervisor", c_wp_toggle},
    {"as.pte_loses_write", c_pte_lose_write},
    {"as.neighbour_ad_bits", c_neighbour_ad},
    {"as.table_freed_reused", c_table_reused},
    CHECK_END,
};
