/*
 * bt_callout_sys.c: callouts for system state: descriptor tables, control
 * registers, MSRs, cpuid, rdtsc, and the BCD adjust instructions (which have no
 * 64-bit encoding). Segment loads and far transfers are bt_callout_seg.c.
 */
#include <string.h>
#include <x86intrin.h>

#include "bt_callout.h"
#include "cpumodel.h"
#include "monitor.h"

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176
#define DR6_FIXED 0xffff0ff0u
#define DR7_FIXED 0x400u

static int table_load(struct co *k, uint32_t *base, uint16_t *limit)
{
	uint8_t buf[6];

	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	if (mmu_read(k->bt, co_ea(k, &k->op[0]), buf, 6, false))
		return co_pending(k);
	memcpy(limit, buf, 2);
	memcpy(base, buf + 2, 4);
	if (k->in.operand_width == 16)
		*base &= 0xffffff;
	return CO_NEXT;
}

static int table_store(struct co *k, uint32_t base, uint16_t limit)
{
	uint8_t buf[6];

	memcpy(buf, &limit, 2);
	memcpy(buf + 2, &base, 4);
	if (mmu_write(k->bt, co_ea(k, &k->op[0]), buf, 6, k->c->cpl == 3))
		return co_pending(k);
	return CO_NEXT;
}

static int load_tr(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint32_t sel, d[2];

	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	if (co_read(k, &k->op[0], &sel))
		return co_pending(k);
	sel &= 0xffff;
	if ((sel & ~3u) == 0 || bt_read_desc(k->bt, (uint16_t)sel, d))
		return c->exc.vector >= 0 ? co_pending(k) : co_fault(k, EXC_GP, true, sel & ~3u);
	if (((d[1] >> 8) & 0x1f) != 0x9) /* an available 32-bit TSS */
		return co_fault(k, EXC_GP, true, sel & ~3u);
	d[1] |= 0x200; /* busy */
	if (mmu_write(k->bt, c->gdt_base + (sel & ~7u) + 4, &d[1], 4, false))
		return co_pending(k);
	c->tr_sel = (uint16_t)sel;
	c->tr_base = (d[0] >> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000u);
	c->tr_limit = (d[0] & 0xffff) | (d[1] & 0xf0000);
	return CO_NEXT;
}

int co_desc_table(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint32_t v;

	switch (k->in.mnemonic) {
	case ZYDIS_MNEMONIC_LGDT:
		return table_load(k, &c->gdt_base, &c->gdt_limit);
	case ZYDIS_MNEMONIC_LIDT:
		return table_load(k, &c->idt_base, &c->idt_limit);
	case ZYDIS_MNEMONIC_SGDT:
		return table_store(k, c->gdt_base, c->gdt_limit);
	case ZYDIS_MNEMONIC_SIDT:
		return table_store(k, c->idt_base, c->idt_limit);
	case ZYDIS_MNEMONIC_LTR:
		return load_tr(k);
	case ZYDIS_MNEMONIC_STR:
		return co_write(k, &k->op[0], c->tr_sel) ? co_pending(k) : CO_NEXT;
	case ZYDIS_MNEMONIC_SLDT:
		return co_write(k, &k->op[0], c->ldt_sel) ? co_pending(k) : CO_NEXT;
	case ZYDIS_MNEMONIC_SMSW:
		v = k->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? c->cr0 : c->cr0 & 0xffff;
		return co_write(k, &k->op[0], v) ? co_pending(k) : CO_NEXT;
	case ZYDIS_MNEMONIC_LMSW: {
		uint32_t old = c->cr0;

		if (!co_need_cpl0(k))
			return BT_EXIT_EXCEPTION;
		if (co_read(k, &k->op[0], &v))
			return co_pending(k);
		c->cr0 = (c->cr0 & ~0xeu) | (v & 0xf) | (c->cr0 & 1); /* PE cannot be cleared */
		return co_fpu_cr0(k, old);
	}
	default: /* lldt: null, or a present LDT descriptor in the GDT */
		if (!co_need_cpl0(k))
			return BT_EXIT_EXCEPTION;
		if (co_read(k, &k->op[0], &v))
			return co_pending(k);
		v &= 0xffff;
		if (!(v & ~3u)) {
			c->ldt_sel = 0;
			return CO_NEXT;
		}
		{
			uint32_t d[2];

			if ((v & 4) || bt_read_desc(k->bt, (uint16_t)v, d))
				return c->exc.vector >= 0 ? co_pending(k)
				                          : co_fault(k, EXC_GP, true, v & ~3u);
			if (((d[1] >> 8) & 0x1f) != 0x2) /* system, type 2: an LDT */
				return co_fault(k, EXC_GP, true, v & ~3u);
			if (!((d[1] >> 15) & 1))
				return co_fault(k, EXC_NP, true, v & ~3u);
			c->ldt_sel = (uint16_t)v;
			c->ldt_base = (d[0] >> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000u);
			c->ldt_limit = (d[0] & 0xffff) | (d[1] & 0xf0000);
			if (d[1] & (1u << 23))
				c->ldt_limit = (c->ldt_limit << 12) | 0xfff;
		}
		return CO_NEXT;
	}
}

int co_movcr(struct co *k)
{
	struct bt_cpu *c = k->c;
	bool write = ZydisRegisterGetClass(k->op[0].reg.value) == ZYDIS_REGCLASS_CONTROL;
	int n = ZydisRegisterGetId(k->op[write ? 0 : 1].reg.value);
	uint32_t v, old0 = c->cr0, old4 = c->cr4;

	/* CR1 and CR5-7 do not exist: a decode fault, before the privilege check */
	if (n > 4 || n == 1)
		return co_fault(k, EXC_UD, false, 0);
	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	if (!write) {
		uint32_t crs[5] = {c->cr0, 0, c->cr2, c->cr3, c->cr4};

		co_set_reg(k, k->op[0].reg.value, crs[n]);
		return CO_NEXT;
	}
	v = co_get_reg(k, k->op[1].reg.value);
	switch (n) {
	case 0:
		if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
			return co_fault(k, EXC_GP, true, 0);
		if (!(v & X86_CR0_PE))
			return co_unsupported(k, "real mode is not supported:");
		c->cr0 = v | X86_CR0_ET;
		break;
	case 2:
		c->cr2 = v;
		break;
	case 3:
		c->cr3 = v;
		break;
	case 4:
		/* PSE, TSD, DE, PGE (a no-op); the rest are the model's reserved bits */
		if (v & ~(X86_CR4_PSE | CR4_TSD | CR4_DE | 0x80u))
			return co_fault(k, EXC_GP, true, 0);
		c->cr4 = v;
		break;
	default:
		return co_fault(k, EXC_UD, false, 0);
	}
	/* The shadow: cached per address space (bt_shadow.c, mmu_cr_written). */
	mmu_cr_written(k->bt, n, old0, old4);
	/*
	 * Translations are found by guest-physical page (tc_lookup), so a CR3 load or a
	 * CR0.WP change keeps them; only paging on/off and PSE (how every walk reads the
	 * tables; rare) still drop them.
	 */
	if (((old0 ^ c->cr0) & X86_CR0_PG) || ((old4 ^ c->cr4) & X86_CR4_PSE))
		tc_flush(k->bt);
	else if (n == 3)
		tc_new_space(k->bt, mmu_code_pages_hold(k->bt));
	/* Toggling PGE flushes global TLB entries too: the jump caches forget, blocks stay. */
	if ((old4 ^ c->cr4) & 0x80u)
		tc_jc_invalidate(k->bt);
	if ((old4 ^ c->cr4) & CR4_TSD)
		tc_flush(k->bt); /* ring 3 rdtsc is translated by TSD */
	bt_fpu_cr0_changed(k->bt, old0);
	c->eip = k->next;
	return BT_EXIT_RESUME;
}

/* mov to/from DRn: DR4/DR5 are DR6/DR7 unless CR4.DE (then #UD); fixed bits read as set. */
int co_movdr(struct co *k)
{
	struct bt_cpu *c = k->c;
	bool to_dr = ZydisRegisterGetClass(k->op[0].reg.value) == ZYDIS_REGCLASS_DEBUG;
	int n = ZydisRegisterGetId(k->op[to_dr ? 0 : 1].reg.value) & 7;
	uint32_t v;

	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	if (n == 4 || n == 5) {
		if (c->cr4 & CR4_DE)
			return co_fault(k, EXC_UD, false, 0);
		n += 2;
	}
	if (!to_dr) {
		co_set_reg(k, k->op[0].reg.value, c->dr[n]);
		return CO_NEXT;
	}
	v = co_get_reg(k, k->op[1].reg.value);
	if (n == 6)
		v |= DR6_FIXED;
	else if (n == 7)
		v = (v | DR7_FIXED) & ~0xd800u;
	c->dr[n] = v;
	return CO_NEXT;
}

/* rdtsc where CR4.TSD may forbid it (ring 3 blocks translated while TSD is set). */
int co_rdtsc(struct co *k)
{
	uint64_t t;

	if (k->c->cpl > 0 && (k->c->cr4 & CR4_TSD))
		return co_fault(k, EXC_GP, true, 0);
	t = __rdtsc();
	k->c->gpr[0] = (uint32_t)t;
	k->c->gpr[2] = (uint32_t)(t >> 32);
	return CO_NEXT;
}

int co_msr(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint32_t msr = c->gpr[1];
	uint64_t v = ((uint64_t)c->gpr[2] << 32) | c->gpr[0];
	const struct cpu_model *model =
	    k->bt->mon->opts.cpu ? k->bt->mon->opts.cpu : cpu_model_default();

	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	if (k->in.mnemonic == ZYDIS_MNEMONIC_RDMSR) {
		switch (msr) {
		case MSR_TSC:
			v = __rdtsc();
			break;
		case MSR_APIC_BASE:
			v = c->apic_base;
			break;
		case MSR_SYSENTER_CS:
			v = c->sysenter_cs;
			break;
		case MSR_SYSENTER_ESP:
			v = c->sysenter_esp;
			break;
		case MSR_SYSENTER_EIP:
			v = c->sysenter_eip;
			break;
		default:
			if (cpu_model_msr(model, msr, &v))
				return co_fault(k, EXC_GP, true, 0);
		}
		c->gpr[0] = (uint32_t)v;
		c->gpr[2] = (uint32_t)(v >> 32);
		return CO_NEXT;
	}
	switch (msr) {
	case MSR_TSC:
		break;
	case MSR_APIC_BASE:
		c->apic_base = v;
		break;
	case MSR_SYSENTER_CS:
		c->sysenter_cs = (uint32_t)v & 0xffff;
		break;
	case MSR_SYSENTER_ESP:
		c->sysenter_esp = (uint32_t)v;
		break;
	case MSR_SYSENTER_EIP:
		c->sysenter_eip = (uint32_t)v;
		break;
	default: { /* the model's constant MSRs take writes and keep their value */
		uint64_t cur;

		if (cpu_model_msr(model, msr, &cur))
			return co_fault(k, EXC_GP, true, 0);
	}
	}
	return CO_NEXT;
}

/* The model's answer (cpumodel.c), never the host's CPUID: defined, and cheap where that traps. */
int co_cpuid(struct co *k)
{
	struct bt_cpu *c = k->c;
	const struct cpu_model *m =
	    k->bt->mon->opts.cpu ? k->bt->mon->opts.cpu : cpu_model_default();
	uint32_t r[4];

	cpu_model_cpuid(m, c->gpr[0], c->gpr[1], r);
	c->gpr[0] = r[0];
	c->gpr[3] = r[1];
	c->gpr[1] = r[2];
	c->gpr[2] = r[3];
	return CO_NEXT;
}

/* Parity of the low byte, as PF. */
static uint32_t szp(uint8_t v)
{
	uint32_t f = (v & 0x80) ? 0x80 : 0;

	if (!v)
		f |= 0x40;
	if (!__builtin_parity(v))
		f |= 0x4;
	return f;
}

int co_bcd(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint8_t al = c->gpr[0] & 0xff, ah = (c->gpr[0] >> 8) & 0xff, base = 10;
	uint32_t f = c->hflags & ~0x8d5u, cf = c->hflags & 1, af = c->hflags & 0x10;

	if (k->in.operand_count_visible && k->op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		base = (uint8_t)k->op[0].imm.value.u;
	if (k->in.mnemonic == ZYDIS_MNEMONIC_AAM && !base)
		return co_fault(k, EXC_DE, false, 0);
	{
		/* Natively, so even the undefined flags are the host CPU's. */
		uint8_t insn[2] = {k->site->bytes[k->in.length - (k->in.length > 1 ? 2 : 1)], 0x90};
		uint32_t eax = c->gpr[0], fl = c->hflags;

		if (k->in.length > 1)
			insn[1] = k->site->bytes[k->in.length - 1];
		if (bt_compat_bcd(insn, &eax, &fl)) {
			c->gpr[0] = eax;
			c->hflags = (c->hflags & ~0x8d5u) | (fl & 0x8d5u);
			return CO_NEXT;
		}
	}
	switch (k->in.mnemonic) {
	case ZYDIS_MNEMONIC_AAM:
		if (!base)
			return co_fault(k, EXC_DE, false, 0);
		ah = al / base;
		al = al % base;
		f |= szp(al);
		break;
	case ZYDIS_MNEMONIC_AAD:
		al = (uint8_t)(al + ah * base);
		ah = 0;
		f |= szp(al);
		break;
	case ZYDIS_MNEMONIC_AAA:
	case ZYDIS_MNEMONIC_AAS:
		if ((al & 0xf) > 9 || af) {
			bool add = k->in.mnemonic == ZYDIS_MNEMONIC_AAA;
			uint16_t ax = (uint16_t)((ah << 8) | al);

			ax = add ? (uint16_t)(ax + 0x106) : (uint16_t)(ax - 6 - 0x100);
			ah = ax >> 8;
			al = ax & 0xff;
			f |= 0x11;
		}
		al &= 0xf;
		f |= szp(al) & 0x44;
		break;
	default: { /* daa, das */
		bool add = k->in.mnemonic == ZYDIS_MNEMONIC_DAA;
		uint8_t old = al;
		uint32_t ncf = 0;

		if ((al & 0xf) > 9 || af) {
			ncf = cf || (add ? al > 0xf9 : al < 6);
			al = add ? (uint8_t)(al + 6) : (uint8_t)(al - 6);
			f |= 0x10;
		}
		if (old > 0x99 || cf) {
			al = add ? (uint8_t)(al + 0x60) : (uint8_t)(al - 0x60);
			ncf = 1;
		}
		f |= ncf | szp(al);
	}
	}
	c->gpr[0] = (c->gpr[0] & 0xffff0000u) | ((uint32_t)ah << 8) | al;
	c->hflags = f;
	return CO_NEXT;
}
