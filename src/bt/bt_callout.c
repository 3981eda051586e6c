/*
 * bt_callout.c: the monitor side of callouts. Translated code saves the guest
 * registers and calls bt_callout() with the site of a sensitive instruction;
 * the handler acts on the virtual CPU and says whether translated code goes on
 * after the instruction or leaves the cache (exception, mode change, core exit).
 */
#include "bt_callout.h"
#include "log.h"
#include "monitor.h"

#define EFL_IF 0x200u
#define EFL_IOPL 0x3000u
#define EFL_OF 0x800u

static unsigned iopl(const struct bt_cpu *c)
{
	return (c->vflags & EFL_IOPL) >> 12;
}

/* int n, int3, int1 delivered here, without leaving the cache when the handler is translated. */
static int co_intn(struct co *k)
{
	struct bt_cpu *c = k->c;

	c->exc = (struct bt_exc){
	    .vector = k->site->vector, .is_int = k->site->soft_int, .insn_eip = k->site->eip};
	c->eip = k->next;
	return co_deliver_fast(k);
}

static int co_iret(struct co *k)
{
	uint16_t tr = k->c->tr_sel;
	int r = bt_iret(k->bt, k->next);

	if (r == -1 && k->c->tr_sel != tr)
		return BT_EXIT_EXCEPTION; /* a task return faulted in the new task */
	if (r == -1)
		return co_pending(k);
	if (r == -2)
		return BT_EXIT_CORE;
	return co_jump(k);
}

static int co_int(struct co *k, int vector, bool is_int)
{
	k->c->exc = (struct bt_exc){.vector = vector, .is_int = is_int, .insn_eip = k->site->eip};
	k->c->eip = k->next;
	return BT_EXIT_EXCEPTION;
}

static int co_hlt(struct co *k)
{
	struct exit_record *ex = &k->bt->core_exit;

	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	k->c->eip = k->next;
	if ((k->c->vflags & EFL_IF) && monitor_irq_pending(k->bt->mon))
		return BT_EXIT_RESUME;
	exit_make(ex, EXIT_HLT, k->site->eip, k->c->vflags & EFL_IF);
	return BT_EXIT_CORE;
}

static int co_flags(struct co *k)
{
	struct bt_cpu *c = k->c;
	int size = k->in.operand_width / 8;
	uint32_t v, keep;

	switch (k->in.mnemonic) {
	case ZYDIS_MNEMONIC_CLI:
	case ZYDIS_MNEMONIC_STI:
		if (c->cpl > iopl(c))
			return co_fault(k, EXC_GP, true, 0);
		if (k->in.mnemonic == ZYDIS_MNEMONIC_CLI) {
			c->vflags &= ~EFL_IF;
		} else {
			if (!(c->vflags & EFL_IF))
				co_shadow(k, SHADOW_STI);
			c->vflags |= EFL_IF;
		}
		return CO_NEXT;
	case ZYDIS_MNEMONIC_PUSHF:
	case ZYDIS_MNEMONIC_PUSHFD:
		return co_push(k, bt_eflags(c) & ~0x30000u, size) ? co_pending(k) : CO_NEXT;
	default: /* popf */
		if (co_pop(k, &v, size))
			return co_pending(k);
		keep = 0x30000u; /* VM, RF */
		if (c->cpl > 0)
			keep |= EFL_IOPL;
		if (c->cpl > iopl(c))
			keep |= EFL_IF;
		if (size == 2)
			v = (v & 0xffff) | (bt_eflags(c) & 0xffff0000u);
		bt_set_eflags(c, (v & ~keep & 0x257fd5u) | (bt_eflags(c) & keep));
		return CO_NEXT;
	}
}

static int co_sreg_read(struct co *k)
{
	static const int seg_of[] = {
	    [0] = SEG_ES, [1] = SEG_CS, [2] = SEG_SS, [3] = SEG_DS, [4] = SEG_FS, [5] = SEG_GS};
	const ZydisDecodedOperand *src = &k->op[1];
	uint32_t v;
	int id;

	if (k->in.mnemonic == ZYDIS_MNEMONIC_PUSH)
		src = &k->op[0];
	id = ZydisRegisterGetId(src->reg.value);
	v = k->c->seg[seg_of[id & 7]].sel;
	if (k->in.mnemonic == ZYDIS_MNEMONIC_PUSH)
		return co_push(k, v, k->in.operand_width / 8) ? co_pending(k) : CO_NEXT;
	return co_write(k, &k->op[0], v) ? co_pending(k) : CO_NEXT;
}

static int co_invlpg(struct co *k)
{
	uint32_t va;
	bool large;

	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	va = co_ea(k, &k->op[0]);
	large = mmu_large_page(k->bt, va);
	mmu_unmap_va(k->bt, va);
	tc_invlpg(k->bt, va >> 12, large);
	k->bt->stats.invlpgs++;
	k->c->eip = k->next;
	return BT_EXIT_RESUME; /* the block running this may be gone */
}

static int co_bound(struct co *k)
{
	int32_t b[2], v = (int32_t)co_get_reg(k, k->op[0].reg.value);

	if (k->in.operand_width != 32)
		return co_unsupported(k, "16-bit bound");
	if (mmu_read(k->bt, co_ea(k, &k->op[1]), b, 8, k->c->cpl == 3))
		return co_pending(k);
	return (v < b[0] || v > b[1]) ? co_fault(k, EXC_BR, false, 0) : CO_NEXT;
}

/* The small handlers the table names that have no family of their own. */
static int co_unsupported_insn(struct co *k)
{
	return co_unsupported(k, "unsupported instruction");
}

static int co_ud(struct co *k)
{
	return co_fault(k, EXC_UD, false, 0);
}

static int co_int3(struct co *k)
{
	return co_int(k, EXC_BP, true);
}

static int co_into(struct co *k)
{
	return (k->c->hflags & EFL_OF) ? co_int(k, EXC_OF, true) : CO_NEXT;
}

static int co_bound_any(struct co *k)
{
	return k->in.operand_width == 16 ? co_slow(k) : co_bound(k);
}

static int co_clts(struct co *k)
{
	if (!co_need_cpl0(k))
		return BT_EXIT_EXCEPTION;
	k->c->cr0 &= ~X86_CR0_TS;
	return co_fpu_cr0(k, k->c->cr0 | X86_CR0_TS);
}

static int co_wbinvd(struct co *k)
{
	return co_need_cpl0(k) ? CO_NEXT : BT_EXIT_EXCEPTION;
}

static int co_raise_de(struct co *k)
{
	return co_fault(k, EXC_DE, false, 0);
}

static int co_gp(struct co *k)
{
	return co_fault(k, EXC_GP, true, 0);
}

static int co_nm(struct co *k)
{
	return co_fault(k, EXC_NM, false, 0);
}

/* sysenter and sysexit go on in the target's block when it is translated. */
static int co_sysenter_fast(struct co *k)
{
	int r = co_sysenter(k);

	return r == BT_EXIT_RESUME ? co_jump(k) : r;
}

static int co_sysexit_fast(struct co *k)
{
	int r = co_sysexit(k);

	return r == BT_EXIT_RESUME ? co_jump(k) : r;
}

/* One entry per callout kind, in BT_CALLOUTS order: its handler and CO_* flags. */
static const struct co_entry {
	int (*handler)(struct co *k);
	uint8_t flags;
} co_table[BT_CO_NR] = {
#define X(name, handler, flags) [BT_CO_##name] = {handler, flags},
    BT_CALLOUTS(X)
#undef X
};

int bt_callout(struct bt_cpu *cpu)
{
	struct bt *bt = bt_of(cpu);
	const struct co_entry *e;
	struct co k;
	uint64_t inval, epoch;
	int r;

	k.bt = bt;
	k.c = cpu;
	k.site = &bt->cache.sites[cpu->co_site];
	k.next = k.site->eip + k.site->len;
	inval = bt->stats.smc_invalidations;
	epoch = bt->cache.tc_epoch;
	cpu->eip = k.site->eip;
	cpu->exc.vector = -1;
	bt->stats.callouts++;
	bt->stats.co_count[k.site->kind]++;
	if (k.site->kind == BT_CO_iret)
		bt->nmi_blocked = false; /* NMI blocking ends with any iret */
	e = &co_table[k.site->kind];
	/* The hot callouts carry what they need in the site: only the others decode. */
	if (e->flags & CO_DECODE) {
		struct co *kd = co_decode(&k);

		if (!kd)
			return co_fault(&k, EXC_UD, false, 0);
		r = e->handler(kd);
		k.next = kd->next;
	} else {
		r = e->handler(&k);
	}
	/*
	 * A CO_BEFORE callout's instruction has not run yet: should the cache be left
	 * before it (a kick), it runs again from its start, the callout included.
	 */
	if (r == CO_NEXT && (e->flags & CO_BEFORE))
		return r;
	if (r == CO_NEXT) {
		cpu->eip = k.next;
		/* The callout stored into translated code (sgdt over the next instruction...):
		 * the rest of this block may be stale, translate again from the next one. */
		if (bt->stats.smc_invalidations != inval)
			return BT_EXIT_RESUME;
		/* ... or the cache was flushed under it, or a segment base changed. */
		if (bt->cache.tc_epoch != epoch)
			return BT_EXIT_RESUME;
	}
	return r;
}
