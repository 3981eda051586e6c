/*
 * cpumodel.h: the virtual CPU's identity, one table for both engines: what
 * CPUID answers (bt answers from it without running the host's CPUID; kvm hands
 * the same leaves to KVM_SET_CPUID2) and the model's constant MSRs. Features are
 * only those both engines really implement for the guest.
 *
 * Models (`tandem run --cpu NAME`):
 *   p6   (default) GenuineIntel family 6 model 3 stepping 3, a Pentium II: FPU
 *        (x87 code itself stops as unsupported), DE, PSE, TSC, MSR, CX8, APIC, SEP,
 *        CMOV; max leaf 2 with its cache descriptors; no brand string.
 *   max  everything tandem implements: p6 plus PGE, MISC_ENABLE, and a brand
 *        string in leaves 0x80000002-4.
 * Leaves above the maximum return the highest basic leaf, as Intel CPUs do (SDM
 * Vol. 2A, CPUID: "If a value entered for CPUID.EAX is higher than the maximum").
 */
#ifndef TANDEM_CPUMODEL_H
#define TANDEM_CPUMODEL_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_model {
	const char *name;
	const char *what; /* one line for --help and tandem info */
	char vendor[13];
	uint32_t max_leaf, max_ext;
	uint32_t signature; /* CPUID.1:EAX: stepping, model, family */
	uint32_t features_edx, features_ecx;
	uint32_t leaf2[4];    /* cache and TLB descriptors */
	const char *brand;    /* 48 bytes at most; NULL: none */
	uint64_t misc_enable; /* MSR 0x1a0; only where the model has it */
	bool has_misc_enable;
};

/* The model named name ("p6", "max"), or NULL. */
const struct cpu_model *cpu_model_find(const char *name);
/* The default model (p6). */
const struct cpu_model *cpu_model_default(void);
/* "p6, max": the names, for messages. */
const char *cpu_model_names(void);

/*
 * cpu_model_cpuid: the model's answer to CPUID with EAX = leaf, ECX = subleaf, as
 * out[0..3] = EAX, EBX, ECX, EDX. Never fails.
 */
void cpu_model_cpuid(const struct cpu_model *m, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/*
 * cpu_model_leaves: the leaves a KVM_SET_CPUID2 table needs (0..max_leaf, then
 * 0x80000000..max_ext) into leaves[] (at most n); returns how many.
 */
int cpu_model_leaves(const struct cpu_model *m, uint32_t *leaves, int n);

/*
 * cpu_model_msr: a constant MSR of the model (IA32_BIOS_SIGN_ID 0x8b reads 0;
 * IA32_MISC_ENABLE 0x1a0 where the model has it): 0 and *val, or -1 when the
 * model has no such constant MSR (the engine's own MSRs, or #GP).
 */
int cpu_model_msr(const struct cpu_model *m, uint32_t msr, uint64_t *val);

#endif
