/*
 * bt_xlat_string.c: movs, stos, lods, cmps, scas (with rep/repe/repne) as host
 * loops over [r8 + rsi] / [r8 + rdi] accesses (4 GiB + 3 at most: the mirror page).
 * The step comes from the guest's DF, kept as cpu->df_step (+1/-1) by cld/std here
 * and by every entry (pushfq to read the flags cost ~14 cycles per iteration);
 * a fault leaves ESI/EDI/ECX as far as the iterations done, as hardware does,
 * and so does a kick (the back edge is a patchable jump: see tc_unlink_all_async).
 */
#include <string.h>

#include "bt_xlat.h"

enum sop { S_MOVS, S_STOS, S_LODS, S_CMPS, S_SCAS };

static int sop_of(ZydisMnemonic m, int *size)
{
	switch (m) {
	case ZYDIS_MNEMONIC_MOVSB:
		*size = 1;
		return S_MOVS;
	case ZYDIS_MNEMONIC_MOVSW:
		*size = 2;
		return S_MOVS;
	case ZYDIS_MNEMONIC_MOVSD:
		*size = 4;
		return S_MOVS;
	case ZYDIS_MNEMONIC_STOSB:
		*size = 1;
		return S_STOS;
	case ZYDIS_MNEMONIC_STOSW:
		*size = 2;
		return S_STOS;
	case ZYDIS_MNEMONIC_STOSD:
		*size = 4;
		return S_STOS;
	case ZYDIS_MNEMONIC_LODSB:
		*size = 1;
		return S_LODS;
	case ZYDIS_MNEMONIC_LODSW:
		*size = 2;
		return S_LODS;
	case ZYDIS_MNEMONIC_LODSD:
		*size = 4;
		return S_LODS;
	case ZYDIS_MNEMONIC_CMPSB:
		*size = 1;
		return S_CMPS;
	case ZYDIS_MNEMONIC_CMPSW:
		*size = 2;
		return S_CMPS;
	case ZYDIS_MNEMONIC_CMPSD:
		*size = 4;
		return S_CMPS;
	case ZYDIS_MNEMONIC_SCASB:
		*size = 1;
		return S_SCAS;
	case ZYDIS_MNEMONIC_SCASW:
		*size = 2;
		return S_SCAS;
	case ZYDIS_MNEMONIC_SCASD:
		*size = 4;
		return S_SCAS;
	default:
		return -1;
	}
}

static void op2(struct xlat *x, ZydisMnemonic m, ZydisRegister reg, ZydisRegister base, int size,
                bool reg_first)
{
	ZydisEncoderRequest r;

	req_init(&r, m);
	if (reg_first)
		req_reg(&r, reg);
	if (base == R(EDI))
		x->e.seg_next = SEG_ES; /* the destination is ES:EDI, whatever the prefix */
	req_gmem(&x->e, &r, base, R(NONE), 0, 0, (uint16_t)size);
	if (!reg_first)
		req_reg(&r, reg);
	emit_req(&x->e, &r);
}

/* lea dst32, [base64 + r12*size + disp] */
static void step(struct xlat *x, ZydisRegister dst, ZydisRegister base, int size, int disp)
{
	ZydisEncoderRequest r;
	ZydisEncoderOperand *o;

	req_init(&r, ZYDIS_MNEMONIC_LEA);
	req_reg(&r, dst);
	o = &r.operands[r.operand_count++];
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = base;
	o->mem.index = size ? R(R12) : R(NONE);
	o->mem.scale = (uint8_t)size;
	o->mem.displacement = disp;
	o->mem.size = 8; /* lea's operand is the 64-bit address */
	emit_req(&x->e, &r);
}

enum x_next x_string(struct xlat *x)
{
	static const uint8_t df_step[] = {
	    0x4d, 0x8b, 0x66, CPU_DFSTEP, /* mov r12, [r14 + df_step] */
	};
	ZydisRegister acc, t13;
	bool rep = x->in.attributes &
	           (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE);
	uint8_t *loop, *jz_field = NULL, *cond_field = NULL, *step_field = NULL;
	int size, op = sop_of(x->in.mnemonic, &size);

	if (op < 0 || x->in.address_width != 32)
		return unsupported(x);
	acc = gpr_sized(0, size);
	t13 = tmp(13, size);
	emit_bytes(&x->e, df_step, sizeof(df_step));
	loop = x->e.p;
	if (rep) {
		const uint8_t jecxz[] = {0x67, 0xe3, 0x00};

		emit_bytes(&x->e, jecxz, sizeof(jecxz));
		jz_field = x->e.p - 1;
	}
	switch (op) {
	case S_MOVS:
		op2(x, ZYDIS_MNEMONIC_MOV, t13, R(ESI), size, true);
		op2(x, ZYDIS_MNEMONIC_MOV, t13, R(EDI), size, false);
		break;
	case S_STOS:
		op2(x, ZYDIS_MNEMONIC_MOV, acc, R(EDI), size, false);
		break;
	case S_LODS:
		op2(x, ZYDIS_MNEMONIC_MOV, acc, R(ESI), size, true);
		break;
	case S_CMPS:
		op2(x, ZYDIS_MNEMONIC_MOV, t13, R(ESI), size, true);
		op2(x, ZYDIS_MNEMONIC_CMP, t13, R(EDI), size, true);
		break;
	case S_SCAS:
		op2(x, ZYDIS_MNEMONIC_CMP, acc, R(EDI), size, true);
		break;
	}
	if (op == S_MOVS || op == S_LODS || op == S_CMPS)
		step(x, R(ESI), R(RSI), size, 0);
	if (op != S_LODS)
		step(x, R(EDI), R(RDI), size, 0);
	if (rep) {
		step(x, R(ECX), R(RCX), 0, -1);
		if (op == S_CMPS || op == S_SCAS) {
			/* repe stops when ZF=0 (jne), repne when ZF=1 (je) */
			emit_u8(&x->e, (x->in.attributes & ZYDIS_ATTRIB_HAS_REPNE) ? 0x74 : 0x75);
			emit_u8(&x->e, 0);
			cond_field = x->e.p - 1;
		}
		/*
		 * The back edge is a jmp rel32 a kick can aim at the exit below: a long
		 * rep stops between iterations (EIP on it, ECX/ESI/EDI so far).
		 * Single-stepping (guest TF), every iteration leaves that way, as
		 * BT_EXIT_RESUME: a #DB after each, EIP on the rep until ECX runs out.
		 */
		if (x->bt->stepping) {
			const uint8_t jecxz[] = {0x67, 0xe3, 0x00};

			emit_bytes(&x->e, jecxz, sizeof(jecxz));
			step_field = x->e.p - 1;
			emit_cpu_store32(&x->e, CPU_EIP, x->eip);
			emit_cpu_store32(&x->e, CPU_EXIT_REASON, BT_EXIT_RESUME);
			emit_jmp(&x->e, x->bt->cache.stub_exit);
		} else if (x->nloops < TB_MAX_INSNS) {
			uint32_t *o = x->loop_off[x->nloops++];

			emit_u8(&x->e, 0xe9);
			o[0] = (uint32_t)(x->e.p - x->e.start);
			emit_u32(&x->e, (uint32_t)(loop - (x->e.p + 4)));
			o[1] = (uint32_t)(loop - x->e.start);
			o[2] = (uint32_t)(x->e.p - x->e.start);
			emit_cpu_store32(&x->e, CPU_EIP, x->eip);
			emit_cpu_store32(&x->e, CPU_EXIT_REASON, BT_ASM_EXIT_KICK);
			emit_jmp(&x->e, x->bt->cache.stub_exit);
		} else {
			emit_u8(&x->e, 0xeb);
			emit_u8(&x->e, (uint8_t)(int8_t)(loop - (x->e.p + 1)));
		}
		*jz_field = (uint8_t)(x->e.p - (jz_field + 1));
		if (cond_field)
			*cond_field = (uint8_t)(x->e.p - (cond_field + 1));
		if (step_field)
			*step_field = (uint8_t)(x->e.p - (step_field + 1));
	}
	return 0;
}

enum x_next x_cld_std(struct xlat *x)
{
	/* cld; mov qword [r14 + df_step], +1 (std; ..., -1) */
	uint8_t seq[] = {0xfc, 0x49, 0xc7, 0x46, CPU_DFSTEP, 0x01, 0x00, 0x00, 0x00};

	if (x->in.mnemonic == ZYDIS_MNEMONIC_STD) {
		seq[0] = 0xfd;
		memset(seq + 5, 0xff, 4);
	}
	emit_bytes(&x->e, seq, sizeof(seq));
	return X_NEXT;
}
