/*
 * bt_xlat.c: which translation each guest instruction gets. Privileged and
 * sensitive instructions become callouts (the list in ARCHITECTURE.md);
 * instructions of the Pentium Pro integer ISA not named here are IDENT, and so
 * is the x87 FPU (unless CR0.EM/TS make it #NM); what a Pentium Pro lacks (MMX,
 * SSE, FXSR, fisttp...) is #UD; anything else is a callout that stops the guest
 * with a message naming the instruction.
 */
#include "bt_xlat.h"

static bool ident_isa(const ZydisDecodedInstruction *in)
{
	switch (in->meta.isa_set) {
	case ZYDIS_ISA_SET_I86:
	case ZYDIS_ISA_SET_I186:
	case ZYDIS_ISA_SET_I286REAL:
	case ZYDIS_ISA_SET_I386:
	case ZYDIS_ISA_SET_I486REAL:
	case ZYDIS_ISA_SET_I486:
	case ZYDIS_ISA_SET_PENTIUMREAL:
	case ZYDIS_ISA_SET_PPRO:
	case ZYDIS_ISA_SET_CMOV:
	case ZYDIS_ISA_SET_FAT_NOP:
	case ZYDIS_ISA_SET_PAUSE:
	case ZYDIS_ISA_SET_LAHF:
		return true;
	default:
		return false;
	}
}

static bool has_regclass(const struct xlat *x, ZydisRegisterClass cls)
{
	int i;

	for (i = 0; i < x->in.operand_count_visible; i++)
		if (x->op[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(x->op[i].reg.value) == cls)
			return true;
	return false;
}

/* in/out: the site carries port, size and direction, so the callout need not decode. */
static enum x_next x_io_site_callout(struct xlat *x)
{
	bool in = x->in.mnemonic == ZYDIS_MNEMONIC_IN;
	const ZydisDecodedOperand *acc = &x->op[in ? 0 : 1], *port = &x->op[in ? 1 : 0];
	struct bt_site *s;

	x_callout(x, BT_CO_io);
	s = &x->bt->cache.sites[x->bt->cache.nsites - 1];
	s->io_in = in;
	s->io_size = (uint8_t)(acc->size / 8);
	s->io_dx = port->type == ZYDIS_OPERAND_TYPE_REGISTER;
	s->io_port = s->io_dx ? 0 : (uint16_t)port->imm.value.u;
	return X_NEXT;
}

/* Callouts that usually leave the cache: the block ends after them. */
static enum x_next x_callout_end(struct xlat *x, int kind)
{
	x_callout(x, kind);
	x_jmp_slot(x, x->eip + x->in.length, true);
	return X_END;
}

/* int n / int3 / int1: the vector rides in the site, so the callout need not decode. */
static enum x_next x_int_site_callout(struct xlat *x, uint8_t vector, bool soft)
{
	struct bt_site *s;

	x_callout_end(x, BT_CO_intn);
	s = &x->bt->cache.sites[x->bt->cache.nsites - 1];
	s->vector = vector;
	s->soft_int = soft;
	return X_END;
}

/* Callouts the block runs through: it goes on after them. */
static enum x_next x_callout_go_on(struct xlat *x, int kind)
{
	x_callout(x, kind);
	return X_NEXT;
}

/* mov to/from CRn, DRn or a segment register: a callout; any other mov is IDENT. */
static enum x_next x_mov_callout_or_ident(struct xlat *x)
{
	if (has_regclass(x, ZYDIS_REGCLASS_CONTROL))
		return x_callout_end(x, BT_CO_movcr);
	if (has_regclass(x, ZYDIS_REGCLASS_DEBUG))
		return x_callout_go_on(x, BT_CO_movdr);
	if (x->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetClass(x->op[0].reg.value) == ZYDIS_REGCLASS_SEGMENT)
		return x_callout_go_on(x, BT_CO_sreg_load);
	if (has_regclass(x, ZYDIS_REGCLASS_SEGMENT))
		return x_callout_go_on(x, BT_CO_sreg_read);
	return x_ident(x, x->n);
}

/* Would this instruction be translated IDENT (not rewritten, not a callout)? */
static bool plain_ident(const struct xlat *x)
{
	switch (x->in.meta.category) {
	case ZYDIS_CATEGORY_BINARY:
	case ZYDIS_CATEGORY_LOGICAL:
	case ZYDIS_CATEGORY_SHIFT:
	case ZYDIS_CATEGORY_ROTATE:
	case ZYDIS_CATEGORY_BITBYTE:
	case ZYDIS_CATEGORY_CMOV:
	case ZYDIS_CATEGORY_SETCC:
	case ZYDIS_CATEGORY_SEMAPHORE:
	case ZYDIS_CATEGORY_CONVERT:
		return ident_isa(&x->in);
	case ZYDIS_CATEGORY_DATAXFER:
		return ident_isa(&x->in) && !has_regclass(x, ZYDIS_REGCLASS_SEGMENT) &&
		       !has_regclass(x, ZYDIS_REGCLASS_CONTROL) &&
		       !has_regclass(x, ZYDIS_REGCLASS_DEBUG);
	default:
		return false;
	}
}

/* The visible memory operand of an IDENT-able instruction, or NULL. */
static const ZydisDecodedOperand *mem_operand(const struct xlat *x)
{
	int i;

	if (x->in.mnemonic == ZYDIS_MNEMONIC_LEA || x->in.address_width != 32)
		return NULL;
	for (i = 0; i < x->in.operand_count_visible; i++)
		if (x->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
			return &x->op[i];
	return NULL;
}

/*
 * Adapted page-table store or MMIO access: r13d = the address, adapt_pre aims the
 * view base (r8) at the page's RAM (or a scratch page holding the device value),
 * the instruction runs IDENT without faulting, its address computed exactly so it
 * reaches that page only, and adapt_post puts the view back and does the bookkeeping.
 */
static int x_redirect(struct xlat *x, int n, const ZydisDecodedOperand *m)
{
	static const uint8_t store_arg[] = {0x45, 0x89, 0x6e, CPU_ARG}; /* mov [r14+arg], r13d */
	struct bt_site *s;
	int ret;

	emit_ea32(&x->e, R(R13D), map_reg(m->mem.base), map_reg(m->mem.index), m->mem.scale,
	          (int32_t)((uint32_t)m->mem.disp.value + emit_seg_base(&x->e)));
	emit_seg_add(&x->e, R(R13D));
	emit_bytes(&x->e, store_arg, sizeof(store_arg));
	x_callout(x, BT_CO_adapt_pre);
	s = &x->bt->cache.sites[x->bt->cache.nsites - 1];
	s->mem_size = (uint8_t)(m->size / 8);
	s->mem_read = m->actions & ZYDIS_OPERAND_ACTION_MASK_READ;
	s->mem_write = m->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
	/* r8 may point at one host page now: the access must be computed exactly */
	x->e.exact = true;
	ret = x_ident(x, n);
	x_callout(x, BT_CO_adapt_post);
	x->bt->cache.sites[x->bt->cache.nsites - 1].mem_write = s->mem_write;
	x->bt->cache.sites[x->bt->cache.nsites - 1].mem_size = s->mem_size;
	return ret;
}

/* Adapted divide: an inline, flag-free zero-divisor check; #DE by callout, no SIGFPE. */
static int x_div_checked(struct xlat *x, int n)
{
	static const uint8_t xchg[] = {0x49, 0x87, 0xcd}; /* xchg rcx, r13 */
	const ZydisDecodedOperand *d = &x->op[0];
	ZydisEncoderRequest r;
	uint8_t *jz, *jdone;
	int size = d->size / 8;

	if (d->type == ZYDIS_OPERAND_TYPE_REGISTER && d->reg.value >= R(AH) &&
	    d->reg.value <= R(BH)) {
		/* AH..BH cannot sit next to r13 (REX): through cpu->arg, flag-free */
		uint8_t id = (uint8_t)(d->reg.value - R(AH));
		const uint8_t spill[] = {0x41, 0x89, (uint8_t)(0x46 | id << 3),
		                         CPU_ARG}; /* mov [r14+arg], e?x */
		const uint8_t load[] = {0x45, 0x0f, 0xb6, 0x6e,
		                        CPU_ARG + 1}; /* movzx r13d, byte [r14+arg+1] */

		emit_bytes(&x->e, spill, sizeof(spill));
		emit_bytes(&x->e, load, sizeof(load));
	} else {
		req_init(&r, size == 4 ? ZYDIS_MNEMONIC_MOV : ZYDIS_MNEMONIC_MOVZX);
		req_reg(&r, R(R13D));
		if (d->type == ZYDIS_OPERAND_TYPE_REGISTER)
			req_reg(&r, map_reg(d->reg.value));
		else
			req_gmem(&x->e, &r, map_reg(d->mem.base), map_reg(d->mem.index),
			         d->mem.scale, d->mem.disp.value, (uint16_t)size);
		emit_req(&x->e, &r);
	}
	emit_bytes(&x->e, xchg, sizeof(xchg));
	emit_u8(&x->e, 0xe3); /* jrcxz zero */
	emit_u8(&x->e, 0);
	jz = x->e.p - 1;
	emit_bytes(&x->e, xchg, sizeof(xchg));
	x_ident(x, n);
	emit_u8(&x->e, 0xeb); /* jmp done */
	emit_u8(&x->e, 0);
	jdone = x->e.p - 1;
	*jz = (uint8_t)(x->e.p - (jz + 1));
	emit_bytes(&x->e, xchg, sizeof(xchg));
	x_callout(x, BT_CO_raise_de);
	*jdone = (uint8_t)(x->e.p - (jdone + 1));
	return 0;
}

/*
 * bt/bts/btr/btc [mem], reg reach up to 256 MiB either side of [mem]: never
 * redirected to a single host page (they keep the faulting, view-confined way).
 */
static bool bit_offset_reg(const struct xlat *x)
{
	switch (x->in.mnemonic) {
	case ZYDIS_MNEMONIC_BT:
	case ZYDIS_MNEMONIC_BTS:
	case ZYDIS_MNEMONIC_BTR:
	case ZYDIS_MNEMONIC_BTC:
		return x->op[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
	default:
		return false;
	}
}

/*
 * An access that keeps taking true page faults: r13d = the address, a callout
 * checks the shadow (walking the guest tables on a miss) and delivers the #PF
 * itself; when the page is there the instruction runs as IDENT.
 */
static int x_pf_checked(struct xlat *x, int n, const ZydisDecodedOperand *m)
{
	static const uint8_t store_arg[] = {0x45, 0x89, 0x6e, CPU_ARG}; /* mov [r14+arg], r13d */
	struct bt_site *s;

	emit_ea32(&x->e, R(R13D), map_reg(m->mem.base), map_reg(m->mem.index), m->mem.scale,
	          (int32_t)((uint32_t)m->mem.disp.value + emit_seg_base(&x->e)));
	emit_seg_add(&x->e, R(R13D));
	emit_bytes(&x->e, store_arg, sizeof(store_arg));
	x_callout(x, BT_CO_pf_check);
	s = &x->bt->cache.sites[x->bt->cache.nsites - 1];
	s->mem_size = (uint8_t)(m->size / 8);
	s->mem_read = m->actions & ZYDIS_OPERAND_ACTION_MASK_READ;
	s->mem_write = m->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
	return x_ident(x, n);
}

static int x_adapted(struct xlat *x, int n, int reason)
{
	const ZydisDecodedOperand *m;

	if (reason == ADAPT_DIV &&
	    (x->in.mnemonic == ZYDIS_MNEMONIC_DIV || x->in.mnemonic == ZYDIS_MNEMONIC_IDIV))
		return x_div_checked(x, n);
	if ((reason == ADAPT_PT || reason == ADAPT_MMIO) && (m = mem_operand(x)) &&
	    plain_ident(x) && !bit_offset_reg(x))
		return x_redirect(x, n, m);
	if (reason == ADAPT_PF && (m = mem_operand(x)) && plain_ident(x) && m->size >= 8)
		return x_pf_checked(x, n, m);
	return -1;
}

/*
 * rep bsf / rep bsr: later CPUs read F3 0F BC/BD as tzcnt/lzcnt; a P6 ignores
 * the prefix. Decode again without it and translate the bsf/bsr.
 */
static enum x_next x_bsf_bsr_unprefixed(struct xlat *x)
{
	uint8_t b[16];
	uint8_t len = x->in.length, np = x->in.raw.prefix_count, i, k = 0;
	enum x_next r;

	for (i = 0; i < len; i++)
		if (i >= np || x->bytes[i] != 0xf3)
			b[k++] = x->bytes[i];
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(x->bt->dec32, b, k, &x->in, x->op)))
		return unsupported(x);
	r = x_ident(x, x->n);
	x->in.length = len;
	return r;
}

/* xlat: movzx/lea/load through r9 (EBX + AL, wrapping at 4 GiB as a 32-bit lea). */
static enum x_next x_xlat_movzx_load(struct xlat *x)
{
	static const uint8_t xlat[] = {
	    0x44, 0x0f, 0xb6, 0xc8, /* movzx r9d, al        */
	    0x46, 0x8d, 0x0c, 0x0b, /* lea r9d, [rbx + r9]  (32-bit: wraps) */
	};
	static const uint8_t load[] = {0x43, 0x8a, 0x04, 0x08}; /* mov al, [r8 + r9] */
	uint32_t base = emit_seg_base(&x->e);

	if (x->in.address_width == 16)
		return x_callout_go_on(x, BT_CO_slow); /* BX, not EBX */

	emit_bytes(&x->e, xlat, sizeof(xlat));
	if (base) /* the segment base, in 32 bits too */
		emit_ea32(&x->e, R(R9D), R(R9D), R(NONE), 0, (int32_t)base);
	emit_seg_add(&x->e, R(R9D)); /* or FS/GS's, at run time */
	emit_bytes(&x->e, load, sizeof(load));
	return X_NEXT;
}

/* sti: its callout, and the block ends one instruction later (the sti shadow). */
static enum x_next x_sti_callout_shadow(struct xlat *x)
{
	x->end_after_next = 2; /* the sti shadow: one more instruction, then look */
	return x_callout_go_on(x, BT_CO_sti);
}

/* popf: its callout, and the block ends after it (IF may have been set). */
static enum x_next x_popf_callout_end_next(struct xlat *x)
{
	x->end_after_next = 1;
	return x_callout_go_on(x, BT_CO_popf);
}

static enum x_next x_int_n_site_callout(struct xlat *x)
{
	return x_int_site_callout(x, (uint8_t)x->op[0].imm.value.u, true);
}

static enum x_next x_int1_site_callout(struct xlat *x)
{
	return x_int_site_callout(x, EXC_DB, false);
}

static enum x_next x_int3_site_callout(struct xlat *x)
{
	return x_int_site_callout(x, EXC_BP, true);
}

/* lea: IDENT (no access); 16-bit addressing has no 64-bit encoding: in C. */
static enum x_next x_lea_ident_or_slow(struct xlat *x)
{
	if (x->in.address_width == 16)
		return x_callout_go_on(x, BT_CO_slow); /* no 16-bit addressing in 64-bit mode */
	return x_ident(x, x->n);
}

/* rdtsc: IDENT, or a callout (#GP) in ring 3 when CR4.TSD is set. */
static enum x_next x_rdtsc_ident_or_callout(struct xlat *x)
{
	if (x->tb->cpl & 3 && (x->bt->cpu.cr4 & 0x4u)) /* CR4.TSD: #GP in ring 3 */
		return x_callout_go_on(x, BT_CO_rdtsc);
	return x_ident(x, x->n);
}

/* fwait: IDENT, or #NM by callout with CR0.TS and CR0.MP (SDM Vol 3A table 2-2; EM does not
 * affect wait). */
static enum x_next x_fwait_ident_or_nm(struct xlat *x)
{
	if ((x->bt->cpu.cr0 & (X86_CR0_TS | X86_CR0_MP)) == (X86_CR0_TS | X86_CR0_MP))
		return x_callout_end(x, BT_CO_nm);
	return x_ident(x, x->n);
}

/*
 * x87 runs natively on the guest's FPU state (which lives in the host FPU while the
 * engine runs): memory operands are rewritten like any other access. The blocks are
 * translated for the current CR0.EM/TS; a change of either flushes the cache
 * (bt_fpu_cr0_changed). With either set: #NM by callout.
 */
static enum x_next x_x87_ident_or_nm(struct xlat *x)
{
	if (x->bt->cpu.cr0 & (X86_CR0_EM | X86_CR0_TS))
		return x_callout_end(x, BT_CO_nm);
	return x_ident(x, x->n);
}

/* movs/cmps/stos/lods/scas: the inline loop of bt_xlat_string.c; SI/DI/CX forms in C. */
static enum x_next x_string_or_slow(struct xlat *x)
{
	if (x->in.address_width == 16)
		return x_callout_go_on(x, BT_CO_slow); /* SI/DI/CX: in C */
	return x_string(x);
}

/* jcc: an exit slot; loop/loope/loopne/jecxz: the host's own loop (CX or IP forms in C). */
static enum x_next x_cond_branch(struct xlat *x)
{
	switch (x->in.mnemonic) {
	case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE:
	case ZYDIS_MNEMONIC_JECXZ:
	case ZYDIS_MNEMONIC_JCXZ:
		if (x->in.address_width != 32 || x->in.operand_width != 32)
			return x_callout_end(x, BT_CO_slow); /* CX or IP: in C */
		return x_loop(x);
	default:
		return x_jcc(x);
	}
}

/* How an instruction is translated: the class of its rule. */
enum x_class {
	XC_NONE,        /* no rule for the mnemonic: its ISA and category decide (x_rule_of) */
	XC_IDENT,       /* copied, memory operands rewritten (x_ident) */
	XC_REWRITE,     /* a function that emits a sequence of its own */
	XC_CALLOUT,     /* a callout, then the block goes on */
	XC_CALLOUT_END, /* a callout, then an exit slot: the block ends */
	XC_UNSUPPORTED, /* a callout that stops the guest, naming the instruction */
};

struct x_rule {
	enum x_class cls;
	enum bt_callout_kind kind;              /* XC_CALLOUT, XC_CALLOUT_END */
	enum x_next (*rewrite)(struct xlat *x); /* XC_REWRITE */
};

#define RW(fn)                                                                                     \
	{                                                                                          \
		XC_REWRITE, 0, fn                                                                  \
	}
#define CO(k)                                                                                      \
	{                                                                                          \
		XC_CALLOUT, BT_CO_##k, NULL                                                        \
	}
#define CO_END(k)                                                                                  \
	{                                                                                          \
		XC_CALLOUT_END, BT_CO_##k, NULL                                                    \
	}
#define M(m) [ZYDIS_MNEMONIC_##m]

/* The rules by mnemonic (the list of sensitive instructions in ARCHITECTURE.md). */
static const struct x_rule rules[ZYDIS_MNEMONIC_MAX_VALUE + 1] = {
    M(JMP) = RW(x_jmp),
    M(CALL) = RW(x_call),
    M(RET) = RW(x_ret),
    M(PUSH) = RW(x_push),
    M(POP) = RW(x_pop),
    M(PUSHAD) = RW(x_pusha),
    M(PUSHA) = RW(x_pusha),
    M(POPAD) = RW(x_popa),
    M(POPA) = RW(x_popa),
    M(ENTER) = RW(x_enter),
    M(LEAVE) = RW(x_leave),
    M(MOV) = RW(x_mov_callout_or_ident),
    M(XLAT) = RW(x_xlat_movzx_load),
    M(IN) = RW(x_io_site_callout),
    M(OUT) = RW(x_io_site_callout),
    M(INSB) = CO(iostr),
    M(INSW) = CO(iostr),
    M(INSD) = CO(iostr),
    M(OUTSB) = CO(iostr),
    M(OUTSW) = CO(iostr),
    M(OUTSD) = CO(iostr),
    M(CLI) = CO(cli),
    M(STI) = RW(x_sti_callout_shadow),
    M(PUSHF) = CO(pushf),
    M(PUSHFD) = CO(pushf),
    M(CLD) = RW(x_cld_std),
    M(STD) = RW(x_cld_std),
    M(POPF) = RW(x_popf_callout_end_next),
    M(POPFD) = RW(x_popf_callout_end_next),
    M(HLT) = CO_END(hlt),
    M(INT) = RW(x_int_n_site_callout),
    M(INT1) = RW(x_int1_site_callout),
    M(INT3) = RW(x_int3_site_callout),
    M(INTO) = CO(into),
    M(IRET) = CO_END(iret),
    M(IRETD) = CO_END(iret),
    M(CPUID) = CO(cpuid),
    M(RDMSR) = CO(msr),
    M(WRMSR) = CO(msr),
    M(SYSENTER) = CO_END(sysenter),
    M(SYSEXIT) = CO_END(sysexit),
    M(LGDT) = CO(desc_table),
    M(LIDT) = CO(desc_table),
    M(SGDT) = CO(desc_table),
    M(SIDT) = CO(desc_table),
    M(LTR) = CO(desc_table),
    M(STR) = CO(desc_table),
    M(LLDT) = CO(desc_table),
    M(SLDT) = CO(desc_table),
    M(SMSW) = CO(desc_table),
    M(LMSW) = CO(desc_table),
    M(CLTS) = CO(clts),
    M(INVLPG) = CO_END(invlpg),
    M(WBINVD) = CO(wbinvd),
    M(INVD) = CO(wbinvd),
    M(AAA) = CO(bcd),
    M(AAS) = CO(bcd),
    M(DAA) = CO(bcd),
    M(DAS) = CO(bcd),
    M(AAM) = CO(bcd),
    M(AAD) = CO(bcd),
    M(BOUND) = CO(bound),
    M(LDS) = CO(sreg_load),
    M(LES) = CO(sreg_load),
    M(LSS) = CO(sreg_load),
    M(LFS) = CO(sreg_load),
    M(LGS) = CO(sreg_load),
    M(LAR) = CO(segcheck),
    M(LSL) = CO(segcheck),
    M(VERR) = CO(segcheck),
    M(VERW) = CO(segcheck),
    M(ARPL) = CO(slow),
    M(SALC) = CO(slow), /* no 64-bit encoding */
    M(LEA) = RW(x_lea_ident_or_slow),
    M(UD0) = CO_END(ud),
    M(UD1) = CO_END(ud),
    M(UD2) = CO_END(ud),
    M(RSM) = CO_END(ud), /* outside SMM */
    M(RDTSC) = RW(x_rdtsc_ident_or_callout),
    M(FWAIT) = RW(x_fwait_ident_or_nm),
    M(TZCNT) = RW(x_bsf_bsr_unprefixed),
    M(LZCNT) = RW(x_bsf_bsr_unprefixed),
};

static const struct x_rule rule_string = RW(x_string_or_slow), rule_cond_br = RW(x_cond_branch),
                           rule_x87 = RW(x_x87_ident_or_nm), rule_ud = CO_END(ud),
                           rule_unsupported = {XC_UNSUPPORTED, 0, NULL},
                           rule_ident = {XC_IDENT, 0, NULL};

#undef RW
#undef CO
#undef CO_END
#undef M

/*
 * The rule for x->in: string and conditional-branch instructions by category, then
 * by mnemonic; else x87 natively, what the modelled P6 lacks (MMX, SSE, FXSR,
 * fisttp...) #UD as that CPU, a system instruction not named unsupported, the rest
 * of the P6 integer ISA IDENT.
 */
static const struct x_rule *x_rule_of(const struct xlat *x)
{
	const ZydisDecodedInstruction *in = &x->in;
	const struct x_rule *r;

	if (in->meta.category == ZYDIS_CATEGORY_STRINGOP)
		return &rule_string;
	if (in->meta.category == ZYDIS_CATEGORY_COND_BR)
		return &rule_cond_br;
	r = &rules[in->mnemonic];
	if (r->cls != XC_NONE)
		return r;
	if (in->meta.isa_ext == ZYDIS_ISA_EXT_X87)
		return &rule_x87;
	if (!ident_isa(in))
		return &rule_ud;
	if (in->meta.category == ZYDIS_CATEGORY_SYSTEM ||
	    in->meta.category == ZYDIS_CATEGORY_INTERRUPT || in->meta.category == ZYDIS_CATEGORY_IO)
		return &rule_unsupported;
	return &rule_ident;
}

enum x_next x_insn(struct xlat *x, int n)
{
	ZydisDecodedInstruction *in = &x->in;
	int reason = bt_adapt_reason(x->bt, x->eip, x->tb->cpl), r;
	const struct x_rule *rule;

	x->n = n;
	if (reason && (r = x_adapted(x, n, reason)) >= 0)
		return r ? X_END : X_NEXT;
	/* 0F 18-1F are hint NOPs on a P6 (prefetch, endbr32, MPX): no access, no effect. */
	if (in->opcode_map == ZYDIS_OPCODE_MAP_0F && in->opcode >= 0x18 && in->opcode <= 0x1f)
		return X_NEXT;
	rule = x_rule_of(x);
	switch (rule->cls) {
	case XC_REWRITE:
		return rule->rewrite(x);
	case XC_CALLOUT:
		return x_callout_go_on(x, rule->kind);
	case XC_CALLOUT_END:
		return x_callout_end(x, rule->kind);
	case XC_UNSUPPORTED:
		return unsupported(x);
	case XC_IDENT:
	case XC_NONE:
	default:
		return x_ident(x, n);
	}
}
