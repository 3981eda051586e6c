/*
 * ptx.c: attack guest for bt's shadow after PTE changes that keep the frame (only W, D
 * or A: bt_mmu.c mmu_pt_entry_was keeps such mappings read-only), the ptref shortcut
 * (a table looked for at the one directory index a walk used), the slots kept without
 * a retrace and the large-page neighbour fill. Changes are followed by a CR3 load
 * (non-global entries go, SDM Vol 3A 4.10.4.1) but no invlpg, so bt keeps its cached
 * slot and must be exact through tracing alone: A cleared is set again by the next
 * access, W cleared faults at CPL 0 with CR0.WP=1 (lands with WP=0), D cleared is set
 * again by a store (plain, rep stosl and rep movsl stores; the current space and a
 * cached one); a table at two indices; 4 MiB pages over the page tables (and their
 * PDE's D), past RAM's end (--mem 8204K), over code rewritten through them, supervisor
 * only under ring 3 reads, at the top (a load across 4 GiB), with reserved bits
 * ("sdm" only); ring 3 through PTEs that lose W, A, D or U; a directory that maps
 * itself; six spaces whose tables and directories change at random, checked against
 * a software walk; an interrupt frame pushed into a live table. Each line is what
 * qemu-system-i386 prints.
 */
#include "rt.h"

#define RECOVER_NAME "ptx"
#include "recover.h"

#define VA_X 0x60000000u /* tabs[0], PDE index 0x180 */
#define VA_Y 0x60400000u /* tabs[0] again at index 0x181 (space B) */
#define VA_BIG 0x70000000u
#define VA_END 0x74000000u

#define V(x) (*(volatile uint32_t *)&(x))

static uint32_t tabs[2][1024] __attribute__((aligned(4096)));
static uint32_t data[4][1024] __attribute__((aligned(4096)));
static uint32_t dirs[1][1024] __attribute__((aligned(4096)));
static volatile uint32_t zero;
static int sdm; /* "sdm" on the command line: also where qemu differs from the SDM */

static uint32_t pdir(uint32_t va)
{
	return ((volatile uint32_t *)rt_page_dir)[va >> 22];
}

static void reload(void)
{
	write_cr3(read_cr3());
}

static void set_pte(int how, uint32_t *pte, uint32_t v)
{
	uint32_t src = v, n = 1, *s = &src;

	if (how == 0)
		*(volatile uint32_t *)pte = v;
	else if (how == 1)
		__asm__ volatile("cld; rep stosl" : "+D"(pte), "+c"(n) : "a"(v) : "memory");
	else
		__asm__ volatile("cld; rep movsl" : "+D"(pte), "+S"(s), "+c"(n) : : "memory");
}

/* PTE 0 of tabs[0] maps VA_X to data[0]; its A, D and W bits changed, CR3 reloaded. */
static void bits(int how)
{
	uint32_t *pte = &tabs[0][0], fr = (uint32_t)data[0], cr0 = read_cr0(), r[4], a, d;

	*pte = fr | PTE_W | PTE_P;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	reload();
	*(volatile uint32_t *)VA_X = 0x10 + how;       /* mapped writable, A and D set */
	set_pte(how, pte, fr | PTE_W | PTE_D | PTE_P); /* A cleared */
	reload();
	(void)rd(VA_X + 4);
	a = *(volatile uint32_t *)pte & (PTE_A | PTE_D);
	set_pte(how, pte, fr | PTE_W | PTE_A | PTE_P); /* D cleared */
	reload();
	r[0] = try_store(VA_X + 8, 0x20 + how);
	d = *(volatile uint32_t *)pte & (PTE_A | PTE_D);
	set_pte(how, pte, fr | PTE_A | PTE_D | PTE_P); /* W cleared */
	reload();
	r[1] = try_store(VA_X + 12, 0x30 + how);
	write_cr0(cr0 & ~CR0_WP);
	r[2] = try_store(VA_X + 16, 0x40 + how);
	write_cr0(cr0);
	r[3] = try_store(VA_X + 20, 0x50 + how);
	printf("ptx: bits %d a %x d %x stores %u %u %u %u err %x data %x %x %x %x %x\n", how,
	       (unsigned)a, (unsigned)d, (unsigned)r[0], (unsigned)r[1], (unsigned)r[2],
	       (unsigned)r[3], (unsigned)f_err, (unsigned)V(data[0][0]), (unsigned)V(data[0][2]),
	       (unsigned)V(data[0][3]), (unsigned)V(data[0][4]), (unsigned)V(data[0][5]));
	rt_page_dir[VA_X >> 22] = 0;
	reload();
	memset(data[0], 0, 4096);
}

/* The same from space A while space B (dirs[0], tabs[0] at VA_Y's index) is cached. */
static void away(void)
{
	uint32_t a = read_cr3(), b = (uint32_t)dirs[0], *pte = &tabs[0][1];
	uint32_t fr = (uint32_t)data[1], v[4], r[2];

	memcpy(dirs[0], rt_page_dir, 4096);
	dirs[0][VA_Y >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P; /* walked here first */
	*pte = fr | PTE_W | PTE_P;
	reload();
	v[0] = rd(VA_X + 0x1000);
	write_cr3(b);
	*(volatile uint32_t *)(VA_Y + 0x1000) = 0x61; /* then at index 0x181 in B */
	write_cr3(a);
	*pte = fr | PTE_W | PTE_D | PTE_P; /* A cleared */
	write_cr3(b);
	v[1] = rd(VA_Y + 0x1004);
	write_cr3(a);
	v[2] = *(volatile uint32_t *)pte & (PTE_A | PTE_D);
	*pte = fr | PTE_A | PTE_P; /* W and D cleared */
	write_cr3(b);
	r[0] = try_store(VA_Y + 0x1008, 0x62);
	write_cr0(read_cr0() & ~CR0_WP);
	r[1] = try_store(VA_Y + 0x100c, 0x63);
	write_cr0(read_cr0() | CR0_WP);
	write_cr3(a);
	v[3] = *(volatile uint32_t *)pte & (PTE_A | PTE_D);
	*pte = (uint32_t)data[2] | PTE_W | PTE_P; /* another frame */
	data[2][1] = 0x77;
	write_cr3(b);
	v[0] += rd(VA_Y + 0x1004);
	write_cr3(a);
	printf("ptx: away %x a %x d %x stores %u %u data %x %x %x\n", (unsigned)v[0],
	       (unsigned)v[2], (unsigned)v[3], (unsigned)r[0], (unsigned)r[1],
	       (unsigned)V(data[1][0]), (unsigned)V(data[1][2]), (unsigned)V(data[1][3]));
	(void)v[1];
	rt_page_dir[VA_X >> 22] = 0;
	reload();
}

/*
 * tabs[1] walked at index 0x180 only; then also installed at 0x181 of the same
 * directory and walked there, and its entry changed: both views see it.
 */
static void two_indices(void)
{
	uint32_t *pte = &tabs[1][2], v[3];

	*pte = (uint32_t)data[1] | PTE_W | PTE_P;
	data[1][0] = 0x101, data[2][0] = 0x102, data[3][0] = 0x103;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[1] | PTE_W | PTE_P;
	reload();
	v[0] = rd(VA_X + 0x2000);
	rt_page_dir[VA_Y >> 22] = (uint32_t)tabs[1] | PTE_W | PTE_P;
	reload();
	*pte = (uint32_t)data[2] | PTE_W | PTE_P; /* changed before any walk at 0x181 */
	reload();
	v[1] = rd(VA_Y + 0x2000) << 16 | rd(VA_X + 0x2000);
	*pte = (uint32_t)data[3] | PTE_W | PTE_P; /* now walked at both */
	reload();
	v[2] = rd(VA_Y + 0x2000) << 16 | rd(VA_X + 0x2000);
	printf("ptx: two indices %x %x %x\n", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2]);
	rt_page_dir[VA_X >> 22] = 0;
	rt_page_dir[VA_Y >> 22] = 0;
	reload();
}

/*
 * A 4 MiB page over the low 4 MiB (the tables included), PDE D clear: read, then a PTE
 * of tabs[0] rewritten through it, a store (the PDE's D set again), D cleared again.
 */
static void big_over_tables(void)
{
	uint32_t pde = PDE_PS | PTE_W | PTE_P, *pte = &tabs[0][3], v[5];
	uint32_t alias = VA_BIG + (uint32_t)pte;

	data[1][0] = 0x201, data[2][0] = 0x202;
	*pte = (uint32_t)data[1] | PTE_W | PTE_P;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	rt_page_dir[VA_BIG >> 22] = pde;
	reload();
	v[0] = rd(VA_X + 0x3000) << 16 | rd(alias);
	v[1] = pdir(VA_BIG) & (PTE_A | PTE_D);
	*(volatile uint32_t *)alias = (uint32_t)data[2] | PTE_W | PTE_P;
	reload();
	v[2] = rd(VA_X + 0x3000);
	v[3] = pdir(VA_BIG) & (PTE_A | PTE_D);
	rt_page_dir[VA_BIG >> 22] = pde | PTE_A; /* D cleared */
	reload();
	*(volatile uint32_t *)(VA_BIG + (uint32_t)&data[3][5]) = 0x55;
	v[4] = pdir(VA_BIG) & (PTE_A | PTE_D);
	printf("ptx: big over tables %x %x %x %x %x d3 %x\n", (unsigned)v[0], (unsigned)v[1],
	       (unsigned)v[2], (unsigned)v[3], (unsigned)v[4], (unsigned)rd((uint32_t)&data[3][5]));
	rt_page_dir[VA_X >> 22] = 0;
	rt_page_dir[VA_BIG >> 22] = 0;
	reload();
}

/*
 * A 4 MiB page at 8 MiB with 8204 KiB of RAM: three pages of RAM, then open bus (what
 * lies past them differs: QEMU rounds RAM up, so only the RAM pages are printed).
 */
static void big_end(void)
{
	uint32_t v[3];

	rt_page_dir[VA_END >> 22] = 0x00800000u | PDE_PS | PTE_W | PTE_P;
	reload();
	*(volatile uint32_t *)(VA_END + 0x1000) = 0x3001; /* fills the group */
	*(volatile uint32_t *)(VA_END + 0x2000) = 0x3002;
	for (int i = 0; i < 3; i++)
		v[i] = rd(VA_END + (uint32_t)i * 0x1000);
	printf("ptx: big end %x %x %x\n", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2]);
	rt_page_dir[VA_END >> 22] = 0;
	reload();
}

/*
 * Code on a page also reached through a 4 MiB alias (its neighbour fill maps the code
 * page read-only): rewritten through the alias, run through the identity map, and the
 * other way round.
 */
static uint8_t codep[4096] __attribute__((aligned(4096)));

static void big_smc(void)
{
	uint32_t (*f)(void) = (uint32_t(*)(void))codep;
	uint32_t (*g)(void) = (uint32_t(*)(void))(VA_BIG + (uint32_t)codep);
	volatile uint8_t *alias = (volatile uint8_t *)(VA_BIG + (uint32_t)codep);
	uint32_t v[4];

	codep[0] = 0xb8, codep[1] = 0x11, codep[2] = codep[3] = codep[4] = 0, codep[5] = 0xc3;
	rt_page_dir[VA_BIG >> 22] = PDE_PS | PTE_W | PTE_P;
	reload();
	v[0] = f();
	(void)rd(VA_BIG + (uint32_t)codep + 0x1000); /* a neighbour's fill maps codep */
	alias[1] = 0x22;
	v[1] = f();
	v[2] = g();
	*(volatile uint8_t *)&codep[1] = 0x33;
	v[3] = g();
	printf("ptx: big smc %x %x %x %x\n", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2],
	       (unsigned)v[3]);
	rt_page_dir[VA_BIG >> 22] = 0;
	reload();
}

/* Ring 3 reads of a supervisor 4 MiB page the supervisor view has filled, then U set. */
static uint8_t ustack[4096] __attribute__((aligned(16)));

static int user_read(uint32_t va)
{
	uint32_t v = try_load(va, 0);

	return f_vec ? (int)(f_vec << 16 | f_err) : (int)(v & 0xffff);
}

static void big_user(void)
{
	uint32_t va = VA_BIG + (uint32_t)&data[1][0];
	int r[3];

	data[1][0] = 0x4242;
	rt_page_dir[VA_BIG >> 22] = PDE_PS | PTE_W | PTE_P;
	reload();
	(void)rd(va);
	(void)rd(va + 0x1000);
	r[0] = rt_enter_user(user_read, va, ustack + sizeof(ustack), 0);
	r[1] = rt_enter_user(user_read, va + 0x1000, ustack + sizeof(ustack), 0);
	rt_page_dir[VA_BIG >> 22] = PDE_PS | PTE_U | PTE_W | PTE_P | PTE_A;
	reload();
	r[2] = rt_enter_user(user_read, va, ustack + sizeof(ustack), 0);
	printf("ptx: big user %x %x %x\n", (unsigned)r[0], (unsigned)r[1], (unsigned)r[2]);
	rt_page_dir[VA_BIG >> 22] = 0;
	reload();
}

static int user_write(uint32_t va)
{
	uint32_t r = try_store(va, 0x5a5a);

	return r ? (int)(r << 16 | f_err) : 0;
}

/* Ring 3 through a 4 KiB page whose PTE loses W, A or U (CR3 loads, no invlpg). */
static void user_bits(void)
{
	volatile uint32_t *pte = &tabs[0][5];
	uint32_t va = VA_X + 0x5000, fr = (uint32_t)data[3], a[2];
	int r[6];

	*pte = fr | PTE_U | PTE_W | PTE_P;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[0] | PTE_U | PTE_W | PTE_P;
	reload();
	r[0] = rt_enter_user(user_write, va, ustack + sizeof(ustack), 0);
	*pte = fr | PTE_U | PTE_A | PTE_D | PTE_P; /* W cleared */
	reload();
	r[1] = rt_enter_user(user_write, va + 4, ustack + sizeof(ustack), 0);
	*pte = fr | PTE_U | PTE_W | PTE_P; /* W back, A and D cleared */
	reload();
	r[2] = rt_enter_user(user_read, va, ustack + sizeof(ustack), 0);
	a[0] = *pte & (PTE_A | PTE_D);
	r[3] = rt_enter_user(user_write, va + 8, ustack + sizeof(ustack), 0);
	a[1] = *pte & (PTE_A | PTE_D);
	*pte = fr | PTE_A | PTE_D | PTE_W | PTE_P; /* U cleared */
	reload();
	r[4] = rt_enter_user(user_read, va, ustack + sizeof(ustack), 0);
	*pte = fr | PTE_U | PTE_A | PTE_D | PTE_W | PTE_P;
	V(rt_page_dir[VA_X >> 22]) = (uint32_t)tabs[0] | PTE_W | PTE_P; /* U cleared in the PDE */
	reload();
	r[5] = rt_enter_user(user_write, va, ustack + sizeof(ustack), 0);
	printf("ptx: user bits %x %x %x %x %x %x a %x %x\n", (unsigned)r[0], (unsigned)r[1],
	       (unsigned)r[2], (unsigned)r[3], (unsigned)r[4], (unsigned)r[5], (unsigned)a[0],
	       (unsigned)a[1]);
	rt_page_dir[VA_X >> 22] = 0;
	reload();
}

/* A 4 MiB page at the top of the address space: its last group, a load across 4 GiB. */
static void big_wrap(void)
{
	uint32_t top = 0xffc00000u, v[3];

	map_page(0, (uint32_t)data[2], PTE_W);
	data[2][0] = 0xabcd1234u;
	V(data[3][1023]) = 0x5678eeeeu;
	rt_page_dir[top >> 22] = ((uint32_t)data[3] & 0xffc00000u) | PDE_PS | PTE_W | PTE_P;
	reload();
	v[0] = rd(top + ((uint32_t)data[3] & 0x3ff000u) + 0xffc);
	v[1] = rd(0xfffff000u);
	*(volatile uint32_t *)0xfffffff0u = 0x99;
	v[2] = rd(0xfffffffeu);
	printf("ptx: big wrap %x %x %x\n", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2]);
	unmap_page(0);
	/* Page 0 in a 4 MiB page too (the identity one, in place of the first table): a
	 * store across 4 GiB into it, a fill at page 1 (the group of page 0). */
	{
		uint32_t pde0 = rt_page_dir[0], z = zero; /* (an address GCC cannot see is 0) */

		rt_page_dir[0] = PDE_PS | PTE_U | PTE_W | PTE_P;
		reload();
		*(volatile uint32_t *)z = 0x11223344u;
		v[0] = rd(z + 0x1000u);
		*(volatile uint32_t *)0xfffffffdu = 0xa1b2c3d4u;
		v[1] = rd(z);
		v[2] = rd(0xfffffffcu);
		*(volatile uint32_t *)(z + 0x1000u) = v[0];
		rt_page_dir[0] = pde0;
		rt_page_dir[top >> 22] = 0;
		reload();
		printf("ptx: big wrap page 0 %x %x\n", (unsigned)v[1], (unsigned)v[2]);
	}
}

/*
 * Six spaces (more than bt's four cached slots), each a directory with tables at 0x180
 * and 0x181; from the kernel's space, between visits: PTEs pointed at other frames or
 * their A, D or W bits cleared, tables moved to another space or index, a directory
 * rewritten whole (freed and reused) or used as a table, a 4 MiB page put in, CR4.PSE
 * or CR0.PG off and on; inside a space, a change then invlpg, or its own directory
 * changed then a CR3 load; some visits with CR0.WP 0. Each visit reads VA_X and VA_Y and checks
 * them against a software walk of that space's tables, and the A (and D) bits the accesses must
 * set.
 */
#define NSP 6
static uint32_t sdirs[NSP][1024] __attribute__((aligned(4096)));
static uint32_t stabs[NSP + 2][1024] __attribute__((aligned(4096)));
static uint32_t sdata[8][1024] __attribute__((aligned(4096)));
static uint32_t seed = 12345;

static uint32_t rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

/* What space d's tables say is at va (0xdead: not mapped); the PTE in *pte. */
static uint32_t soft_walk(uint32_t *d, uint32_t va, volatile uint32_t **pte)
{
	uint32_t pde = V(d[va >> 22]);

	*pte = NULL;
	if (!(pde & PTE_P))
		return 0xdead;
	if (pde & PDE_PS) {
		*pte = &d[va >> 22];
		return *(volatile uint32_t *)((pde & 0xffc00000u) | (va & 0x3fffffu));
	}
	*pte = (volatile uint32_t *)(pde & ~0xfffu) + ((va >> 12) & 0x3ff);
	if (!(**pte & PTE_P))
		return 0xdead;
	return *(volatile uint32_t *)((**pte & ~0xfffu) + (va & 0xfff));
}

static void spaces(void)
{
	uint32_t a = read_cr3(), bad = 0, abad = 0, wbad = 0, visits = 0, wp0;

	for (uint32_t i = 0; i < 8; i++)
		for (uint32_t k = 0; k < 1024; k++)
			sdata[i][k] = i << 16 | k;
	for (uint32_t i = 0; i < NSP + 2; i++)
		for (uint32_t k = 0; k < 4; k++)
			stabs[i][k] = (uint32_t)sdata[(i + k) & 7] | PTE_W | PTE_P;
	for (uint32_t i = 0; i < NSP; i++) {
		memcpy(sdirs[i], rt_page_dir, 4096);
		sdirs[i][VA_X >> 22] = (uint32_t)stabs[i] | PTE_W | PTE_P;
		sdirs[i][VA_Y >> 22] = (uint32_t)stabs[(i + 1) % (NSP + 2)] | PTE_W | PTE_P;
	}
	for (uint32_t r = 0; r < 2000; r++) {
		uint32_t i = rnd(NSP), off = rnd(4) << 12 | rnd(1024) << 2;
		uint32_t t = rnd(NSP + 2), e = rnd(4), what = rnd(10);
		volatile uint32_t *pte;

		/* a change made from the kernel's space */
		if (what == 0)
			V(stabs[t][e]) = (uint32_t)sdata[rnd(8)] | PTE_W | PTE_P;
		else if (what == 1)
			V(stabs[t][e]) &= ~PTE_A;
		else if (what == 2)
			V(stabs[t][e]) &= ~PTE_D;
		else if (what == 3)
			V(stabs[t][e]) ^= PTE_W;
		else if (what == 4)
			V(sdirs[i][(rnd(2) ? VA_X : VA_Y) >> 22]) =
			    (uint32_t)stabs[t] | PTE_W | PTE_P;
		else if (what == 5)
			V(sdirs[i][(rnd(2) ? VA_X : VA_Y) >> 22]) = 0;
		else if (what == 9) /* a directory (maybe its own) as a table */
			V(sdirs[i][(rnd(2) ? VA_X : VA_Y) >> 22]) =
			    (uint32_t)sdirs[rnd(NSP)] | PTE_W | PTE_P;
		else if (what == 8 && rnd(2)) { /* flushes: bt drops every cached space */
			write_cr4(read_cr4() & ~CR4_PSE);
			write_cr4(read_cr4() | CR4_PSE);
		} else if (what == 8) {
			write_cr0(read_cr0() & ~CR0_PG);
			write_cr0(read_cr0() | CR0_PG);
		} else if (what == 7)
			V(sdirs[i][(rnd(2) ? VA_X : VA_Y) >> 22]) =
			    0x400000u | PDE_PS | PTE_W | PTE_P;
		else if (what == 6) {
			memcpy(sdirs[i], rt_page_dir, 4096);
			V(sdirs[i][VA_Y >> 22]) = (uint32_t)stabs[t] | PTE_W | PTE_P;
		}
		i = rnd(NSP);
		write_cr3((uint32_t)sdirs[i]);
		if (rnd(4) == 0) { /* a change from inside, then invlpg */
			t = rnd(NSP + 2), e = rnd(4);
			if (rnd(2))
				V(stabs[t][e]) = (uint32_t)sdata[rnd(8)] | PTE_W | PTE_P;
			else
				V(stabs[t][e]) &= ~(rnd(2) ? PTE_A : PTE_W);
			for (uint32_t k = 0; k < 4; k++)
				invlpg(VA_X + (k << 12)), invlpg(VA_Y + (k << 12));
		} else if (rnd(4) == 0) { /* its own directory from inside, then a CR3 load */
			V(sdirs[i][(rnd(2) ? VA_X : VA_Y) >> 22]) =
			    rnd(4) ? (uint32_t)stabs[rnd(NSP + 2)] | PTE_W | PTE_P : 0;
			write_cr3((uint32_t)sdirs[i]);
		}
		wp0 = rnd(4) == 0; /* supervisor stores ignore W for this visit */
		if (wp0)
			write_cr0(read_cr0() & ~CR0_WP);
		for (uint32_t va = VA_X; va <= VA_Y; va += VA_Y - VA_X) {
			uint32_t got = try_load(va + off, 0xdead),
			         want = soft_walk(sdirs[i], va + off, &pte);

			bad += got != want;
			if (pte && (*pte & PTE_P) && !(*pte & PTE_A))
				abad++;
			if (pte && (*pte & PTE_P) && rnd(2)) {
				uint32_t w = !!(*pte & PTE_W), st = try_store(va + off, got);

				wbad += wp0 ? st != 0 : (st == 14) == w;
				if (!st && !(*pte & PTE_D))
					abad++;
			}
			visits++;
		}
		write_cr0(read_cr0() | CR0_WP);
		write_cr3(a);
	}
	printf("ptx: spaces visits %u stale %u a/d %u w %u\n", (unsigned)visits, (unsigned)bad,
	       (unsigned)abad, (unsigned)wbad);
}

/*
 * An interrupt frame and the handler's stack inside a live page table (ESP at the end
 * of tabs[1]): entries written by the CPU's pushes, whatever way bt makes them. After a
 * CR3 load, every entry that maps RAM must read as a software walk says.
 */
static volatile uint32_t saved_esp;

static void frames_in_table(void)
{
	uint32_t bad = 0, n = 0, r;
	volatile uint32_t *pte;

	for (uint32_t k = 0; k < 1024; k++)
		tabs[1][k] = (uint32_t)sdata[k & 7] | PTE_W | PTE_P;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[1] | PTE_W | PTE_P;
	reload();
	for (uint32_t k = 0; k < 1024; k++)
		(void)rd(VA_X + (k << 12));
	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movl %1, %%esp\n\t"
	                 "int $0x80\n\t"
	                 "movl saved_esp, %%esp"
	                 : "=a"(r)
	                 : "r"(&tabs[1][1024]), "a"(SYS_inc), "b"(41), "c"(0), "d"(0)
	                 : "memory");
	reload();
	for (uint32_t k = 0; k < 1024; k++) {
		uint32_t e = V(tabs[1][k]), f = e >> 12;

		if (!(e & PTE_P) || f < 1 || f >= 0x800)
			continue;
		n++;
		bad += try_load(VA_X + (k << 12), 0xdead) !=
		       soft_walk(rt_page_dir, VA_X + (k << 12), &pte);
	}
	printf("ptx: frames in table r %u checked %s stale %u\n", (unsigned)r,
	       n > 900 ? "most" : "few", (unsigned)bad);
	rt_page_dir[VA_X >> 22] = 0;
	reload();
}

/*
 * A 4 MiB PDE with bit 12, 13 or 21 set: bit 12 is PAT's (or ignored), bits 21:13 are
 * reserved without PSE-36 (SDM Vol 3A 4.3): #PF with RSVD and P. Printed only with
 * "sdm": qemu's pentium3 has PSE-36 (bit 13 is PA bit 32) and its RSVD error lacks P.
 */
static void big_high(void)
{
	uint32_t v[3];

	V(data[1][7]) = 0x1717;
	for (int k = 0; k < 3; k++) {
		uint32_t hi = k == 0 ? 0x1000u : k == 1 ? 0x2000u : 0x200000u;

		rt_page_dir[VA_END >> 22] = hi | PDE_PS | PTE_W | PTE_P;
		reload();
		v[k] = try_load(VA_END + (uint32_t)&data[1][7], 0xdead);
		v[k] = f_vec ? 0xf000 | f_err : v[k];
	}
	if (sdm)
		printf("ptx: sdm big high %x %x %x\n", (unsigned)v[0], (unsigned)v[1],
		       (unsigned)v[2]);
	rt_page_dir[VA_END >> 22] = 0;
	reload();
}

/*
 * A directory that maps itself (entry REC): PTEs and PDEs changed through the
 * recursive aliases, the self entry's own A and W cleared through itself.
 */
#define REC 0x1c0u
#define VA_REC (REC << 22)

static void recursive(void)
{
	volatile uint32_t *self = (volatile uint32_t *)(VA_REC + (REC << 12));
	volatile uint32_t *ptx = (volatile uint32_t *)(VA_REC + ((VA_X >> 22) << 12));
	uint32_t v[6], r;

	V(data[0][6]) = 0x600, V(data[1][6]) = 0x601, V(data[2][6]) = 0x602;
	tabs[0][6] = (uint32_t)data[0] | PTE_W | PTE_P;
	tabs[1][6] = (uint32_t)data[2] | PTE_W | PTE_P;
	rt_page_dir[REC] = (uint32_t)rt_page_dir | PTE_W | PTE_P;
	rt_page_dir[VA_X >> 22] = (uint32_t)tabs[0] | PTE_W | PTE_P;
	reload();
	v[0] = rd(VA_X + 0x6018);
	ptx[6] = (uint32_t)data[1] | PTE_W | PTE_P; /* the PTE through the table's alias */
	reload();
	v[1] = rd(VA_X + 0x6018);
	self[VA_X >> 22] = (uint32_t)tabs[1] | PTE_W | PTE_P; /* the PDE through the self map */
	reload();
	v[2] = rd(VA_X + 0x6018) << 16 | (ptx[6] >> 12 == (uint32_t)data[2] >> 12);
	self[REC] &= ~PTE_A; /* the self entry's A, through itself */
	reload();
	v[3] = self[VA_X >> 22] >> 12 == (uint32_t)tabs[1] >> 12;
	v[4] = V(rt_page_dir[REC]) & (PTE_A | PTE_D);
	self[REC] = (uint32_t)rt_page_dir | PTE_A | PTE_D | PTE_P; /* W cleared */
	reload();
	r = try_store((uint32_t)&self[VA_Y >> 22], 0);
	v[5] = V(rt_page_dir[REC]) & (PTE_A | PTE_D | PTE_W);
	printf("ptx: recursive %x %x %x %x %x store %u err %x %x\n", (unsigned)v[0], (unsigned)v[1],
	       (unsigned)v[2], (unsigned)v[3], (unsigned)v[4], (unsigned)r, (unsigned)f_err,
	       (unsigned)v[5]);
	rt_page_dir[REC] = 0;
	rt_page_dir[VA_X >> 22] = 0;
	reload();
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	if (mbi->flags & (1u << 2))
		for (const char *c = (const char *)mbi->cmdline; *c; c++)
			sdm |= c[0] == 's' && c[1] == 'd' && c[2] == 'm';
	enable_paging();
	trap_set_handler(14, on_fault);
	for (int how = 0; how < 3; how++)
		bits(how);
	away();
	two_indices();
	big_over_tables();
	big_end();
	big_smc();
	big_user();
	big_wrap();
	user_bits();
	big_high();
	recursive();
	spaces();
	frames_in_table();
	printf("ptx: done\n");
	return EXIT_OK;
}
