/*
 * bt_emit.c: host code emission: hand-encoded fixed sequences and Zydis requests.
 * Every guest access is built by req_gmem (r8-based) and checked after encoding.
 */
#include "bt_emit.h"

#include <stddef.h>
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
 * The host instruction in buf addresses memory only as [r8 + index + disp] with a
 * 64-bit address (what req_gmem builds), never RIP-relative, never segmented; in a
 * stack-pointer loop's body (rsp) also as [rsp + disp], no index (RSP = r8 + r15 there).
 */
static bool mem_ok(const ZydisDecodedOperand *o, bool rsp)
{
	if (o->mem.segment != ZYDIS_REGISTER_DS && o->mem.segment != ZYDIS_REGISTER_SS)
		return false;
	if (o->mem.base == ZYDIS_REGISTER_R8)
		return true;
	return rsp && o->mem.base == ZYDIS_REGISTER_RSP && o->mem.index == ZYDIS_REGISTER_NONE;
}

static bool confined(const uint8_t *buf, size_t len, bool rsp)
{
	static ZydisDecoder d64;
	static bool ready;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	int i;

	if (!ready) {
		ZydisDecoderInit(&d64, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ready = true;
	}
	if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d64, buf, len, &in, op)) || in.length != len)
		return false;
	for (i = 0; i < in.operand_count; i++)
		if (op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    op[i].mem.type == ZYDIS_MEMOP_TYPE_MEM &&
		    op[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT &&
		    (in.address_width != 64 || !mem_ok(&op[i], rsp)))
			return false;
	return true;
}

bool emit_req(struct emit *e, const ZydisEncoderRequest *r)
{
	uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
	ZyanUSize len = sizeof(buf);
	bool check = e->gmem;

	e->gmem = false;
	if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(r, buf, &len)) ||
	    (check && !confined(buf, len, e->rsp))) {
		if (!e->failed)
			e->failed_mnemonic = r->mnemonic;
		e->failed = true;
		return false;
	}
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

static ZydisRegister reg64(ZydisRegister r)
{
	return r == ZYDIS_REGISTER_NONE
	           ? r
	           : ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
}

void emit_ea32(struct emit *e, ZydisRegister dst, ZydisRegister base, ZydisRegister index,
               uint8_t scale, int32_t disp)
{
	ZydisEncoderRequest r;
	ZydisEncoderOperand *o;

	if (base == ZYDIS_REGISTER_NONE && index == ZYDIS_REGISTER_NONE) {
		req_init(&r, ZYDIS_MNEMONIC_MOV);
		req_reg(&r, dst);
		req_imm(&r, (int64_t)disp);
		emit_req(e, &r);
		return;
	}
	/* lea dst32, [base64 + index64*scale + disp]: the sum truncated to 32 bits */
	req_init(&r, ZYDIS_MNEMONIC_LEA);
	req_reg(&r, dst);
	o = &r.operands[r.operand_count++];
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = reg64(base);
	o->mem.index = reg64(index);
	o->mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : scale;
	o->mem.displacement = disp;
	o->mem.size = 8;
	emit_req(e, &r);
}

/* seg_rt_off is an int16_t, and a disp32 from r14 */
_Static_assert(offsetof(struct bt_cpu, seg) + SEG_NR * sizeof(struct bt_seg) < 0x8000,
               "the segment bases must be within 32 KiB of the virtual CPU's start");

uint32_t emit_seg_base(struct emit *e)
{
	int seg = e->seg_next >= 0 ? e->seg_next : e->seg_insn;

	e->seg_next = -1;
	e->seg_used |= (uint8_t)(1u << seg);
	if (e->seg_runtime & (1u << seg)) {
		e->seg_rt_off =
		    (int16_t)(offsetof(struct bt_cpu, seg) + seg * sizeof(struct bt_seg) +
		              offsetof(struct bt_seg, base));
		return 0;
	}
	e->seg_rt_off = -1;
	return e->segbase[seg];
}

/* mnemonic reg, [r14 + off] (size bytes): a virtual CPU field, not a guest access. */
static void emit_cpu_load(struct emit *e, ZydisMnemonic mnemonic, ZydisRegister reg, int32_t off,
                          uint16_t size)
{
	ZydisEncoderRequest r;
	ZydisEncoderOperand *o;

	req_init(&r, mnemonic);
	req_reg(&r, reg);
	o = &r.operands[r.operand_count++];
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.base = ZYDIS_REGISTER_R14;
	o->mem.displacement = off;
	o->mem.size = size;
	emit_req(e, &r);
}

/* mov reg32, dword [r14 + off] */
static void emit_cpu_load32(struct emit *e, ZydisRegister reg, int32_t off)
{
	emit_cpu_load(e, ZYDIS_MNEMONIC_MOV, reg, off, 4);
}

void emit_cpu_load16zx(struct emit *e, ZydisRegister reg, int32_t off)
{
	emit_cpu_load(e, ZYDIS_MNEMONIC_MOVZX, reg, off, 2);
}

void emit_seg_add(struct emit *e, ZydisRegister dst)
{
	if (e->seg_rt_off < 0)
		return;
	emit_cpu_load32(e, ZYDIS_REGISTER_R10D, e->seg_rt_off);
	emit_ea32(e, dst, dst, ZYDIS_REGISTER_R10D, 1, 0);
	e->seg_rt_off = -1;
}

void req_gmem(struct emit *e, ZydisEncoderRequest *r, ZydisRegister base, ZydisRegister index,
              uint8_t scale, int64_t disp, uint16_t size)
{
	ZydisEncoderOperand *o = &r->operands[r->operand_count++];
	int nregs = (base != ZYDIS_REGISTER_NONE) + (index != ZYDIS_REGISTER_NONE);
	uint32_t segbase = emit_seg_base(e);
	int32_t d = (int32_t)((uint32_t)disp + segbase);

	memset(o, 0, sizeof(*o)); /* (the slot may hold the guest's operand: gmem_in_place) */
	o->type = ZYDIS_OPERAND_TYPE_MEMORY;
	o->mem.size = size;
	o->mem.base = ZYDIS_REGISTER_R8;
	if (e->seg_rt_off >= 0) {
		/* FS/GS: r9d = base (from the vCPU) + ea32, wrapping at 4 GiB; then [r8 + r9] */
		ZydisRegister reg = base != ZYDIS_REGISTER_NONE ? base : index;

		if (nregs == 2 || reg == ZYDIS_REGISTER_R9D || reg == ZYDIS_REGISTER_R10D) {
			emit_ea32(e, ZYDIS_REGISTER_R9D, base, index, scale, d);
			emit_seg_add(e, ZYDIS_REGISTER_R9D);
		} else {
			emit_cpu_load32(e, ZYDIS_REGISTER_R9D, e->seg_rt_off);
			emit_ea32(e, ZYDIS_REGISTER_R9D, ZYDIS_REGISTER_R9D, reg,
			          base != ZYDIS_REGISTER_NONE ? 1 : (scale ? scale : 1), d);
			e->seg_rt_off = -1;
		}
		o->mem.index = ZYDIS_REGISTER_R9;
		o->mem.scale = 1;
		e->gmem = true;
		return;
	}
	/* A base at or above 2 GiB makes disp32 negative: every access would wrap, so lea up front.
	 */
	if (nregs == 1 && !e->exact && !(segbase && d < 0) && e->rsp &&
	    base == ZYDIS_REGISTER_R15D) {
		/* a stack-pointer loop: RSP = r8 + r15, so the same address, base only */
		o->mem.base = ZYDIS_REGISTER_RSP;
		o->mem.displacement = d;
	} else if (nregs == 1 && !e->exact && !(segbase && d < 0)) {
		/* [r8 + reg64*scale + disp32]: a wrap lands in a guard (or the mirror) */
		o->mem.index = reg64(base != ZYDIS_REGISTER_NONE ? base : index);
		o->mem.scale = base != ZYDIS_REGISTER_NONE ? 1 : (scale ? scale : 1);
		o->mem.displacement = d;
	} else if (nregs == 0 && d >= 0) {
		o->mem.displacement = d; /* an absolute address below 2 GiB is exact */
	} else {
		emit_ea32(e, ZYDIS_REGISTER_R9D, base, index, scale, d);
		o->mem.index = ZYDIS_REGISTER_R9;
		o->mem.scale = 1;
	}
	e->gmem = true;
}

void emit_cpu_store32(struct emit *e, uint8_t off, uint32_t imm)
{
	const uint8_t op[] = {0x41, 0xc7, 0x46, off}; /* mov dword [r14 + disp8], imm32 */

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, imm);
}

void emit_mov_r13_imm(struct emit *e, uint32_t imm)
{
	const uint8_t op[] = {0x41, 0xbd}; /* mov r13d, imm32 */

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, imm);
}

void emit_esp_add(struct emit *e, int32_t disp)
{
	const uint8_t op[] = {0x45, 0x8d, 0xbf}; /* lea r15d, [r15 + disp32] */

	e->rsp_bad = true; /* RSP would no longer be r8 + r15 */

	emit_bytes(e, op, sizeof(op));
	emit_u32(e, (uint32_t)disp);
}

/* A guest register number (0-7, 4 = ESP = r15d) or a temporary (12, 13, 15). */
static ZydisRegister stack_reg(int reg)
{
	static const ZydisRegister r32[] = {
	    ZYDIS_REGISTER_EAX,  ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EBX,
	    ZYDIS_REGISTER_R15D, ZYDIS_REGISTER_EBP, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_EDI,
	};

	if (reg < 8)
		return r32[reg];
	return reg == 12   ? ZYDIS_REGISTER_R12D
	       : reg == 13 ? ZYDIS_REGISTER_R13D
	                   : ZYDIS_REGISTER_R15D;
}

void emit_stack_store(struct emit *e, int32_t disp, int reg)
{
	ZydisEncoderRequest r;

	e->seg_next = SEG_SS; /* an implicit stack access */
	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_gmem(e, &r, ZYDIS_REGISTER_R15D, ZYDIS_REGISTER_NONE, 0, disp, 4);
	req_reg(&r, stack_reg(reg));
	emit_req(e, &r);
}

void emit_stack_store_imm(struct emit *e, int32_t disp, uint32_t imm)
{
	ZydisEncoderRequest r;

	e->seg_next = SEG_SS; /* an implicit stack access */
	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_gmem(e, &r, ZYDIS_REGISTER_R15D, ZYDIS_REGISTER_NONE, 0, disp, 4);
	req_imm(&r, (int64_t)(int32_t)imm);
	emit_req(e, &r);
}

void emit_stack_load(struct emit *e, int reg, int32_t disp)
{
	ZydisEncoderRequest r;

	e->seg_next = SEG_SS; /* an implicit stack access */
	req_init(&r, ZYDIS_MNEMONIC_MOV);
	req_reg(&r, stack_reg(reg));
	req_gmem(e, &r, ZYDIS_REGISTER_R15D, ZYDIS_REGISTER_NONE, 0, disp, 4);
	emit_req(e, &r);
}

/*
 * r13 = the jump-cache key: the guest target (r13d, upper half zero) plus cpu->jc_key
 * (generation and segment state above bit 32). The miss stub stores r13d: the eip.
 */
static void emit_key(struct emit *e)
{
	static const uint8_t key[] = {
	    0x4d, 0x8b, 0x96, CPU_JC_KEY, 0,    0, 0, /* mov r10, [r14 + jc_key]    */
	    0x4f, 0x8d, 0x6c, 0x15,       0x00,       /* lea r13, [r13 + r10]      key       */
	};

	emit_bytes(e, key, sizeof(key));
}

void emit_lookup(struct emit *e, const uint8_t *miss_stub)
{
	static const uint8_t probe[] = {
	    0x45, 0x0f, 0xb7, 0xe5,         /* movzx r12d, r13w          index     */
	    0x4d, 0x8b, 0x5e, CPU_JC,       /* mov r11, [r14 + jc]       table     */
	    0x4f, 0x8d, 0x24, 0x24,         /* lea r12, [r12 + r12]      (16-byte entries) */
	    0x4f, 0x8b, 0x14, 0xe3,         /* mov r10, [r11 + r12*8]    entry key */
	    0x4d, 0x89, 0xe9,               /* mov r9, r13                         */
	    0x49, 0xf7, 0xd1,               /* not r9                              */
	    0x4f, 0x8d, 0x54, 0x0a,   0x01, /* lea r10, [r10 + r9 + 1]   = entry - key */
	    0x49, 0x87, 0xca,               /* xchg r10, rcx                       */
	    0xe3, 0x08,                     /* jrcxz hit                           */
	    0x49, 0x87, 0xca,               /* xchg r10, rcx                       */
	};
	static const uint8_t hit[] = {
	    0x49, 0x87, 0xca,             /* hit: xchg r10, rcx                  */
	    0x43, 0xff, 0x64, 0xe3, 0x08, /* jmp [r11 + r12*8 + 8]               */
	};

	e->rsp_bad = true; /* it may leave for another block with RSP unrestored */
	emit_key(e);
	emit_bytes(e, probe, sizeof(probe));
	emit_jmp(e, miss_stub); /* 5 bytes: the jrcxz above skips xchg (3) + this (5) */
	emit_bytes(e, hit, sizeof(hit));
}

/*
 * A ret site's inline cache in front of the jump-cache probe: the site's last
 * target (key, host code) at cpu->ic + ic_off. A hit jumps straight there; a
 * miss probes the jump cache, and a hit there refreshes the site's cache.
 */
void emit_lookup_ic(struct emit *e, const uint8_t *miss_stub, int32_t ic_off)
{
	static const uint8_t ic_load[] = {
	    0x4d, 0x8b, 0x4e, CPU_IC, /* mov r9, [r14 + ic]                  */
	};
	static const uint8_t ic_probe[] = {
	    0x4d, 0x8b, 0x11,       /* mov r10, [r9]             site key  */
	    0x49, 0xf7, 0xd2,       /* not r10                             */
	    0x4f, 0x8d, 0x14, 0x2a, /* lea r10, [r10 + r13]                */
	    0x49, 0xf7, 0xd2,       /* not r10                   = entry - key */
	    0x49, 0x87, 0xca,       /* xchg r10, rcx                       */
	};
	static const uint8_t jc_probe[] = {
	    0x49, 0x87, 0xca,         /* xchg r10, rcx            (ic miss)  */
	    0x45, 0x0f, 0xb7, 0xe5,   /* movzx r12d, r13w                    */
	    0x4d, 0x8b, 0x5e, CPU_JC, /* mov r11, [r14 + jc]                 */
	    0x4f, 0x8d, 0x24, 0x24,   /* lea r12, [r12 + r12]                */
	    0x4f, 0x8b, 0x14, 0xe3,   /* mov r10, [r11 + r12*8]              */
	    0x49, 0xf7, 0xd2,         /* not r10                             */
	    0x4f, 0x8d, 0x14, 0x2a,   /* lea r10, [r10 + r13]                */
	    0x49, 0xf7, 0xd2,         /* not r10                             */
	    0x49, 0x87, 0xca,         /* xchg r10, rcx                       */
	    0xe3, 0x08,               /* jrcxz jc_hit                        */
	    0x49, 0x87, 0xca,         /* xchg r10, rcx                       */
	};
	static const uint8_t jc_hit[] = {
	    0x49, 0x87, 0xca,             /* jc_hit: xchg r10, rcx               */
	    0x4d, 0x89, 0x29,             /* mov [r9], r13            refresh    */
	    0x4f, 0x8b, 0x54, 0xe3, 0x08, /* mov r10, [r11 + r12*8 + 8]          */
	    0x4d, 0x89, 0x51, 0x08,       /* mov [r9 + 8], r10                   */
	    0x41, 0xff, 0xe2,             /* jmp r10                             */
	};
	static const uint8_t ic_hit[] = {
	    0x49, 0x87, 0xca,       /* ic_hit: xchg r10, rcx               */
	    0x41, 0xff, 0x61, 0x08, /* jmp [r9 + 8]                        */
	};
	static const uint8_t lea_r9[] = {0x4d, 0x8d, 0x89}; /* lea r9, [r9 + disp32] */
	uint8_t *jz;

	e->rsp_bad = true;
	emit_key(e);
	emit_bytes(e, ic_load, sizeof(ic_load));
	emit_bytes(e, lea_r9, sizeof(lea_r9));
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
	e->rsp_bad = true; /* a call pushes onto RSP: in a stack-pointer loop, guest memory */
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
