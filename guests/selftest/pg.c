/* pg.c: paging: 4 KiB and 4 MiB mappings, A/D bits, invlpg, CR3 reloads and switches,
 * aliasing, demand paging with a restarted rep stos. */
#include "st.h"

#define PSE_PA 0x00400000u

static uint32_t pd2[1024] __attribute__((aligned(4096)));
static uint32_t pt2[1024] __attribute__((aligned(4096)));

/* Memory accesses that are also compiler barriers: page-table words the CPU updates
 * (A/D bits) must be reloaded after them. */
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

static void c_map_4k(void)
{
	uint32_t f = SCRATCH_FRAME(10);

	wr(f, 0x11223344);
	wr(f + 0xFFC, 0x55667788);
	set_pte(10, f, PTE_P | PTE_W);
	EXPECT_EQ("first word via the mapping", rd(test_va(10)), 0x11223344);
	EXPECT_EQ("last word via the mapping", rd(test_va(10) + 0xFFC), 0x55667788);
	wr(test_va(10) + 0x800, 0xCAFEF00D);
	EXPECT_EQ("write via the mapping seen in the frame", rd(f + 0x800), 0xCAFEF00D);
}

static void c_map_pse(void)
{
	const uint32_t last = PSE_SIZE - 4;

	if (!st_has_pse) {
		st_skip("cpuid: no PSE");
		return;
	}
	EXPECT(map_pse(PSE_VA, PSE_PA, PTE_W) == 0, "map_pse failed");
	wr(PSE_PA, 0x5EA15EA1);
	wr(PSE_PA + 0x123458, 0x0BADCAFE);
	wr(PSE_PA + last, 0xA11A5000);
	EXPECT_EQ("PSE first word", rd(PSE_VA), 0x5EA15EA1);
	EXPECT_EQ("PSE middle word", rd(PSE_VA + 0x123458), 0x0BADCAFE);
	EXPECT_EQ("PSE last word", rd(PSE_VA + last), 0xA11A5000);
	wr(PSE_VA + 0x3FF000, 0x0DDBA11);
	EXPECT_EQ("PSE write seen physically", rd(PSE_PA + 0x3FF000), 0x0DDBA11);
}

static void c_ad_4k(void)
{
	volatile uint32_t *pte = test_pte(11), *pde = &rt_page_dir[TEST_REGION >> 22];

	set_pte(11, SCRATCH_FRAME(11), PTE_P | PTE_W);
	*pde &= ~PTE_A;
	write_cr3(read_cr3());
	EXPECT_EQ("A|D before any access", *pte & (PTE_A | PTE_D), 0);
	(void)rd(test_va(11) + 0x40);
	EXPECT_EQ("PTE A|D after a read", *pte & (PTE_A | PTE_D), PTE_A);
	EXPECT_EQ("PDE A after a read", *pde & PTE_A, PTE_A);
	wr(test_va(11) + 0x40, 1);
	EXPECT_EQ("PTE A|D after a write", *pte & (PTE_A | PTE_D), PTE_A | PTE_D);
	/* Write first, on a fresh PTE: both bits at once. */
	set_pte(12, SCRATCH_FRAME(12), PTE_P | PTE_W);
	wr(test_va(12), 2);
	EXPECT_EQ("PTE A|D after a first write",
	          *(volatile uint32_t *)test_pte(12) & (PTE_A | PTE_D), PTE_A | PTE_D);
}

static void c_ad_pse(void)
{
	volatile uint32_t *pde = &rt_page_dir[PSE_VA >> 22];

	if (!st_has_pse) {
		st_skip("cpuid: no PSE");
		return;
	}
	map_pse(PSE_VA, PSE_PA, PTE_W);
	EXPECT_EQ("PDE A|D before any access", *pde & (PTE_A | PTE_D), 0);
	(void)rd(PSE_VA + 0x2000);
	EXPECT_EQ("PDE A|D after a read", *pde & (PTE_A | PTE_D), PTE_A);
	wr(PSE_VA + 0x2000, 3);
	EXPECT_EQ("PDE A|D after a write", *pde & (PTE_A | PTE_D), PTE_A | PTE_D);
}

static void c_invlpg(void)
{
	wr(SCRATCH_FRAME(13), 0xAAAA0013);
	wr(SCRATCH_FRAME(14), 0xBBBB0014);
	set_pte(13, SCRATCH_FRAME(13), PTE_P | PTE_W);
	EXPECT_EQ("old frame", rd(test_va(13)), 0xAAAA0013);
	*test_pte(13) = SCRATCH_FRAME(14) | PTE_P | PTE_W;
	invlpg(test_va(13));
	EXPECT_EQ("new frame after invlpg", rd(test_va(13)), 0xBBBB0014);
	*test_pte(13) = 0;
	invlpg(test_va(13));
	__asm__ volatile(ST_ARM "movl (%0), %%eax" ST_RESUME
	                 :
	                 : "r"(test_va(13))
	                 : "eax", "memory");
	expect_fault("read after unmap + invlpg", 14, 0, st_at);
}

static void c_cr3_reload(void)
{
	wr(SCRATCH_FRAME(13), 0xAAAA0013);
	wr(SCRATCH_FRAME(14), 0xBBBB0014);
	set_pte(13, SCRATCH_FRAME(13), PTE_P | PTE_W);
	EXPECT_EQ("old frame", rd(test_va(13)), 0xAAAA0013);
	*test_pte(13) = SCRATCH_FRAME(14) | PTE_P | PTE_W;
	write_cr3(read_cr3()); /* flushes every non-global translation */
	EXPECT_EQ("new frame after mov cr3", rd(test_va(13)), 0xBBBB0014);
}

static void c_cr3_switch(void)
{
	uint32_t va = test_va(15);

	wr(SCRATCH_FRAME(15), 0x0000D1D1);
	wr(SCRATCH_FRAME(16), 0x0000D2D2);
	set_pte(15, SCRATCH_FRAME(15), PTE_P | PTE_W);
	memcpy(pd2, rt_page_dir, sizeof(pd2));
	memcpy(pt2, test_pte(0), sizeof(pt2));
	pt2[15] = SCRATCH_FRAME(16) | PTE_P | PTE_W;
	pd2[TEST_REGION >> 22] = (uint32_t)pt2 | PTE_P | PTE_W | PTE_U;
	EXPECT_EQ("directory 1", rd(va), 0x0000D1D1);
	for (int i = 0; i < 3; i++) {
		write_cr3((uint32_t)pd2);
		EXPECT_EQ("cr3 readback", read_cr3(), (uint32_t)pd2);
		EXPECT_EQ("directory 2", rd(va), 0x0000D2D2);
		wr(va + 4, 0x22 + (uint32_t)i);
		write_cr3((uint32_t)rt_page_dir);
		EXPECT_EQ("directory 1 again", rd(va), 0x0000D1D1);
		EXPECT_EQ("write in directory 2 went to its frame", rd(SCRATCH_FRAME(16) + 4),
		          0x22 + (uint32_t)i);
	}
}

static void c_alias(void)
{
	uint32_t f = SCRATCH_FRAME(17), a = test_va(17), b = test_va(18);

	set_pte(17, f, PTE_P | PTE_W);
	set_pte(18, f, PTE_P | PTE_W);
	for (uint32_t i = 0; i < 4; i++) {
		wr(a + i * 0x400, 0xA000 + i);
		EXPECT_EQ("alias B sees A's write", rd(b + i * 0x400), 0xA000 + i);
		wr(b + i * 0x400 + 4, 0xB000 + i);
		EXPECT_EQ("alias A sees B's write", rd(a + i * 0x400 + 4), 0xB000 + i);
		EXPECT_EQ("frame sees B's write", rd(f + i * 0x400 + 4), 0xB000 + i);
	}
}

/* Demand paging: the #PF handler maps the faulting page and retries. */
static volatile uint32_t dp_ecx, dp_edi;

static void pf_map(struct trapframe *tf)
{
	uint32_t cr2 = read_cr2();
	unsigned page = (cr2 - TEST_REGION) / PAGE_SIZE;

	st_record(tf);
	if (st_nfaults == 1) {
		dp_ecx = tf->ecx;
		dp_edi = tf->edi;
	}
	if (cr2 < TEST_REGION || page >= 32 || st_nfaults > 4)
		st_abort("demand paging: unexpected #PF");
	set_pte(page, SCRATCH_FRAME(page), PTE_P | PTE_W);
}

static void c_demand(void)
{
	uint32_t start = test_va(20) + 0xFF0, n = 1024, ecx = n, edi = start;

	for (unsigned i = 0; i < 2; i++)
		memset((void *)SCRATCH_FRAME(20 + i), 0, PAGE_SIZE);
	set_pte(20, SCRATCH_FRAME(20), PTE_P | PTE_W); /* page 21 is not present */
	trap_set_handler(14, pf_map);
	__asm__ volatile("movl $1f, st_at\n1:\trep stosl"
	                 : "+c"(ecx), "+D"(edi)
	                 : "a"(0x77777777u)
	                 : "memory");
	EXPECT_EQ("page faults", st_nfaults, 1);
	EXPECT_EQ("fault eip (the rep stos)", st_faults[0].eip, st_at);
	EXPECT_EQ("cr2", st_faults[0].cr2, test_va(21));
	EXPECT_EQ("ecx at the fault (4 stored)", dp_ecx, n - 4);
	EXPECT_EQ("edi at the fault", dp_edi, test_va(21));
	EXPECT_EQ("ecx at the end", ecx, 0);
	EXPECT_EQ("edi at the end", edi, start + 4 * n);
	EXPECT_EQ("last word before the boundary", rd(SCRATCH_FRAME(20) + 0xFFC), 0x77777777);
	EXPECT_EQ("last word stored", rd(SCRATCH_FRAME(21) + 0xFEC), 0x77777777);
	EXPECT_EQ("word after the end", rd(SCRATCH_FRAME(21) + 0xFF0), 0);
}

CHECK_LIST(pg) = {
    {"pg.map_4k", c_map_4k},
    {"pg.map_pse_4m", c_map_pse},
    {"pg.accessed_dirty_4k", c_ad_4k},
    {"pg.accessed_dirty_pse", c_ad_pse},
    {"pg.invlpg", c_invlpg},
    {"pg.cr3_reload_flush", c_cr3_reload},
    {"pg.cr3_switch_directories", c_cr3_switch},
    {"pg.alias_two_vas", c_alias},
    {"pg.demand_paging_rep_stos", c_demand},
    CHECK_END,
};
