/* cpumodel.c: the CPUID and constant-MSR table of the virtual CPU models. */
#include "cpumodel.h"

#include <string.h>

/* CPUID.1:EDX bits (SDM Vol. 2A, Table 3-11). */
#define F_FPU (1u << 0)
#define F_DE (1u << 2)
#define F_PSE (1u << 3)
#define F_TSC (1u << 4)
#define F_MSR (1u << 5)
#define F_CX8 (1u << 8)
#define F_APIC (1u << 9)
#define F_SEP (1u << 11)
#define F_PGE (1u << 13)
#define F_CMOV (1u << 15)

static const struct cpu_model models[] = {
    {
        .name = "p6",
        .what =
            "a Pentium II (family 6 model 3): the P6 integer ISA, DE, PSE, TSC, APIC, SEP, CMOV",
        .vendor = "GenuineIntel",
        .max_leaf = 2,
        .max_ext = 0,
        .signature = 0x633,
        .features_edx = F_FPU | F_PSE | F_TSC | F_MSR | F_CX8 | F_APIC | F_SEP | F_CMOV,
        .leaf2 = {0x03020101, 0, 0, 0x0c040843}, /* the Pentium II's descriptors */
    },
    {
        .name = "max",
        .what = "everything tandem implements: p6 plus PGE, MISC_ENABLE, a brand string",
        .vendor = "GenuineIntel",
        .max_leaf = 2,
        .max_ext = 0x80000004,
        .signature = 0x633,
        .features_edx =
            F_FPU | F_DE | F_PSE | F_TSC | F_MSR | F_CX8 | F_APIC | F_SEP | F_PGE | F_CMOV,
        .leaf2 = {0x03020101, 0, 0, 0x0c040843},
        .brand = "tandem virtual CPU (max)",
        .misc_enable = 1, /* fast strings */
        .has_misc_enable = true,
    },
};

const struct cpu_model *cpu_model_find(const char *name)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (!strcmp(models[i].name, name))
			return &models[i];
	return NULL;
}

const struct cpu_model *cpu_model_default(void)
{
	return &models[0];
}

const char *cpu_model_names(void)
{
	return "p6, max";
}

static void basic(const struct cpu_model *m, uint32_t leaf, uint32_t out[4])
{
	memset(out, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		out[0] = m->max_leaf;
		memcpy(&out[1], m->vendor, 4);     /* EBX "Genu" */
		memcpy(&out[3], m->vendor + 4, 4); /* EDX "ineI" */
		memcpy(&out[2], m->vendor + 8, 4); /* ECX "ntel" */
		break;
	case 1:
		out[0] = m->signature;
		out[2] = m->features_ecx;
		out[3] = m->features_edx; /* EBX: APIC ID 0, no CLFLUSH size, one logical CPU */
		break;
	case 2:
		memcpy(out, m->leaf2, sizeof(m->leaf2));
		break;
	default:
		break;
	}
}

void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)subleaf; /* no leaf of these models has subleaves */
	if (leaf >= 0x80000000u) {
		if (!m->max_ext || leaf > m->max_ext) {
			basic(m, m->max_leaf, out);
			return;
		}
		memset(out, 0, 4 * sizeof(uint32_t));
		if (leaf == 0x80000000u) {
			out[0] = m->max_ext;
		} else if (leaf >= 0x80000002u && leaf <= 0x80000004u && m->brand) {
			char b[48] = {0};

			strncpy(b, m->brand, sizeof(b) - 1);
			memcpy(out, b + 16 * (leaf - 0x80000002u), 16);
		}
		return;
	}
	basic(m, leaf > m->max_leaf ? m->max_leaf : leaf, out);
}

int cpu_model_leaves(const struct cpu_model *m, uint32_t *leaves, int n)
{
	int k = 0;

	for (uint32_t l = 0; l <= m->max_leaf && k < n; l++)
		leaves[k++] = l;
	if (m->max_ext)
		for (uint32_t l = 0x80000000u; l <= m->max_ext && k < n; l++)
			leaves[k++] = l;
	return k;
}

int cpu_model_msr(const struct cpu_model *m, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case 0x8b: /* IA32_BIOS_SIGN_ID: no microcode update loaded */
		*val = 0;
		return 0;
	case 0x1a0:
		if (!m->has_misc_enable)
			return -1;
		*val = m->misc_enable;
		return 0;
	default:
		return -1;
	}
}
