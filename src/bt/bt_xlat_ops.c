/*
 * bt_xlat_ops.c: what each guest instruction becomes. IDENT re-encoding with
 * the memory (r8-based, bt_emit.h) and ESP rewrite; rewritten stack, string and control-flow
 * instructions; callouts for everything sensitive. Every rewritten sequence
 * makes its last guest-visible change after its last access that can fault,
 * so a fault leaves the guest state of the instruction's start.
 */
#include <string.h>

#include "bt_xlat.h"

ZydisRegister map_reg(ZydisRegister r)
{
	if (r == R(ESP))
		return R(R15D);
	if (r == R(SP))
		return R(R15W);
	return r;
}

static bool is_high8(ZydisRegister r)
{
	return r == R(AH) || r == R(CH) || r == R(DH) || r == R(BH);
}

static bool is_r15(ZydisRegister r)
{
	return r == R(R15D) || r == R(R15W);
}

ZydisRegister gpr_sized(int id, int size)
{
	static const ZydisRegister r32[] = {R(EAX), R(ECX), R(EDX), R(EBX),
	                                    R(ESP), R(EBP), R(ESI), R(EDI)};
	static const ZydisRegister r16[] = {R(AX), R(CX), R(DX), R(BX), R(SP), R(BP), R(SI), R(DI)};
	static const ZydisRegister r8[] = {R(AL), R(CL), R(DL), R(BL), R(AH), R(CH), R(DH), R(BH)};

	return size == 4 ? r32[id] : size == 2 ? r16[id] : r8[id];
}

ZydisRegister tmp(int num, int size)
{
	static const ZydisRegister r12[] = {R(R12B), R(R12W), R(NONE), R(R12D)};
	static const ZydisRegister r13[] = {R(R13B), R(R13W), R(NONE), R(R13D)};

	return num == 12 ? r12[size - 1] : r13[size - 1];
}

/*
 * Convert the decoded guest instruction into a 64-bit request: registers mapped
 * (ESP -> r15d); a memory operand (but lea's) is left in guest terms in *mem for
 * the caller to rewrite (req_gmem). LEA keeps its 32-bit address computation.
 */
static bool to_request(struct xlat *x, ZydisEncoderRequest *req, ZydisEncoderOperand **mem)
{
	int i;

	*mem = NULL;
	if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(
	        &x->in, x->op, x->in.operand_count_visible, req)))
		return false;
	req->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	req->prefixes &= ~(ZydisInstructionAttributes)ZYDIS_ATTRIB_HAS_SEGMENT;
	for (i = 0; i < req->operand_count; i++) {
		ZydisEncoderOperand *o = &req->operands[i];

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			o->reg.value = map_reg(o->reg.value);
		} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (x->in.address_width != 32)
				return false; /* 16-bit addressing has no 64-bit form */
			o->mem.base = map_reg(o->mem.base);
			o->mem.index = map_reg(o->mem.index);
			if (x->in.mnemonic == ZYDIS_MNEMONIC_LEA)
				req->address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
			else
				*mem = o;
		}
	}
	return true;
}

/* Rewrite the guest memory operand *o in place as req_gmem would build it. */
static void gmem_in_place(struct xlat *x, ZydisEncoderRequest *req, ZydisEncoderOperand *o)
{
	ZydisEncoderOperand g = *o;
	int idx = (int)(o - req->operands);
	uint8_t n = req->operand_count;

	req->operand_count = (uint8_t)idx;
	req_gmem(&x->e, req, g.mem.base, g.mem.index, g.mem.scale, g.mem.displacement, g.mem.size);
	req->operand_count = n;
}

static bool has_high8(const ZydisEncoderRequest *req)
{
	int i;

	for (i = 0; i < req->operand_count; i++)
		if (req->operands[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    is_high8(req->operands[i].reg.value))
			return true;
	return false;
}

/* AH..BH cannot be encoded next to a REX prefix (r15d): borrow a guest register. */
static bool needs_spill(const ZydisEncoderRequest *req)
{
	bool rex = false;
	int i;

	for (i = 0; i < req->operand_count; i++) {
		const ZydisEncoderOperand *o = &req->operands[i];

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
			rex |= is_r15(o->reg.value);
		else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY)
			rex |= is_r15(o->mem.base) || is_r15(o->mem.index);
	}
	return has_high8(req) && rex;
}

static int spill_choice(struct xlat *x)
{
	static const int order[] = {6, 7, 5, 3, 2, 1, 0}; /* esi edi ebp ebx edx ecx eax */
	unsigned i, k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		bool used = false;

		for (i = 0; i < x->in.operand_count; i++) {
			const ZydisDecodedOperand *o = &x->op[i];
			ZydisRegister regs[3] = {R(NONE), R(NONE), R(NONE)};
			int j;

			if (o->type == ZYDIS_OPERAND_TYPE_REGISTER)
				regs[0] = o->reg.value;
			else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY)
				regs[1] = o->mem.base, regs[2] = o->mem.index;
			for (j = 0; j < 3; j++)
				if (regs[j] != R(NONE) && ZydisRegisterGetLargestEnclosing(
				                              ZYDIS_MACHINE_MODE_LEGACY_32,
				                              regs[j]) == gpr_sized(order[k], 4))
					used = true;
		}
		if (!used)
			return order[k];
	}
	return -1;
}

void mov_rr(struct xlat *x, ZydisRegister dst, ZydisRegister src)
{
	ZydisEncoderRequest r;

	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_reg(&r, dst);
	req_reg(&r, src);
	emit_req(&x->e, &r);
}

enum x_next unsupported(struct xlat *x)
{
	x_callout(x, BT_CO_unsupported);
	x_jmp_slot(x, x->eip + x->in.length, false);
	return 1;
}

static void mov_rr64(struct xlat *x, ZydisRegister dst, ZydisRegister src)
{
	mov_rr(x, ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, dst),
	       ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, src));
}

/*
 * AH..BH with a memory operand (every guest access has REX, for r8): the exact
 * address r8 + ea32 goes into a guest register g the instruction does not use,
 * parked in r13 meanwhile (the fault path restores it from there).
 */
static int ident_high8_mem(struct xlat *x, int n, ZydisEncoderRequest *req, ZydisEncoderOperand *m)
{
	ZydisEncoderRequest r;
	ZydisEncoderOperand *o;
	int g = spill_choice(x);

	if (g < 0)
		return unsupported(x);
	emit_ea32(&x->e, R(R9D), m->mem.base, m->mem.index, m->mem.scale,
	          (int32_t)((uint32_t)m->mem.displacement + emit_seg_base(&x->e)));
	emit_seg_add(&x->e, R(R9D));
	mov_rr64(x, R(R13), gpr_sized(g, 4));
	req_init(&r, ZYDIS_MNEMONIC_LEA); /* lea rG, [r8 + r9] */
	req_reg(&r, ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, gpr_sized(g, 4)));
	o = &r.operands[r.operand_count++];
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = R(R8);
	o->mem.index = R(R9);
	o->mem.scale = 1;
	o->mem.size = 8;
	emit_req(&x->e, &r);
	m->mem.base = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, gpr_sized(g, 4));
	m->mem.index = R(NONE);
	m->mem.scale = 0;
	m->mem.displacement = 0;
	x->tb->imap[n].spill = (uint8_t)g;
	if (!emit_req(&x->e, req))
		return unsupported(x);
	mov_rr64(x, gpr_sized(g, 4), R(R13));
	return 0;
}

/*
 * bt/bts/btr/btc [mem], reg: the register's bit offset moves the access up to
 * 256 MiB either way. i386 computes ea + 4*(offset sar 5) (2*(sar 4) for words)
 * modulo 2^32: done here in r9d, with the flags saved around the arithmetic, so
 * the access is exact and reaches only the view.
 */
static int x_bitop(struct xlat *x, ZydisEncoderRequest *req, ZydisEncoderOperand *m,
                   ZydisEncoderOperand *off)
{
	ZydisEncoderRequest r;
	bool word = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, off->reg.value) == 16;
	ZydisRegister src = off->reg.value;

	emit_u8(&x->e, 0x9c); /* pushfq */
	/* r9d = the segment's base + ea first: a run-time (FS/GS) base goes through r10 */
	emit_ea32(&x->e, R(R9D), m->mem.base, m->mem.index, m->mem.scale,
	          (int32_t)((uint32_t)m->mem.displacement + emit_seg_base(&x->e)));
	emit_seg_add(&x->e, R(R9D));
	req_init(&r, word ? ZYDIS_MNEMONIC_MOVSX : ZYDIS_MNEMONIC_MOV);
	req_reg(&r, R(R10D));
	req_reg(&r, src);
	emit_req(&x->e, &r);
	req_init(&r, ZYDIS_MNEMONIC_SAR);
	req_reg(&r, R(R10D));
	req_imm(&r, word ? 4 : 5);
	emit_req(&x->e, &r);
	emit_ea32(&x->e, R(R9D), R(R9D), R(R10D), word ? 2 : 4, 0);
	req_init(&r, word ? ZYDIS_MNEMONIC_MOVSX : ZYDIS_MNEMONIC_MOV);
	req_reg(&r, R(R10D));
	req_reg(&r, src);
	emit_req(&x->e, &r);
	req_init(&r, ZYDIS_MNEMONIC_AND);
	req_reg(&r, R(R10D));
	req_imm(&r, word ? 15 : 31);
	emit_req(&x->e, &r);
	emit_u8(&x->e, 0x9d); /* popfq */
	m->mem.base = R(R8);
	m->mem.index = R(R9);
	m->mem.scale = 1;
	m->mem.displacement = 0;
	off->reg.value = word ? R(R10W) : R(R10D);
	x->e.gmem = true;
	return emit_req(&x->e, req) ? 0 : unsupported(x);
}

static bool is_bitop(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_BT || m == ZYDIS_MNEMONIC_BTS || m == ZYDIS_MNEMONIC_BTR ||
	       m == ZYDIS_MNEMONIC_BTC;
}

/*
 * r11d = the address of a 16-bit ModRM operand ([bx+si+disp]...), which 64-bit mode
 * cannot encode: (base + index + disp) mod 64 KiB, flag-free (lea, movzx).
 */
static void ea16(struct xlat *x, const ZydisDecodedOperand *m)
{
	ZydisEncoderRequest r;

	emit_ea32(&x->e, R(R11D),
	          ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LEGACY_32, m->mem.base),
	          ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LEGACY_32, m->mem.index), 1,
	          (int32_t)m->mem.disp.value);
	req_init(&r, ZYDIS_MNEMONIC_MOVZX);
	req_reg(&r, R(R11D));
	req_reg(&r, R(R11W));
	emit_req(&x->e, &r);
}

static int ident(struct xlat *x, int n);

/* IDENT; a 16-bit ModRM memory operand becomes [r11d] with r11d computed first (ea16). */
enum x_next x_ident(struct xlat *x, int n)
{
	ZydisDecodedOperand *m16 = NULL;
	int i, r;

	if (x->in.address_width == 16 && x->in.mnemonic != ZYDIS_MNEMONIC_LEA)
		for (i = 0; i < x->in.operand_count_visible; i++)
			if (x->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
				m16 = &x->op[i];
	if (!m16)
		return ident(x, n);
	ea16(x, m16);
	m16->mem.base = R(R11D);
	m16->mem.index = R(NONE);
	m16->mem.scale = 0;
	m16->mem.disp.value = 0;
	m16->mem.disp.has_displacement = false;
	x->in.address_width = 32;
	r = ident(x, n);
	x->in.address_width = 16;
	return r;
}

static int ident(struct xlat *x, int n)
{
	ZydisEncoderRequest req;
	ZydisEncoderOperand *m;
	int g, i;

	if (!to_request(x, &req, &m))
		return unsupported(x);
	if (m && is_bitop(x->in.mnemonic) && req.operands[1].type == ZYDIS_OPERAND_TYPE_REGISTER)
		return x_bitop(x, &req, m, &req.operands[1]);
	if (m && has_high8(&req))
		return ident_high8_mem(x, n, &req, m);
	if (m)
		gmem_in_place(x, &req, m);
	if (!needs_spill(&req))
		return emit_req(&x->e, &req) ? 0 : unsupported(x);
	/* AH..BH next to r15d (guest ESP) as a register: borrow a guest register */
	g = spill_choice(x);
	if (g < 0)
		return unsupported(x);
	for (i = 0; i < req.operand_count; i++) {
		ZydisEncoderOperand *o = &req.operands[i];

		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER && is_r15(o->reg.value))
			o->reg.value = gpr_sized(g, o->reg.value == R(R15D) ? 4 : 2);
	}
	mov_rr(x, R(R13D), gpr_sized(g, 4));
	mov_rr(x, gpr_sized(g, 4), R(R15D));
	x->tb->imap[n].spill = (uint8_t)g;
	if (!emit_req(&x->e, &req))
		return unsupported(x);
	mov_rr(x, R(R15D), gpr_sized(g, 4));
	mov_rr(x, gpr_sized(g, 4), R(R13D));
	return 0;
}

/* Load a (non-immediate) operand into a temporary: mov tmp, reg | [guest mem]. */
bool load_operand(struct xlat *x, const ZydisDecodedOperand *o, ZydisRegister dst)
{
	ZydisEncoderRequest r;

	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_reg(&r, dst);
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		req_reg(&r, map_reg(o->reg.value));
	} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && x->in.address_width == 32) {
		req_gmem(&x->e, &r, map_reg(o->mem.base), map_reg(o->mem.index), o->mem.scale,
		         o->mem.disp.value, o->size / 8);
	} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
		ea16(x, o); /* 16-bit addressing: the address in r11 first */
		req_gmem(&x->e, &r, R(R11D), R(NONE), 0, 0, o->size / 8);
	} else {
		return false;
	}
	return emit_req(&x->e, &r);
}

/* mov [guest ESP + disp], src (a register or an immediate) of size bytes */
static bool store_stack(struct xlat *x, int32_t disp, ZydisRegister src, int64_t imm, int size)
{
	ZydisEncoderRequest r;

	req_init(&r, ZYDIS_MNEMONIC_MOV);
	x->e.seg_next = SEG_SS;
	req_gmem(&x->e, &r, R(R15D), R(NONE), 0, disp, (uint16_t)size);
	if (src != R(NONE))
		req_reg(&r, src);
	else
		req_imm(&r, imm);
	return emit_req(&x->e, &r);
}

enum x_next x_push(struct xlat *x)
{
	const ZydisDecodedOperand *o = &x->op[0];
	int size = x->in.operand_width / 8;

	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_SEGMENT) {
		/*
		 * push sreg: the selector from the virtual CPU, zero-extended to the operand
		 * size (a 32-bit push writes 4 bytes, upper half 0, as QEMU does; the SDM also
		 * allows a 16-bit store), then stored as push r32 would: no callout.
		 */
		static const ZydisRegister sregs[SEG_NR] = {R(ES), R(CS), R(SS),
		                                            R(DS), R(FS), R(GS)};
		int s;

		for (s = 0; s < SEG_NR && sregs[s] != o->reg.value; s++)
			;
		if (s == SEG_NR) {
			x_callout(x, BT_CO_sreg_push);
			return 0;
		}
		emit_cpu_load16zx(&x->e, tmp(12, 4),
		                  (int32_t)(offsetof(struct bt_cpu, seg) +
		                            s * sizeof(struct bt_seg) +
		                            offsetof(struct bt_seg, sel)));
		if (!store_stack(x, -size, tmp(12, size), 0, size))
			return unsupported(x);
		emit_esp_add(&x->e, -size);
		return 0;
	}
	if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
		if (!store_stack(x, -size, R(NONE), o->imm.value.s, size))
			return unsupported(x);
	} else if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		if (!store_stack(x, -size, map_reg(o->reg.value), 0, size))
			return unsupported(x);
	} else {
		if (!load_operand(x, o, tmp(12, size)) ||
		    !store_stack(x, -size, tmp(12, size), 0, size))
			return unsupported(x);
	}
	emit_esp_add(&x->e, -size);
	return 0;
}

enum x_next x_pop(struct xlat *x)
{
	const ZydisDecodedOperand *o = &x->op[0];
	int size = x->in.operand_width / 8;
	ZydisEncoderRequest r;

	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER &&
	    ZydisRegisterGetClass(o->reg.value) == ZYDIS_REGCLASS_SEGMENT) {
		x_callout(x, BT_CO_sreg_load);
		return 0;
	}
	req_init(&r, ZYDIS_MNEMONIC_MOV);
	if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
		req_reg(&r, map_reg(o->reg.value));
		x->e.seg_next = SEG_SS;
		req_gmem(&x->e, &r, R(R15D), R(NONE), 0, 0, (uint16_t)size);
		if (!emit_req(&x->e, &r))
			return unsupported(x);
		if (o->reg.value != R(ESP) && o->reg.value != R(SP))
			emit_esp_add(&x->e, size);
		return 0;
	}
	/* pop [mem]: the address uses ESP after the pop, so fold the size into disp. */
	if (x->in.address_width != 32) {
		/* [bx+si...]: no ESP in 16-bit ModRM; the address in r11 */
		req_reg(&r, tmp(12, size));
		x->e.seg_next = SEG_SS;
		req_gmem(&x->e, &r, R(R15D), R(NONE), 0, 0, (uint16_t)size);
		if (!emit_req(&x->e, &r))
			return unsupported(x);
		ea16(x, o);
		req_init(&r, ZYDIS_MNEMONIC_MOV);
		req_gmem(&x->e, &r, R(R11D), R(NONE), 0, 0, (uint16_t)size);
		req_reg(&r, tmp(12, size));
		if (!emit_req(&x->e, &r))
			return unsupported(x);
		emit_esp_add(&x->e, size);
		return 0;
	}
	req_reg(&r, tmp(12, size));
	x->e.seg_next = SEG_SS;
	req_gmem(&x->e, &r, R(R15D), R(NONE), 0, 0, (uint16_t)size);
	if (!emit_req(&x->e, &r))
		return unsupported(x);
	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_gmem(&x->e, &r, map_reg(o->mem.base), map_reg(o->mem.index), o->mem.scale,
	         o->mem.disp.value + (o->mem.base == R(ESP) ? size : 0), (uint16_t)size);
	req_reg(&r, tmp(12, size));
	if (!emit_req(&x->e, &r))
		return unsupported(x);
	emit_esp_add(&x->e, size);
	return 0;
}

enum x_next x_pusha(struct xlat *x)
{
	static const int order[] = {0, 1, 2, 3, 15, 5, 6, 7}; /* esp is pushed as it was */
	int i;

	if (x->in.operand_width != 32) {
		x_callout(x, BT_CO_slow);
		return 0;
	}
	for (i = 0; i < 8; i++)
		emit_stack_store(&x->e, -4 * (i + 1), order[i]);
	emit_esp_add(&x->e, -32);
	return 0;
}

enum x_next x_popa(struct xlat *x)
{
	static const int order[] = {7, 6, 5, -1, 3, 2, 1, 0};
	int i;

	if (x->in.operand_width != 32) {
		x_callout(x, BT_CO_slow);
		return 0;
	}
	/* Touch both ends first: once they are mapped no load below can fault. */
	emit_stack_load(&x->e, 12, 0);
	emit_stack_load(&x->e, 12, 28);
	for (i = 0; i < 8; i++)
		if (order[i] >= 0)
			emit_stack_load(&x->e, order[i], 4 * i);
	emit_esp_add(&x->e, 32);
	return 0;
}

enum x_next x_enter(struct xlat *x)
{
	uint32_t frame = (uint32_t)x->op[0].imm.value.u;

	if (x->op[1].imm.value.u != 0 || x->in.operand_width != 32) {
		x_callout(x, BT_CO_enter);
		return 0;
	}
	emit_stack_store(&x->e, -4, 5);
	emit_esp_add(&x->e, -4);
	mov_rr(x, R(EBP), R(R15D));
	emit_esp_add(&x->e, -(int32_t)frame);
	return 0;
}

enum x_next x_leave(struct xlat *x)
{
	ZydisEncoderRequest r;

	if (x->in.operand_width != 32) {
		x_callout(x, BT_CO_slow); /* ESP = EBP, BP = pop16: in C */
		return 0;
	}
	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_reg(&r, R(R12D));
	x->e.seg_next = SEG_SS;
	req_gmem(&x->e, &r, R(EBP), R(NONE), 0, 0, 4);
	emit_req(&x->e, &r);
	emit_ea32(&x->e, R(R15D), R(EBP), R(NONE), 0, 4); /* esp = ebp + 4 */
	mov_rr(x, R(EBP), R(R12D));
	return 0;
}
