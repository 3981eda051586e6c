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
static int x_io(struct xlat *x)
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
	return 0;
}

/* Callouts that usually leave the cache: the block ends after them. */
static int callout_end(struct xlat *x, int kind)
{
	x_callout(x, kind);
	x_jmp_slot(x, x->eip + x->in.length, true);
	return 1;
}

/* int n / int3 / int1: the vector rides in the site, so the callout need not decode. */
static int x_int(struct xlat *x, uint8_t vector, bool soft)
{
	struct bt_site *s;

	callout_end(x, BT_CO_intn);
	s = &x->bt->cache.sites[x->bt->cache.nsites - 1];
	s->vector = vector;
	s->soft_int = soft;
	return 1;
}

static int callout_on(struct xlat *x, int kind)
{
	x_callout(x, kind);
	return 0;
}

static int x_mov(struct xlat *x, int n)
{
	if (has_regclass(x, ZYDIS_REGCLASS_CONTROL))
		return callout_end(x, BT_CO_movcr);
	if (has_regclass(x, ZYDIS_REGCLASS_DEBUG))
		return callout_on(x, BT_CO_movdr);
	if (x->op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetClass(x->op[0].reg.value) == ZYDIS_REGCLASS_SEGMENT)
		return callout_on(x, BT_CO_sreg_load);
	if (has_regclass(x, ZYDIS_REGCLASS_SEGMENT))
		return callout_on(x, BT_CO_sreg_read);
	return x_ident(x, n);
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
static int x_rep_bsx(struct xlat *x, int n)
{
	uint8_t b[16];
	uint8_t len = x->in.length, np = x->in.raw.prefix_count, i, k = 0;
	int r;

	for (i = 0; i < len; i++)
		if (i >= np || x->bytes[i] != 0xf3)
			b[k++] = x->bytes[i];
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(x->bt->dec32, b, k, &x->in, x->op)))
		return unsupported(x);
	r = x_ident(x, n);
	x->in.length = len;
	return r;
}

int x_insn(struct xlat *x, int n)
{
	ZydisDecodedInstruction *in = &x->in;
	int reason = bt_adapt_reason(x->bt, x->eip, x->tb->cpl), r;

	if (reason && (r = x_adapted(x, n, reason)) >= 0)
		return r;
	/* 0F 18-1F are hint NOPs on a P6 (prefetch, endbr32, MPX): no access, no effect. */
	if (in->opcode_map == ZYDIS_OPCODE_MAP_0F && in->opcode >= 0x18 && in->opcode <= 0x1f)
		return 0;
	if (in->mnemonic == ZYDIS_MNEMONIC_TZCNT || in->mnemonic == ZYDIS_MNEMONIC_LZCNT)
		return x_rep_bsx(x, n);
	if (in->mnemonic == ZYDIS_MNEMONIC_SALC)
		return callout_on(x, BT_CO_slow); /* no 64-bit encoding */

	if (in->meta.category == ZYDIS_CATEGORY_STRINGOP && in->address_width == 16)
		return callout_on(x, BT_CO_slow); /* SI/DI/CX: in C */
	if (in->meta.category == ZYDIS_CATEGORY_STRINGOP)
		return x_string(x);
	if (in->meta.category == ZYDIS_CATEGORY_COND_BR) {
		if (in->mnemonic == ZYDIS_MNEMONIC_LOOP || in->mnemonic == ZYDIS_MNEMONIC_LOOPE ||
		    in->mnemonic == ZYDIS_MNEMONIC_LOOPNE || in->mnemonic == ZYDIS_MNEMONIC_JECXZ ||
		    in->mnemonic == ZYDIS_MNEMONIC_JCXZ) {
			if (in->address_width != 32 || in->operand_width != 32)
				return callout_end(x, BT_CO_slow); /* CX or IP: in C */
			return x_loop(x);
		}
		return x_jcc(x);
	}
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_JMP:
		return x_jmp(x);
	case ZYDIS_MNEMONIC_CALL:
		return x_call(x);
	case ZYDIS_MNEMONIC_RET:
		return x_ret(x);
	case ZYDIS_MNEMONIC_PUSH:
		return x_push(x);
	case ZYDIS_MNEMONIC_POP:
		return x_pop(x);
	case ZYDIS_MNEMONIC_PUSHAD:
	case ZYDIS_MNEMONIC_PUSHA:
		return x_pusha(x);
	case ZYDIS_MNEMONIC_POPAD:
	case ZYDIS_MNEMONIC_POPA:
		return x_popa(x);
	case ZYDIS_MNEMONIC_ENTER:
		return x_enter(x);
	case ZYDIS_MNEMONIC_LEAVE:
		return x_leave(x);
	case ZYDIS_MNEMONIC_MOV:
		return x_mov(x, n);
	case ZYDIS_MNEMONIC_XLAT: {
		static const uint8_t xlat[] = {
		    0x44, 0x0f, 0xb6, 0xc8, /* movzx r9d, al        */
		    0x46, 0x8d, 0x0c, 0x0b, /* lea r9d, [rbx + r9]  (32-bit: wraps) */
		};
		static const uint8_t load[] = {0x43, 0x8a, 0x04, 0x08}; /* mov al, [r8 + r9] */
		uint32_t base = emit_seg_base(&x->e);

		if (in->address_width == 16)
			return callout_on(x, BT_CO_slow); /* BX, not EBX */

		emit_bytes(&x->e, xlat, sizeof(xlat));
		if (base) /* the segment base, in 32 bits too */
			emit_ea32(&x->e, R(R9D), R(R9D), R(NONE), 0, (int32_t)base);
		emit_seg_add(&x->e, R(R9D)); /* or FS/GS's, at run time */
		emit_bytes(&x->e, load, sizeof(load));
		return 0;
	}
	case ZYDIS_MNEMONIC_IN:
	case ZYDIS_MNEMONIC_OUT:
		return x_io(x);
	case ZYDIS_MNEMONIC_INSB:
	case ZYDIS_MNEMONIC_INSW:
	case ZYDIS_MNEMONIC_INSD:
	case ZYDIS_MNEMONIC_OUTSB:
	case ZYDIS_MNEMONIC_OUTSW:
	case ZYDIS_MNEMONIC_OUTSD:
		return callout_on(x, BT_CO_iostr);
	case ZYDIS_MNEMONIC_CLI:
		return callout_on(x, BT_CO_cli);
	case ZYDIS_MNEMONIC_STI:
		x->end_after_next = 2; /* the sti shadow: one more instruction, then look */
		return callout_on(x, BT_CO_sti);
	case ZYDIS_MNEMONIC_PUSHF:
	case ZYDIS_MNEMONIC_PUSHFD:
		return callout_on(x, BT_CO_pushf);
	case ZYDIS_MNEMONIC_POPF:
	case ZYDIS_MNEMONIC_POPFD:
		x->end_after_next = 1;
		return callout_on(x, BT_CO_popf);
	case ZYDIS_MNEMONIC_HLT:
		return callout_end(x, BT_CO_hlt);
	case ZYDIS_MNEMONIC_INT:
		return x_int(x, (uint8_t)x->op[0].imm.value.u, true);
	case ZYDIS_MNEMONIC_INT1:
		return x_int(x, EXC_DB, false);
	case ZYDIS_MNEMONIC_INT3:
		return x_int(x, EXC_BP, true);
	case ZYDIS_MNEMONIC_INTO:
		return callout_on(x, BT_CO_into);
	case ZYDIS_MNEMONIC_IRET:
	case ZYDIS_MNEMONIC_IRETD:
		return callout_end(x, BT_CO_iret);
	case ZYDIS_MNEMONIC_CPUID:
		return callout_on(x, BT_CO_cpuid);
	case ZYDIS_MNEMONIC_RDMSR:
	case ZYDIS_MNEMONIC_WRMSR:
		return callout_on(x, BT_CO_msr);
	case ZYDIS_MNEMONIC_SYSENTER:
		return callout_end(x, BT_CO_sysenter);
	case ZYDIS_MNEMONIC_SYSEXIT:
		return callout_end(x, BT_CO_sysexit);
	case ZYDIS_MNEMONIC_LGDT:
	case ZYDIS_MNEMONIC_LIDT:
	case ZYDIS_MNEMONIC_SGDT:
	case ZYDIS_MNEMONIC_SIDT:
	case ZYDIS_MNEMONIC_LTR:
	case ZYDIS_MNEMONIC_STR:
	case ZYDIS_MNEMONIC_LLDT:
	case ZYDIS_MNEMONIC_SLDT:
	case ZYDIS_MNEMONIC_SMSW:
	case ZYDIS_MNEMONIC_LMSW:
		return callout_on(x, BT_CO_desc_table);
	case ZYDIS_MNEMONIC_CLTS:
		return callout_on(x, BT_CO_clts);
	case ZYDIS_MNEMONIC_INVLPG:
		return callout_end(x, BT_CO_invlpg);
	case ZYDIS_MNEMONIC_WBINVD:
	case ZYDIS_MNEMONIC_INVD:
		return callout_on(x, BT_CO_wbinvd);
	case ZYDIS_MNEMONIC_AAA:
	case ZYDIS_MNEMONIC_AAS:
	case ZYDIS_MNEMONIC_DAA:
	case ZYDIS_MNEMONIC_DAS:
	case ZYDIS_MNEMONIC_AAM:
	case ZYDIS_MNEMONIC_AAD:
		return callout_on(x, BT_CO_bcd);
	case ZYDIS_MNEMONIC_BOUND:
		return callout_on(x, BT_CO_bound);
	case ZYDIS_MNEMONIC_LDS:
	case ZYDIS_MNEMONIC_LES:
	case ZYDIS_MNEMONIC_LSS:
	case ZYDIS_MNEMONIC_LFS:
	case ZYDIS_MNEMONIC_LGS:
		return callout_on(x, BT_CO_sreg_load);
	case ZYDIS_MNEMONIC_LAR:
	case ZYDIS_MNEMONIC_LSL:
	case ZYDIS_MNEMONIC_VERR:
	case ZYDIS_MNEMONIC_VERW:
		return callout_on(x, BT_CO_segcheck);
	case ZYDIS_MNEMONIC_ARPL:
		return callout_on(x, BT_CO_slow);
	case ZYDIS_MNEMONIC_LEA:
		if (in->address_width == 16)
			return callout_on(x, BT_CO_slow); /* no 16-bit addressing in 64-bit mode */
		return x_ident(x, n);
	case ZYDIS_MNEMONIC_UD0:
	case ZYDIS_MNEMONIC_UD1:
	case ZYDIS_MNEMONIC_UD2:
	case ZYDIS_MNEMONIC_RSM: /* outside SMM */
		return callout_end(x, BT_CO_ud);
	case ZYDIS_MNEMONIC_RDTSC:
		if (x->tb->cpl & 3 && (x->bt->cpu.cr4 & 0x4u)) /* CR4.TSD: #GP in ring 3 */
			return callout_on(x, BT_CO_rdtsc);
		return x_ident(x, n);
	case ZYDIS_MNEMONIC_FWAIT:
		/* CR0.TS with CR0.MP: #NM (SDM Vol 3A table 2-2); EM does not affect wait */
		if ((x->bt->cpu.cr0 & (X86_CR0_TS | X86_CR0_MP)) == (X86_CR0_TS | X86_CR0_MP))
			return callout_end(x, BT_CO_nm);
		return x_ident(x, n);
	default:
		break;
	}
	/*
	 * x87 runs natively on the guest's FPU state (which lives in the host FPU while
	 * the engine runs): memory operands are rewritten like any other access. The
	 * blocks are translated for the current CR0.EM/TS; a change of either flushes
	 * the cache (bt_fpu_cr0_changed).
	 */
	if (in->meta.isa_ext == ZYDIS_ISA_EXT_X87) {
		if (x->bt->cpu.cr0 & (X86_CR0_EM | X86_CR0_TS))
			return callout_end(x, BT_CO_nm);
		return x_ident(x, n);
	}
	/* Beyond the modelled P6 (MMX, SSE, FXSR, fisttp...): #UD as that CPU. */
	if (!ident_isa(in))
		return callout_end(x, BT_CO_ud);
	if (in->meta.category == ZYDIS_CATEGORY_SYSTEM ||
	    in->meta.category == ZYDIS_CATEGORY_INTERRUPT || in->meta.category == ZYDIS_CATEGORY_IO)
		return unsupported(x);
	return x_ident(x, n);
}
