/* tc.c: code across address spaces: two page directories mapping one virtual code
 * address to different frames (called, and reached by direct jumps from a shared
 * page and from within the page), a store through an alias in the other directory,
 * and a code page remapped with invlpg. A translator that keeps its translations
 * across CR3 loads must still run what each address space maps. */
#include "st.h"

#define TC_CODE 200   /* test page: the code address both directories map, differently */
#define TC_SHARED 201 /* test page: code mapped to one frame in both directories */
#define TC_ALIAS 202  /* test page: in directory B, a writable alias of A's code frame */

static uint32_t pdb[1024] __attribute__((aligned(4096)));
static uint32_t ptb[1024] __attribute__((aligned(4096)));

typedef uint32_t (*code_fn)(void);

static uint32_t call_at(uint32_t va)
{
	__asm__ volatile("" ::: "memory");
	return ((code_fn)va)();
}

/* mov $v, %eax; ret */
static void put_mov_ret(uint32_t pa, uint32_t v)
{
	volatile uint8_t *p = (volatile uint8_t *)pa;

	p[0] = 0xB8;
	p[1] = (uint8_t)v;
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)(v >> 16);
	p[4] = (uint8_t)(v >> 24);
	p[5] = 0xC3;
}

/* At pa (run at va): opcode (e8 call / e9 jmp) rel32 to target, then add $1, %eax; ret. */
static void put_branch(uint32_t pa, uint32_t va, uint8_t opcode, uint32_t target)
{
	volatile uint8_t *p = (volatile uint8_t *)pa;
	uint32_t rel = target - (va + 5);

	p[0] = opcode;
	p[1] = (uint8_t)rel;
	p[2] = (uint8_t)(rel >> 8);
	p[3] = (uint8_t)(rel >> 16);
	p[4] = (uint8_t)(rel >> 24);
	p[5] = 0x83; /* add $1, %eax */
	p[6] = 0xC0;
	p[7] = 0x01;
	p[8] = 0xC3;
}

/*
 * Directory A (the running one) maps TC_CODE to frame FA, directory B to FB; both
 * map TC_SHARED to frame FS. Each frame: mov $id, %eax; ret at 0, and at 0x100
 * a jmp back to offset 0 of the same virtual page.
 */
#define FA SCRATCH_FRAME(40)
#define FB SCRATCH_FRAME(41)
#define FS SCRATCH_FRAME(42)

static void two_spaces(void)
{
	uint32_t x = test_va(TC_CODE), s = test_va(TC_SHARED);

	put_mov_ret(FA, 0xAAAA0001);
	put_mov_ret(FB, 0xBBBB0001);
	put_branch(FA + 0x100, x + 0x100, 0xE9, x);
	put_branch(FB + 0x100, x + 0x100, 0xE9, x);
	put_branch(FS, s, 0xE8, x);                 /* call x; add $1; ret */
	put_branch(FS + 0x100, s + 0x100, 0xE9, x); /* jmp x (its ret returns to our caller) */
	set_pte(TC_CODE, FA, PTE_P);
	set_pte(TC_SHARED, FS, PTE_P);
	memcpy(pdb, rt_page_dir, sizeof(pdb));
	memcpy(ptb, test_pte(0), sizeof(ptb));
	ptb[TC_CODE] = FB | PTE_P;
	ptb[TC_SHARED] = FS | PTE_P;
	ptb[TC_ALIAS] = FA | PTE_P | PTE_W;
	pdb[TEST_REGION >> 22] = (uint32_t)ptb | PTE_P | PTE_W | PTE_U;
}

static void c_same_va(void)
{
	uint32_t x = test_va(TC_CODE);

	two_spaces();
	EXPECT_EQ("directory A's code", call_at(x), 0xAAAA0001);
	for (int i = 0; i < 3; i++) {
		write_cr3((uint32_t)pdb);
		EXPECT_EQ("directory B's code at the same address", call_at(x), 0xBBBB0001);
		EXPECT_EQ("B: jmp within the page", call_at(x + 0x100), 0xBBBB0001);
		write_cr3((uint32_t)rt_page_dir);
		EXPECT_EQ("directory A's code again", call_at(x), 0xAAAA0001);
		EXPECT_EQ("A: jmp within the page", call_at(x + 0x100), 0xAAAA0001);
	}
}

static void c_from_shared(void)
{
	uint32_t s = test_va(TC_SHARED);

	two_spaces();
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ("A: call from the shared page", call_at(s), 0xAAAA0002);
		EXPECT_EQ("A: jmp from the shared page", call_at(s + 0x100), 0xAAAA0001);
		write_cr3((uint32_t)pdb);
		EXPECT_EQ("B: call from the shared page", call_at(s), 0xBBBB0002);
		EXPECT_EQ("B: jmp from the shared page", call_at(s + 0x100), 0xBBBB0001);
		write_cr3((uint32_t)rt_page_dir);
	}
}

static void c_smc_alias(void)
{
	uint32_t x = test_va(TC_CODE), s = test_va(TC_SHARED);

	two_spaces();
	EXPECT_EQ("A's code", call_at(x), 0xAAAA0001);
	EXPECT_EQ("A's code called from the shared page", call_at(s), 0xAAAA0002);
	for (uint32_t v = 0xAAAA0010; v < 0xAAAA0013; v++) {
		write_cr3((uint32_t)pdb);
		put_mov_ret(test_va(TC_ALIAS), v); /* A's frame, written from B */
		EXPECT_EQ("B's code unchanged", call_at(x), 0xBBBB0001);
		write_cr3((uint32_t)rt_page_dir);
		EXPECT_EQ("A runs what B wrote into its frame", call_at(x), v);
		EXPECT_EQ("... also from the shared page", call_at(s), v + 1);
	}
}

static void c_invlpg_remap(void)
{
	uint32_t x = test_va(TC_CODE), s = test_va(TC_SHARED);

	two_spaces();
	for (int i = 0; i < 3; i++) {
		set_pte(TC_CODE, FA, PTE_P); /* invlpg */
		EXPECT_EQ("frame A", call_at(x), 0xAAAA0001);
		EXPECT_EQ("frame A from the shared page", call_at(s), 0xAAAA0002);
		EXPECT_EQ("frame A, jmp within the page", call_at(x + 0x100), 0xAAAA0001);
		set_pte(TC_CODE, FB, PTE_P);
		EXPECT_EQ("frame B after invlpg", call_at(x), 0xBBBB0001);
		EXPECT_EQ("frame B from the shared page", call_at(s), 0xBBBB0002);
		EXPECT_EQ("frame B, jmp within the page", call_at(x + 0x100), 0xBBBB0001);
	}
	set_pte(TC_CODE, 0, 0);
	set_pte(TC_SHARED, 0, 0);
}

/*
 * A's code page remapped by a store to A's table while B runs, with no invlpg: the
 * CR3 load back to A flushes the TLB, so A runs the new frame, whether the new
 * entry's A bit is set (a translator that keeps A's jump caches across the switch
 * must see the frame changed) or clear.
 */
static void c_remap_while_away(void)
{
	uint32_t x = test_va(TC_CODE), s = test_va(TC_SHARED);

	two_spaces();
	EXPECT_EQ("A's code", call_at(x), 0xAAAA0001);
	EXPECT_EQ("A's code from the shared page", call_at(s), 0xAAAA0002);
	for (int i = 0; i < 4; i++) {
		uint32_t f = i & 1 ? FA : FB, id = i & 1 ? 0xAAAA0001 : 0xBBBB0001;

		write_cr3((uint32_t)pdb);
		EXPECT_EQ("B's code", call_at(x), 0xBBBB0001);
		*test_pte(TC_CODE) = f | PTE_P | (i & 2 ? PTE_A : 0); /* A's table, from B */
		write_cr3((uint32_t)rt_page_dir);
		EXPECT_EQ("A runs the frame its table maps now", call_at(x), id);
		EXPECT_EQ("... also from the shared page", call_at(s), id + 1);
		EXPECT_EQ("... and by a jmp within the page", call_at(x + 0x100), id);
	}
	set_pte(TC_CODE, 0, 0);
	set_pte(TC_SHARED, 0, 0);
}

CHECK_LIST(tc) = {
    {"tc.cr3_same_va_other_code", c_same_va},
    {"tc.cr3_direct_branch_from_shared_page", c_from_shared},
    {"tc.smc_alias_in_other_space", c_smc_alias},
    {"tc.invlpg_remapped_code_page", c_invlpg_remap},
    {"tc.remap_while_away_no_invlpg", c_remap_while_away},
    CHECK_END,
};
