/* setup.c: nanobench machine setup: paging, the LAPIC page, IDT gates, sysenter MSRs, the benchmark
 * table. */
#include "nb.h"

#define PTE_PWT 0x008u
#define PTE_PCD 0x010u
#define CPUID_TSC (1u << 4)
#define CPUID_MSR (1u << 5)
#define CPUID_SEP (1u << 11)

uint32_t *nb_pte_ptr;
uint32_t nb_pte_val;
static uint32_t features; /* cpuid(1).EDX, 0 without cpuid */
static uint8_t sysenter_stack[1024] __attribute__((aligned(16)));
extern char __kernel_end[];

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/* ---- IDT gates: 32-bit interrupt gates in the runtime's IDT; the old one is kept ---- */
struct saved_gate {
	unsigned vec;
	uint32_t w[2];
};
static struct saved_gate saved[4];
static unsigned nsaved;

static void gate_set(unsigned vec, void (*entry)(void), unsigned dpl)
{
	uint32_t *g = (uint32_t *)(rt_idtr.base + vec * 8);
	uint32_t off = (uint32_t)entry;

	if (nsaved < sizeof(saved) / sizeof(saved[0]))
		saved[nsaved++] = (struct saved_gate){vec, {g[0], g[1]}};
	g[0] = (uint32_t)SEL_KCODE << 16 | (off & 0xFFFFu);
	g[1] = (off & 0xFFFF0000u) | 0x8E00u | dpl << 13; /* P, DPL, 32-bit interrupt gate */
	lidt(&rt_idtr);
}

/* Undo the gate_set calls of the current benchmark. */
static void gates_restore(void)
{
	while (nsaved > 0) {
		struct saved_gate *s = &saved[--nsaved];
		uint32_t *g = (uint32_t *)(rt_idtr.base + s->vec * 8);
		g[0] = s->w[0];
		g[1] = s->w[1];
	}
	lidt(&rt_idtr);
}

const char *nb_setup(void)
{
	features = cpu_features();
	if (!(features & CPUID_TSC))
		return "notsc";
	if ((uint32_t)__kernel_end > NB_PF_VA)
		return "layout"; /* the kernel image overlaps the benchmark pages */
	enable_paging();
	/* The LAPIC page, uncached (4 KiB, ring 0 only). */
	if (map_page(NB_LAPIC_BASE, NB_LAPIC_BASE, PTE_W | PTE_PCD | PTE_PWT))
		return "nomap";
	nsaved = 0;
	return NULL;
}

/* ---- per-benchmark prepare/finish ---- */
static const char *prep_syscall(void)
{
	gate_set(SYSCALL_VEC, nb_int80_entry, 3);
	return NULL;
}

static const char *prep_sysenter(void)
{
	if ((features & (CPUID_SEP | CPUID_MSR)) != (CPUID_SEP | CPUID_MSR))
		return "nosep";
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
	wrmsr(MSR_SYSENTER_ESP, (uint32_t)(sysenter_stack + sizeof(sysenter_stack)));
	wrmsr(MSR_SYSENTER_EIP, (uint32_t)nb_sysenter_entry);
	return NULL;
}

static void finish_cr8wr(void)
{
	*(volatile uint32_t *)NB_LAPIC_TPR = 0;
}

static const char *prep_pgfault(void)
{
	uint32_t *pte = pte_lookup(NB_PF_VA);

	if (!pte || pte == &rt_page_dir[NB_PF_VA >> 22])
		return "nopte"; /* must be a 4 KiB PTE of the identity map */
	unmap_page(NB_PF_VA);   /* PTE = 0, invlpg */
	gate_set(14, nb_pf_entry, 0);
	return NULL;
}

static void finish_pgfault(void)
{
	gates_restore();
	map_page(NB_PF_VA, NB_PF_VA, PTE_U | PTE_W); /* the identity mapping again */
}

static const char *prep_divzero(void)
{
	gate_set(0, nb_de_entry, 0);
	return NULL;
}

static const char *prep_ptemod(void)
{
	uint32_t *pte = pte_lookup(NB_PTE_VA);

	if (!pte || pte == &rt_page_dir[NB_PTE_VA >> 22] || (*pte & ~0xFFFu) != NB_PTE_VA)
		return "nopte";
	nb_pte_ptr = pte;
	nb_pte_val = *pte;
	return NULL;
}

static void finish_ptemod(void)
{
	*nb_pte_ptr = nb_pte_val;
	invlpg(NB_PTE_VA);
}

const struct bench nb_empty = {"empty", nb_loop_empty, 0, NULL, NULL};
/* The rows: bench/nano/manifest.h (the host's analog columns are ignored here). */
const struct bench nb_benches[] = {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) {#n, nb_loop_##n, ring == 3, prep, fin},
    NANO_ROWS(X)
#undef X
};
const unsigned nb_nbenches = sizeof(nb_benches) / sizeof(nb_benches[0]);
