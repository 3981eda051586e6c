/*
 * shx.c: attack guest for bt's shadow page tables (src/bt/bt_shadow.c, bt_mmu.c,
 * bt_pt_untrace.c): tracing write-protects mappings (V2P_TW) and untracing makes them
 * writable again, tables whose directory entry goes are untraced at once, dropped spaces
 * keep their global entries. A store straddling two traced tables; a store straddling
 * 4 GiB into page 0 when page 0 is a page table (the wrap mirror); a page that is code
 * and a page table at once; a table freed, written as data, then a table again; the
 * table of a cached space that is not current rewritten, then that space loaded; a
 * directory dropped and its page reused as another space's directory; CR0.WP toggled
 * over a read-only page that is a page table; a hot store into the next instruction on a
 * page that is code and a page table (adapted: the store must still be seen); a global
 * 4 MiB page seen by two spaces, cleared from one (the other dropped) and invlpg'd at
 * another address in it (the other space must not keep it). Each line is what
 * qemu-system-i386 prints.
 */
#include "rt.h"

#define RECOVER_NAME "shx"
#include "recover.h"

#define VA_T1 0x50000000u /* mapped by tabs[0] */
#define VA_T2 0x50400000u /* mapped by tabs[1] */
#define VA_C 0x51000000u  /* the code-and-table page, through tabs[2] */
#define VA_R 0x52000000u  /* through tabs[3]: freed, data, table again */
#define VA_B 0x53000000u  /* space B's own table tabs[4] */
#define VA_W 0x54000000u  /* a read-only view of tabs[5] */
#define VA_TOP 0xfffff000u

static uint32_t tabs[6][1024] __attribute__((aligned(4096)));
static uint32_t data[8][1024] __attribute__((aligned(4096)));
static uint32_t dirs[3][1024] __attribute__((aligned(4096)));

static void pde_set(uint32_t va, const void *pt)
{
	rt_page_dir[va >> 22] = pt ? (uint32_t)pt | PTE_W | PTE_P : 0;
	write_cr3(read_cr3());
}

/* data[i][0] = 0x1000 + i: tells the frames apart */
static void init_data(void)
{
	for (unsigned i = 0; i < 8; i++)
		data[i][0] = 0x1000 + i;
}

/* tabs[0] and tabs[1] are neighbours: one store writes PTE 1023 of one and PTE 0 of the
 * other (the low half: frame bits 12-15 and the flags) */
static void straddle(void)
{
	uint32_t d2 = (uint32_t)data[2], d3 = (uint32_t)data[3];

	tabs[0][0] = (uint32_t)data[0] | PTE_W | PTE_P;
	tabs[1][0] = d2 | PTE_W | PTE_P;
	pde_set(VA_T1, tabs[0]);
	pde_set(VA_T2, tabs[1]);
	printf("shx: straddle before %x %x\n", (unsigned)rd(VA_T1), (unsigned)rd(VA_T2));
	if ((d2 ^ d3) >> 16) {
		printf("shx: straddle: frames too far apart\n");
		return;
	}
	__asm__ volatile("movl %1, (%0)" ::"r"((uint8_t *)&tabs[0][1023] + 2),
	                 "r"(((d3 | PTE_W | PTE_P) & 0xffffu) << 16)
	                 : "memory");
	invlpg(VA_T2);
	{
		uint32_t a = rd(VA_T1), b = rd(VA_T2),
		         pte = rd((uint32_t)&tabs[1][0]); /* in order */

		printf("shx: straddle after %x %x pte data[%u]|%03x\n", (unsigned)a, (unsigned)b,
		       (unsigned)((pte - (uint32_t)data[0]) >> 12), (unsigned)(pte & 0xfffu));
	}
	pde_set(VA_T1, NULL);
	pde_set(VA_T2, NULL);
	tabs[0][1023] = 0;
}

/* Page 0 is tabs[1] (a table in use); a store at 0xfffffffe writes its PTE 0's low half */
static void mirror(void)
{
	uint32_t *pte0 = (uint32_t *)(rt_page_dir[0] & ~0xfffu), old0 = pte0[0];
	uint32_t d4 = (uint32_t)data[4], d5 = (uint32_t)data[5];

	tabs[1][0] = d4 | PTE_W | PTE_P;
	pde_set(VA_T2, tabs[1]);
	map_page(VA_TOP, (uint32_t)data[6], PTE_W);
	pte0[0] = (uint32_t)tabs[1] | PTE_W | PTE_P;
	invlpg(0);
	printf("shx: mirror before %x\n", (unsigned)rd(VA_T2));
	if ((d4 ^ d5) >> 16) {
		printf("shx: mirror: frames too far apart\n");
		return;
	}
	__asm__ volatile("movl %1, (%0)" ::"r"(0xfffffffeu),
	                 "r"(((d5 | PTE_W | PTE_P) & 0xffffu) << 16)
	                 : "memory");
	invlpg(VA_T2);
	{
		uint32_t b = rd(VA_T2), pte = rd((uint32_t)&tabs[1][0]); /* in order */

		printf("shx: mirror after %x pte data[%u]|%03x top %04x\n", (unsigned)b,
		       (unsigned)((pte - (uint32_t)data[0]) >> 12), (unsigned)(pte & 0xfffu),
		       (unsigned)(data[6][1023] >> 16));
	}
	pte0[0] = old0;
	invlpg(0);
	unmap_page(VA_TOP);
	pde_set(VA_T2, NULL);
}

/* tabs[2]: PTE 0 maps VA_C to data[0]; PTE 1 maps VA_C + 0x1000 to tabs[2] itself; code at
 * 0x800 of it (mov $v, %eax; ret), run through VA_C + 0x1800 */
static void code_and_table(void)
{
	uint8_t *code = (uint8_t *)tabs[2] + 0x800;
	uint32_t (*f)(void) = (uint32_t(*)(void))(VA_C + 0x1800);
	uint32_t a, b, c;

	tabs[2][0] = (uint32_t)data[0] | PTE_W | PTE_P;
	tabs[2][1] = (uint32_t)tabs[2] | PTE_W | PTE_P;
	code[0] = 0xb8, code[1] = 0x11, code[2] = code[3] = code[4] = 0, code[5] = 0xc3;
	pde_set(VA_C, tabs[2]);
	a = f();
	b = rd(VA_C);
	*(volatile uint32_t *)(VA_C + 0x1000) = (uint32_t)data[1] | PTE_W | PTE_P; /* PTE 0 */
	invlpg(VA_C);
	c = rd(VA_C);
	printf("shx: code+table %x %x %x\n", (unsigned)a, (unsigned)b, (unsigned)c);
	*(volatile uint8_t *)(VA_C + 0x1801) = 0x22; /* the code, through the table's mapping */
	a = f();
	tabs[2][0] = (uint32_t)data[2] | PTE_W | PTE_P;
	invlpg(VA_C);
	b = rd(VA_C);
	code[1] = 0x33; /* the code, through the identity map */
	c = f();
	printf("shx: code+table again %x %x %x\n", (unsigned)a, (unsigned)b, (unsigned)c);
	pde_set(VA_C, NULL);
}

/*
 * On the code-and-table page: a store into the next instruction's immediate, in the same
 * block (mov 4(%esp), %ecx; mov %ecx, imm; mov $imm, %eax; ret). Hot stores to a traced
 * page are adapted (bt_callout_adapt.c): the next instruction must still see the store.
 */
static void code_and_table_smc(void)
{
	static const uint8_t fn[] = {0x8b, 0x4c, 0x24, 0x04, 0x89, 0x0d, 0, 0,
	                             0,    0,    0xb8, 0,    0,    0,    0, 0xc3};
	uint8_t *code = (uint8_t *)tabs[2] + 0x900;
	uint32_t imm = VA_C + 0x1900 + 11, bad = 0, last = 0;
	uint32_t (*f)(uint32_t) = (uint32_t(*)(uint32_t))(VA_C + 0x1900);

	memcpy(code, fn, sizeof(fn));
	memcpy(code + 6, &imm, 4);
	tabs[2][0] = (uint32_t)data[0] | PTE_W | PTE_P;
	tabs[2][1] = (uint32_t)tabs[2] | PTE_W | PTE_P;
	pde_set(VA_C, tabs[2]);
	(void)rd(VA_C); /* tabs[2] walked: traced */
	for (uint32_t i = 1; i <= 24; i++) {
		uint32_t r = f(i);

		bad += r != i;
		if (r != i)
			last = i << 16 | r;
	}
	printf("shx: code+table smc stale=%u last=%x\n", (unsigned)bad, (unsigned)last);
	pde_set(VA_C, NULL);
}

/* tabs[3]: a table, its PDE cleared (untraced at once), written as data, a table again */
static void reused(void)
{
	uint32_t s = 0;

	tabs[3][0] = (uint32_t)data[0] | PTE_W | PTE_P;
	pde_set(VA_R, tabs[3]);
	printf("shx: reused table %x\n", (unsigned)rd(VA_R));
	pde_set(VA_R, NULL);
	for (unsigned r = 0; r < 3; r++)
		for (unsigned i = 0; i < 1024; i++)
			tabs[3][i] = i * 7 + r, s += tabs[3][i];
	printf("shx: reused data %x\n", (unsigned)s);
	for (unsigned i = 0; i < 1024; i++)
		tabs[3][i] = 0;
	tabs[3][0] = (uint32_t)data[3] | PTE_W | PTE_P;
	pde_set(VA_R, tabs[3]);
	printf("shx: reused table again %x\n", (unsigned)rd(VA_R));
	tabs[3][0] = (uint32_t)data[4] | PTE_W | PTE_P;
	invlpg(VA_R);
	printf("shx: reused table rewritten %x\n", (unsigned)rd(VA_R));
	pde_set(VA_R, NULL);
}

/* Space B (dirs[0]) with its own table tabs[4]; rewritten from space A (rt_page_dir). */
static void other_space(void)
{
	uint32_t a = read_cr3(), b = (uint32_t)dirs[0], v[4];

	memcpy(dirs[0], rt_page_dir, 4096);
	dirs[0][VA_B >> 22] = (uint32_t)tabs[4] | PTE_W | PTE_P;
	tabs[4][0] = (uint32_t)data[0] | PTE_W | PTE_P;
	write_cr3(b);
	v[0] = rd(VA_B);
	*(volatile uint32_t *)(VA_B + 4) = 0x77; /* writable in B's shadow */
	write_cr3(a);
	tabs[4][0] = (uint32_t)data[1] | PTE_W | PTE_P;
	write_cr3(b);
	v[1] = rd(VA_B);
	*(volatile uint32_t *)(VA_B + 4) = 0x78;
	write_cr3(a);
	tabs[4][0] = (uint32_t)data[0] | PTE_P; /* read-only now */
	write_cr3(b);
	v[2] = rd(VA_B);
	recover_eip = 0;
	v[3] = try_store(VA_B + 4, 0x79);
	write_cr3(a);
	printf("shx: other space %x %x %x store %u err %x d0 %x d1 %x\n", (unsigned)v[0],
	       (unsigned)v[1], (unsigned)v[2], (unsigned)v[3], (unsigned)f_err,
	       (unsigned)data[0][1], (unsigned)data[1][1]);
	/* B's directory dropped (written while A is current), reused as space C's */
	memcpy(dirs[0], rt_page_dir, 4096);
	dirs[0][VA_B >> 22] = (uint32_t)tabs[5] | PTE_W | PTE_P;
	tabs[5][0] = (uint32_t)data[5] | PTE_W | PTE_P;
	write_cr3(b);
	v[0] = rd(VA_B);
	*(volatile uint32_t *)(VA_B + 8) = 0x80;
	write_cr3(a);
	printf("shx: directory reused %x d5 %x d0 %x\n", (unsigned)v[0], (unsigned)data[5][2],
	       (unsigned)data[0][2]);
}

/* tabs[5] mapped read-only at VA_W (and a table for VA_B in dirs[0]): CR0.WP 0 -> 1 */
static void wp_toggle(void)
{
	uint32_t cr0 = read_cr0(), r[3];

	map_page(VA_W, (uint32_t)tabs[5], 0);
	dirs[0][VA_W >> 22] = rt_page_dir[VA_W >> 22];
	write_cr3((uint32_t)dirs[0]); /* tabs[5] is this space's table: traced */
	(void)rd(VA_B);
	write_cr0(cr0 & ~CR0_WP);
	r[0] = try_store(VA_W + 0x10, 0x1234); /* WP 0: a supervisor store lands */
	write_cr0(cr0);
	r[1] = try_store(VA_W + 0x14, 0x5678); /* WP 1: #PF */
	write_cr0(cr0 & ~CR0_WP);
	dirs[0][VA_B >> 22] = 0; /* tabs[5] no table any more: untraced */
	write_cr3(read_cr3());
	r[2] = try_store(VA_W + 0x18, 0x9abc);
	write_cr0(cr0);
	recover_eip = 0;
	printf("shx: wp %u %u %u then %u e %x %x %x %x\n", (unsigned)r[0], (unsigned)r[1],
	       (unsigned)r[2], (unsigned)try_store(VA_W + 0x1c, 1), (unsigned)tabs[5][4],
	       (unsigned)tabs[5][5], (unsigned)tabs[5][6], (unsigned)tabs[5][7]);
	write_cr3((uint32_t)rt_page_dir);
	unmap_page(VA_W);
}

/*
 * A global 4 MiB page in spaces A (rt_page_dir) and B (dirs[1]), read in both; both PDEs
 * cleared from A (B's directory written while not current), invlpg of one address in
 * the 4 MiB page (SDM 4.10.2.3: the whole page's translation goes), tables put in;
 * then B reads another address of it: the new table's frame, not the old 4 MiB page.
 */
static void big_global(void)
{
	uint32_t a = read_cr3(), b = (uint32_t)dirs[1], cr4 = read_cr4(), v[4];
	uint32_t big = 0x80000000u, pa = 0x00800000u, pde = pa | PDE_PS | 0x100u | PTE_W | PTE_P;

	*(volatile uint32_t *)(pa + 0x1000) = 0xaaaa;
	*(volatile uint32_t *)(pa + 0x2000) = 0xaaab;
	write_cr4(cr4 | 0x80u);
	memcpy(dirs[1], rt_page_dir, 4096);
	rt_page_dir[big >> 22] = pde;
	dirs[1][big >> 22] = pde;
	write_cr3(a);
	write_cr3(b);
	v[0] = rd(big + 0x1000) + rd(big + 0x2000);
	write_cr3(a);
	v[1] = rd(big + 0x1000) + rd(big + 0x2000);
	__asm__ volatile("" ::: "memory");
	rt_page_dir[big >> 22] = 0;
	dirs[1][big >> 22] = 0;
	invlpg(big);
	memset(tabs[0], 0, 4096);
	tabs[0][1] = (uint32_t)data[6] | 0x100u | PTE_W | PTE_P;
	tabs[0][2] = (uint32_t)data[7] | 0x100u | PTE_W | PTE_P;
	data[6][0] = 0x6666, data[7][0] = 0x7777;
	rt_page_dir[big >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	dirs[1][big >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	write_cr3(b);
	v[2] = rd(big + 0x1000) + rd(big + 0x2000);
	write_cr3(a);
	v[3] = rd(big + 0x1000) + rd(big + 0x2000);
	__asm__ volatile("" ::: "memory");
	printf("shx: big global %x %x then %x %x\n", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2],
	       (unsigned)v[3]);
	rt_page_dir[big >> 22] = 0;
	write_cr4(cr4);
	write_cr3(a);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	enable_paging();
	trap_set_handler(14, on_fault);
	init_data();
	straddle();
	mirror();
	code_and_table();
	code_and_table_smc();
	reused();
	other_space();
	wp_toggle();
	big_global();
	printf("shx: done\n");
	return EXIT_OK;
}
