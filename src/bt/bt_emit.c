/* bt_emit.c: host code emission: hand-encoded fixed sequences and Zydis requests. */
#include "bt_emit.h"

#include <string.h>

#include "bt.h"

void emit_bytes(struct emit *e, const void *b, size_t n)
{
	if (e->p + n > e->end) {
		e->overflow = true;
		return;
	}
	memcpy(e->p, b, n);
	e->p += n;
}

void emit_u8(struct emit *e, uint8_t v)
{
	emit_bytes(e, &v, 1);
}

void emit_u32(struct emit *e, uint32_t v)
{
	emit_bytes(e, &v, 4);
}

/*
 * Zydis drops the 0x67 prefix of a memory operand with no register ([disp32]),
 * which 64-bit mode then sign-extends: an address >= 2 GiB would land below the
 * window. True when the request asks for 32-bit addressing of such an operand and
 * the encoding (buf, len) lacks the prefix.
 */
static bool lost_addr32(const ZydisEncoderRequest *r, const uint8_t *buf, ZyanUSize len)
{
	ZyanUSize i;
	int k;

	if (r->address_size_hint != ZYDIS_ADDRESS_SIZE_HINT_32)
		return false;
	for (k = 0; k < r->operand_count; k++)
		if (r->operands[k].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    r->operands[k].mem.base == ZYDIS_REGISTER_NONE &&
		    r->operands[k].mem.index == ZYDIS_REGISTER_NONE)
			break;
	if (k == r->operand_count)
		return false;
	for (i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (b == 0x67)
			return false;
		if (b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e && b != 0x64 && b != 0x65 &&
		    b != 0x66 && b != 0xf0 && b != 0xf2 && b != 0xf3)
			break;
	}
	return true;
}

bool emit_req(struct emit *e, const ZydisEncoderRequest *r)
{
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize len = sizeof(buf);

	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(r, buf, &len))) {
		if (!e->failed)
			e->failed_mnemonic = r->mnemonic;
		e->failed = true;
		return false;
	}
	if (lost_addr32(r, buf, len))
		emit_u8(e, 0x67); /* legacy prefixes go in any order, before REX */
	emit_bytes(e, buf, len);
	return true;
}

void req_init(ZydisEncoderRequest *r, ZydisMnemonic m)
{
	memset(r, 0, sizeof(*r));
	r->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
	r->mnemonic = m;
}

void req_reg(ZydisEncoderRequest *r, ZydisRegister reg)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_REGISTER;
	o->reg.value = reg;
}

void req_imm(ZydisEncoderRequest *r, int64_t v)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
	o->imm.s = v;
}

void req_gmem(ZydisEncoderRequest *r, ZydisRegister base, ZydisRegister index, uint8_t scale,
	      int64_t disp, uint16_t size)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];

	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = base;
	o->mem.index = index;
	o->mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : scale;
	o->mem.displacement = disp;
	o->mem.size = size;
	r->prefixes |= ZYDIS_ATTRIB_HAS_SEGMENT_GS;
	r->address_size_hint = ZYDIS_ADDRESS_SIZE_HINT_32;
}

void emit_cpu_store32(struct emit *e, uint8_t off, uint32_t imm)
{
	const uint8_t op[] = { 0x41, 0xc7, 0x46, off }; /* mov dword [r14 + disp8], imm32 */

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, imm);
}

void emit_mov_r13_imm(struct emit *e, uint32_t imm)
{
	const uint8_t op[] = { 0x41, 0xbd }; /* mov r13d, imm32 */

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, imm);
}

void emit_esp_add(struct emit *e, int32_t disp)
{
	const uint8_t op[] = { 0x45, 0x8d, 0xbf }; /* lea r15d, [r15 + disp32] */

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, (uint32_t)disp);
}

/* gs: addr32 <rex> <opcode> modrm(mod=10, reg, rm=r15) disp32 */
static void stack_op(struct emit *e, uint8_t opcode, int reg, int32_t disp)
{
	uint8_t rex = 0x41 | (reg >= 8 ? 0x04 : 0);
	const uint8_t op[] = { 0x65, 0x67, rex, opcode, (uint8_t)(0x80 | ((reg & 7) << 3) | 7) };

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, (uint32_t)disp);
}

void emit_stack_store(struct emit *e, int32_t disp, int reg)
{
	stack_op(e, 0x89, reg, disp);
}

void emit_stack_store_imm(struct emit *e, int32_t disp, uint32_t imm)
{
	stack_op(e, 0xc7, 0, disp);
	emit_u32(e, imm);
}

void emit_stack_load(struct emit *e, int reg, int32_t disp)
{
	stack_op(e, 0x8b, reg, disp);
}

void emit_lookup(struct emit *e, const uint8_t *miss_stub)
{
	static const uint8_t probe[] = {
		0x45, 0x0f, 0xb7, 0xe5,       /* movzx r12d, r13w          index     */
		0x4d, 0x8b, 0x5e, CPU_JC,     /* mov r11, [r14 + jc]       table     */
		0x4f, 0x8d, 0x24, 0x24,       /* lea r12, [r12 + r12]      (16-byte entries) */
		0x47, 0x8b, 0x14, 0xe3,       /* mov r10d, [r11 + r12*8]   entry eip */
		0x45, 0x89, 0xe9,             /* mov r9d, r13d                       */
		0x41, 0xf7, 0xd1,             /* not r9d                             */
		0x47, 0x8d, 0x54, 0x0a, 0x01, /* lea r10d, [r10 + r9 + 1]  = entry - target */
		0x49, 0x87, 0xca,             /* xchg r10, rcx                       */
		0xe3, 0x08,                   /* jrcxz hit                           */
		0x49, 0x87, 0xca,             /* xchg r10, rcx                       */
	};
	static const uint8_t hit[] = {
		0x49, 0x87, 0xca,             /* hit: xchg r10, rcx                  */
		0x43, 0xff, 0x64, 0xe3, 0x08, /* jmp [r11 + r12*8 + 8]               */
	};

	emit_bytes(e, probe, sizeof(probe));
	emit_jmp(e, miss_stub); /* 5 bytes: the jrcxz above skips xchg (3) + this (5) */
	emit_bytes(e, hit, sizeof(hit));
}

/*
 * A ret site's inline cache in front of the jump-cache probe: the site's last
 * target (eip, host code) at cpu->ic + ic_off. A hit jumps straight there; a
 * miss probes the jump cache, and a hit there refreshes the site's cache.
 */
void emit_lookup_ic(struct emit *e, const uint8_t *miss_stub, int32_t ic_off)
{
	static const uint8_t ic_load[] = {
		0x4d, 0x8b, 0x46, CPU_IC,     /* mov r8, [r14 + ic]                  */
	};
	static const uint8_t ic_probe[] = {
		0x45, 0x8b, 0x10,             /* mov r10d, [r8]            site eip  */
		0x45, 0x89, 0xe9,             /* mov r9d, r13d                       */
		0x41, 0xf7, 0xd1,             /* not r9d                             */
		0x47, 0x8d, 0x54, 0x0a, 0x01, /* lea r10d, [r10 + r9 + 1]            */
		0x49, 0x87, 0xca,             /* xchg r10, rcx                       */
	};
	static const uint8_t jc_probe[] = {
		0x49, 0x87, 0xca,             /* xchg r10, rcx            (ic miss)  */
		0x45, 0x0f, 0xb7, 0xe5,       /* movzx r12d, r13w                    */
		0x4d, 0x8b, 0x5e, CPU_JC,     /* mov r11, [r14 + jc]                 */
		0x4f, 0x8d, 0x24, 0x24,       /* lea r12, [r12 + r12]                */
		0x47, 0x8b, 0x14, 0xe3,       /* mov r10d, [r11 + r12*8]             */
		0x45, 0x89, 0xe9,             /* mov r9d, r13d                       */
		0x41, 0xf7, 0xd1,             /* not r9d                             */
		0x47, 0x8d, 0x54, 0x0a, 0x01, /* lea r10d, [r10 + r9 + 1]            */
		0x49, 0x87, 0xca,             /* xchg r10, rcx                       */
		0xe3, 0x08,                   /* jrcxz jc_hit                        */
		0x49, 0x87, 0xca,             /* xchg r10, rcx                       */
	};
	static const uint8_t jc_hit[] = {
		0x49, 0x87, 0xca,             /* jc_hit: xchg r10, rcx               */
		0x45, 0x89, 0x28,             /* mov [r8], r13d           refresh    */
		0x4f, 0x8b, 0x54, 0xe3, 0x08, /* mov r10, [r11 + r12*8 + 8]          */
		0x4d, 0x89, 0x50, 0x08,       /* mov [r8 + 8], r10                   */
		0x41, 0xff, 0xe2,             /* jmp r10                             */
	};
	static const uint8_t ic_hit[] = {
		0x49, 0x87, 0xca,             /* ic_hit: xchg r10, rcx               */
		0x41, 0xff, 0x60, 0x08,       /* jmp [r8 + 8]                        */
	};
	static const uint8_t lea_r8[] = { 0x4d, 0x8d, 0x80 }; /* lea r8, [r8 + disp32] */
	uint8_t *jz;

	emit_bytes(e, ic_load, sizeof(ic_load));
	emit_bytes(e, lea_r8, sizeof(lea_r8));
	emit_u32(e, (uint32_t)ic_off);
	emit_bytes(e, ic_probe, sizeof(ic_probe));
	emit_u8(e, 0xe3); /* jrcxz ic_hit */
	emit_u8(e, 0);
	jz = e->p - 1;
	emit_bytes(e, jc_probe, sizeof(jc_probe));
	emit_jmp(e, miss_stub);
	emit_bytes(e, jc_hit, sizeof(jc_hit));
	*jz = (uint8_t)(e->p - (jz + 1));
	emit_bytes(e, ic_hit, sizeof(ic_hit));
}

static void rel32_to(struct emit *e, const uint8_t *dest)
{
	emit_u32(e, (uint32_t)(int32_t)(dest - (e->p + 4)));
}

void emit_call(struct emit *e, const uint8_t *dest)
{
	emit_u8(e, 0xe8);
	rel32_to(e, dest);
}

void emit_jmp(struct emit *e, const uint8_t *dest)
{
	emit_u8(e, 0xe9);
	rel32_to(e, dest);
}

uint32_t emit_jmp_slot(struct emit *e)
{
	uint32_t off;

	emit_u8(e, 0xe9);
	off = (uint32_t)(e->p - e->start);
	emit_u32(e, 0);
	return off;
}

uint32_t emit_jcc_slot(struct emit *e, uint8_t cc)
{
	uint32_t off;

	emit_u8(e, 0x0f);
	emit_u8(e, (uint8_t)(0x80 | cc));
	off = (uint32_t)(e->p - e->start);
	emit_u32(e, 0);
	return off;
}

void emit_patch(struct emit *e, uint32_t field_off, const uint8_t *dest)
{
	uint8_t *field = e->start + field_off;
	int32_t rel = (int32_t)(dest - (field + 4));

	memcpy(field, &rel, 4);
}
