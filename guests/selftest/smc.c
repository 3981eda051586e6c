/* smc.c: self-modifying code: patched immediates, stores into the instruction stream
 * just ahead, code written to fresh pages, through aliases, and remapped code pages. */
#include "st.h"

typedef uint32_t (*code_fn)(void);
extern uint32_t smc_get(void);
extern volatile uint32_t smc_get_imm;
extern uint32_t smc_loop(uint32_t n);
extern uint32_t smc_ahead(void);
extern void smc_ahead_restore(void);
extern const volatile uint8_t smc_ahead_insn[];

static uint8_t code_page[4096] __attribute__((aligned(4096)));

static uint32_t call_at(uint32_t va)
{
	__asm__ volatile("" ::: "memory");
	return ((code_fn)va)();
}

/* mov $v, %eax; ret */
static void put_mov_ret(uint32_t va, uint32_t v)
{
	volatile uint8_t *p = (volatile uint8_t *)va;
	p[0] = 0xB8;
	p[1] = (uint8_t)v;
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)(v >> 16);
	p[4] = (uint8_t)(v >> 24);
	p[5] = 0xC3;
}

static void c_patch_imm(void)
{
	static const uint32_t vals[] = {0x22222222, 0x33333333, 0x12345678, 0};
	uint32_t orig = smc_get_imm;

	EXPECT_EQ("unpatched", smc_get(), orig);
	for (unsigned i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		smc_get_imm = vals[i];
		EXPECT_EQ("after patching the immediate", smc_get(), vals[i]);
		EXPECT_EQ("called twice", smc_get(), vals[i]);
	}
	smc_get_imm = orig;
	EXPECT_EQ("restored", smc_get(), orig);
}

static void c_patch_loop(void)
{
	EXPECT_EQ("sum 1..100 via a loop patching its next instruction", smc_loop(100), 5050);
	EXPECT_EQ("sum 1..10 (second run)", smc_loop(10), 55);
	EXPECT_EQ("sum 1..1 (third run)", smc_loop(1), 1);
}

static void c_patch_opcode(void)
{
	EXPECT_EQ("rewritten next instruction executed", smc_ahead(), 3);
	EXPECT_EQ("second run", smc_ahead(), 3);
	smc_ahead_restore();
	EXPECT_EQ("original first byte back", smc_ahead_insn[0], 0xB8);
	EXPECT_EQ("after restoring the original bytes", smc_ahead(), 3);
}

static void c_fresh_page(void)
{
	uint32_t va = (uint32_t)code_page;
	volatile uint8_t *p = code_page;

	put_mov_ret(va, 0xC0DE0001);
	EXPECT_EQ("code written to a fresh page", call_at(va), 0xC0DE0001);
	put_mov_ret(va, 0xC0DE0002);
	EXPECT_EQ("rewritten", call_at(va), 0xC0DE0002);
	p[0] = 0x31; /* xor %eax,%eax; inc %eax; inc %eax; ret */
	p[1] = 0xC0;
	p[2] = 0x40;
	p[3] = 0x40;
	p[4] = 0xC3;
	EXPECT_EQ("different instructions at the same address", call_at(va), 2);
	put_mov_ret(va + 0xF00, 0xC0DE0F00);
	EXPECT_EQ("code later in the page", call_at(va + 0xF00), 0xC0DE0F00);
}

static void c_alias_exec(void)
{
	uint32_t f = SCRATCH_FRAME(30), w = test_va(30), x = test_va(31);

	set_pte(30, f, PTE_P | PTE_W); /* written through w */
	set_pte(31, f, PTE_P);         /* executed through x */
	put_mov_ret(w + 0x10, 0xA1150001);
	EXPECT_EQ("written via one VA, run via another", call_at(x + 0x10), 0xA1150001);
	put_mov_ret(w + 0x10, 0xA1150002);
	EXPECT_EQ("rewritten via the alias", call_at(x + 0x10), 0xA1150002);
	put_mov_ret(f + 0x10, 0xA1150003);
	EXPECT_EQ("rewritten via the identity map", call_at(x + 0x10), 0xA1150003);
	EXPECT_EQ("run via the identity map", call_at(f + 0x10), 0xA1150003);
}

static void c_remap_exec(void)
{
	uint32_t x = test_va(32);

	put_mov_ret(SCRATCH_FRAME(32), 0xF0000001);
	put_mov_ret(SCRATCH_FRAME(33), 0xF0000002);
	set_pte(32, SCRATCH_FRAME(32), PTE_P);
	EXPECT_EQ("frame 1", call_at(x), 0xF0000001);
	set_pte(32, SCRATCH_FRAME(33), PTE_P); /* invlpg */
	EXPECT_EQ("same VA, frame 2 after invlpg", call_at(x), 0xF0000002);
	*test_pte(32) = SCRATCH_FRAME(32) | PTE_P;
	write_cr3(read_cr3());
	EXPECT_EQ("frame 1 again after mov cr3", call_at(x), 0xF0000001);
}

CHECK_LIST(smc) = {
    {"smc.patch_immediate", c_patch_imm},
    {"smc.patch_next_insn_in_loop", c_patch_loop},
    {"smc.rewrite_next_opcode", c_patch_opcode},
    {"smc.fresh_page", c_fresh_page},
    {"smc.write_alias_exec_other_va", c_alias_exec},
    {"smc.remapped_code_page", c_remap_exec},
    CHECK_END,
};
