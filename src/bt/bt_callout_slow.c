/*
 * bt_callout_slow.c: the slow path: rare instructions with no faithful 64-bit
 * translation (16-bit addressing in lea, 16-bit pusha/popa and bound, arpl,
 * nested enter, salc; with 16-bit addressing: xlat, jcxz/loop on CX, string
 * instructions on SI/DI/CX; with a 16-bit operand size: leave, near jmp, call,
 * ret and jcc) emulated in C on the virtual CPU. `--stats` counts them
 * (slow_path); hot code never takes this path.
 */
#include <string.h>

#include "bt_callout.h"

#define EFL_ZF 0x40u
#define EFL_DF 0x400u

static int slow_lea16(struct co *k)
{
	uint32_t ea = co_ea(k, &k->op[1]) & 0xffff; /* co_ea wraps 16-bit addressing */

	co_set_reg(k, k->op[0].reg.value, ea);
	return CO_NEXT;
}

static int slow_arpl(struct co *k)
{
	uint32_t dst, src = co_get_reg(k, k->op[1].reg.value);

	if (co_read(k, &k->op[0], &dst))
		return co_pending(k);
	if ((dst & 3) < (src & 3)) {
		if (co_write(k, &k->op[0], (dst & ~3u) | (src & 3)))
			return co_pending(k);
		k->c->hflags |= EFL_ZF;
	} else {
		k->c->hflags &= ~EFL_ZF;
	}
	return CO_NEXT;
}

static int slow_bound16(struct co *k)
{
	int16_t b[2], v = (int16_t)co_get_reg(k, k->op[0].reg.value);

	if (mmu_read(k->bt, co_ea(k, &k->op[1]), b, 4, k->c->cpl == 3))
		return co_pending(k);
	return (v < b[0] || v > b[1]) ? co_fault(k, EXC_BR, false, 0) : CO_NEXT;
}

/* pushaw/popaw: the 16-bit registers, ESP's low half pushed as it was. */
static int slow_pusha16(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint16_t v[8];
	int i;

	for (i = 0; i < 8; i++)
		v[7 - i] = (uint16_t)c->gpr[i]; /* lowest address: DI */
	if (mmu_write(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[4] - 16), v, 16, c->cpl == 3))
		return co_pending(k);
	c->gpr[4] -= 16;
	return CO_NEXT;
}

static int slow_popa16(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint16_t v[8];
	int i;

	if (mmu_read(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[4]), v, 16, c->cpl == 3))
		return co_pending(k);
	for (i = 0; i < 8; i++)
		if (i != 4)
			c->gpr[i] = (c->gpr[i] & 0xffff0000u) | v[7 - i];
	c->gpr[4] += 16;
	return CO_NEXT;
}

/* enter size, level: the nested form copies level-1 frame pointers (32-bit stack). */
static int slow_enter(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint32_t size = (uint32_t)k->op[0].imm.value.u & 0xffff, level = k->op[1].imm.value.u & 31;
	uint32_t esp = c->gpr[4], ebp = c->gpr[5], frame, v, i;
	int w = k->in.operand_width / 8;
	bool user = c->cpl == 3;

	if (mmu_write(k->bt, bt_lin(c->seg, SEG_SS, esp - (uint32_t)w), &ebp, (uint32_t)w, user))
		return co_pending(k);
	esp -= (uint32_t)w;
	frame = esp;
	for (i = 1; i < level; i++) {
		ebp -= (uint32_t)w;
		v = 0;
		if (mmu_read(k->bt, bt_lin(c->seg, SEG_SS, ebp), &v, (uint32_t)w, user) ||
		    mmu_write(k->bt, bt_lin(c->seg, SEG_SS, esp - (uint32_t)w), &v, (uint32_t)w,
		              user))
			return co_pending(k);
		esp -= (uint32_t)w;
	}
	if (level) {
		if (mmu_write(k->bt, bt_lin(c->seg, SEG_SS, esp - (uint32_t)w), &frame, (uint32_t)w,
		              user))
			return co_pending(k);
		esp -= (uint32_t)w;
	}
	if (w == 2)
		c->gpr[5] = (c->gpr[5] & 0xffff0000u) | (frame & 0xffff);
	else
		c->gpr[5] = frame;
	c->gpr[4] = esp - size;
	return CO_NEXT;
}

/* xlat with 16-bit addressing: AL = [BX + AL] (BX, not EBX). */
static int slow_xlat16(struct co *k)
{
	struct bt_cpu *c = k->c;
	int i, seg = SEG_DS;
	uint8_t v;

	for (i = 0; i < k->in.operand_count; i++)
		if (k->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
			seg = co_seg_of(k->op[i].mem.segment);
	if (mmu_read(k->bt, bt_lin(c->seg, seg, (uint16_t)(c->gpr[3] + (c->gpr[0] & 0xff))), &v, 1,
	             c->cpl == 3))
		return co_pending(k);
	c->gpr[0] = (c->gpr[0] & ~0xffu) | v;
	return CO_NEXT;
}

/* jcxz/jecxz/loop/loope/loopne with a 16-bit count (CX) or a 16-bit target (IP). */
static int slow_loop(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint32_t mask = k->in.address_width == 16 ? 0xffffu : ~0u, cnt = c->gpr[1] & mask;
	uint32_t target = k->next + (uint32_t)k->op[0].imm.value.s;
	bool zf = c->hflags & EFL_ZF, taken;

	if (k->in.operand_width == 16)
		target &= 0xffff;
	if (k->in.mnemonic == ZYDIS_MNEMONIC_JCXZ || k->in.mnemonic == ZYDIS_MNEMONIC_JECXZ) {
		taken = cnt == 0;
	} else {
		cnt = (cnt - 1) & mask;
		c->gpr[1] = (c->gpr[1] & ~mask) | cnt;
		taken = cnt != 0 && (k->in.mnemonic == ZYDIS_MNEMONIC_LOOP ||
		                     (k->in.mnemonic == ZYDIS_MNEMONIC_LOOPE) == zf);
	}
	c->eip = taken ? target : k->next;
	return BT_EXIT_RESUME;
}

/* The flags of a - b at size bytes, computed by the host's cmp. */
static uint32_t cmp_flags(uint32_t a, uint32_t b, int size)
{
	uint64_t f;

	if (size == 1)
		__asm__("cmpb %b2, %b1\n\tpushfq\n\tpopq %0" : "=r"(f) : "q"(a), "q"(b) : "cc");
	else if (size == 2)
		__asm__("cmpw %w2, %w1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
	else
		__asm__("cmpl %2, %1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
	return (uint32_t)f & 0x8d5u;
}

/*
 * String instructions with 16-bit addressing (SI, DI, CX, wrapping at 64 KiB, the
 * upper halves kept). At most 4096 iterations a call: a longer rep goes on from the
 * dispatcher, which sees interrupts and kicks in between.
 */
static int slow_string16(struct co *k)
{
	struct bt_cpu *c = k->c;
	ZydisMnemonic m = k->in.mnemonic;
	bool rep = k->in.attributes &
	           (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE);
	bool repne = k->in.attributes & ZYDIS_ATTRIB_HAS_REPNE, user = c->cpl == 3;
	bool src = m != ZYDIS_MNEMONIC_STOSB && m != ZYDIS_MNEMONIC_STOSW &&
	           m != ZYDIS_MNEMONIC_STOSD && m != ZYDIS_MNEMONIC_SCASB &&
	           m != ZYDIS_MNEMONIC_SCASW && m != ZYDIS_MNEMONIC_SCASD;
	bool dst =
	    m != ZYDIS_MNEMONIC_LODSB && m != ZYDIS_MNEMONIC_LODSW && m != ZYDIS_MNEMONIC_LODSD;
	bool cmp = m == ZYDIS_MNEMONIC_CMPSB || m == ZYDIS_MNEMONIC_CMPSW ||
	           m == ZYDIS_MNEMONIC_CMPSD || m == ZYDIS_MNEMONIC_SCASB ||
	           m == ZYDIS_MNEMONIC_SCASW || m == ZYDIS_MNEMONIC_SCASD;
	int size = k->in.operand_width / 8, n, max = k->bt->stepping ? 1 : 4096; /* TF: #DB each */
	int sseg = co_str_src_seg(k);
	uint32_t step = (c->hflags & EFL_DF) ? (uint32_t)-size : (uint32_t)size;
	uint32_t mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;

	if (m == ZYDIS_MNEMONIC_MOVSB || m == ZYDIS_MNEMONIC_STOSB || m == ZYDIS_MNEMONIC_LODSB ||
	    m == ZYDIS_MNEMONIC_CMPSB || m == ZYDIS_MNEMONIC_SCASB) {
		size = 1;
		mask = 0xff;
		step = (c->hflags & EFL_DF) ? (uint32_t)-1 : 1;
	}
	for (n = 0; n < max; n++) {
		uint16_t si = (uint16_t)c->gpr[6], di = (uint16_t)c->gpr[7];
		uint32_t a = c->gpr[0] & mask, b = 0;

		if (rep && (c->gpr[1] & 0xffff) == 0)
			return CO_NEXT;
		if (src && mmu_read(k->bt, bt_lin(c->seg, sseg, si), &a, (uint32_t)size, user))
			return co_pending(k);
		if (m == ZYDIS_MNEMONIC_MOVSB || m == ZYDIS_MNEMONIC_MOVSW ||
		    m == ZYDIS_MNEMONIC_MOVSD || m == ZYDIS_MNEMONIC_STOSB ||
		    m == ZYDIS_MNEMONIC_STOSW || m == ZYDIS_MNEMONIC_STOSD) {
			if (mmu_write(k->bt, bt_lin(c->seg, SEG_ES, di), &a, (uint32_t)size, user))
				return co_pending(k);
		} else if (dst) { /* cmps, scas */
			if (mmu_read(k->bt, bt_lin(c->seg, SEG_ES, di), &b, (uint32_t)size, user))
				return co_pending(k);
			c->hflags = (c->hflags & ~0x8d5u) | cmp_flags(a, b, size);
		} else { /* lods */
			c->gpr[0] = (c->gpr[0] & ~mask) | a;
		}
		if (src)
			c->gpr[6] = (c->gpr[6] & 0xffff0000u) | (uint16_t)(si + step);
		if (dst)
			c->gpr[7] = (c->gpr[7] & 0xffff0000u) | (uint16_t)(di + step);
		if (!rep)
			return CO_NEXT;
		c->gpr[1] = (c->gpr[1] & 0xffff0000u) | (uint16_t)(c->gpr[1] - 1);
		if (cmp && (repne ? (c->hflags & EFL_ZF) : !(c->hflags & EFL_ZF)))
			return CO_NEXT;
	}
	if (!(c->gpr[1] & 0xffff))
		return CO_NEXT;
	c->eip = k->site->eip; /* more to do: again, after a look at interrupts */
	return BT_EXIT_RESUME;
}

/* leave with a 16-bit operand: ESP = EBP (a 32-bit stack), then BP = pop16. */
static int slow_leave16(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint16_t v;

	if (mmu_read(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[5]), &v, 2, c->cpl == 3))
		return co_pending(k);
	c->gpr[4] = c->gpr[5] + 2;
	c->gpr[5] = (c->gpr[5] & 0xffff0000u) | v;
	return CO_NEXT;
}

static bool cond(uint32_t f, unsigned cc)
{
	bool cf = f & 0x1, zf = f & 0x40, sf = f & 0x80, of = f & 0x800, pf = f & 0x4, r;

	switch (cc >> 1) {
	case 0:
		r = of;
		break;
	case 1:
		r = cf;
		break;
	case 2:
		r = zf;
		break;
	case 3:
		r = cf || zf;
		break;
	case 4:
		r = sf;
		break;
	case 5:
		r = pf;
		break;
	case 6:
		r = sf != of;
		break;
	default:
		r = zf || sf != of;
		break;
	}
	return (cc & 1) ? !r : r;
}

/*
 * Near jmp/call/ret/jcc with a 16-bit operand size: the target is IP, EIP's upper
 * half cleared; call pushes and ret pops 16 bits (on the 32-bit stack).
 */
static int slow_flow16(struct co *k)
{
	struct bt_cpu *c = k->c;
	const ZydisDecodedOperand *o = &k->op[0];
	uint32_t target = 0, ip = 0;
	bool user = c->cpl == 3;

	if (k->in.mnemonic == ZYDIS_MNEMONIC_RET) {
		uint32_t extra =
		    k->in.operand_count_visible ? (uint32_t)o->imm.value.u & 0xffff : 0;

		if (mmu_read(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[4]), &ip, 2, user))
			return co_pending(k);
		c->gpr[4] += 2 + extra;
		c->eip = ip;
		return BT_EXIT_RESUME;
	}
	if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
		target = k->next + (uint32_t)o->imm.value.s;
	else if (co_read(k, o, &target))
		return co_pending(k);
	target &= 0xffff;
	if (k->in.mnemonic == ZYDIS_MNEMONIC_CALL) {
		ip = k->next & 0xffff;
		if (co_push(k, ip, 2))
			return co_pending(k);
	} else if (k->in.mnemonic != ZYDIS_MNEMONIC_JMP && !cond(c->hflags, k->in.opcode & 0xf)) {
		target = k->next;
	}
	c->eip = target;
	return BT_EXIT_RESUME;
}

int co_slow(struct co *k)
{
	k->bt->stats.slow_path++;
	switch (k->in.mnemonic) {
	case ZYDIS_MNEMONIC_LEA:
		return slow_lea16(k);
	case ZYDIS_MNEMONIC_ARPL:
		return slow_arpl(k);
	case ZYDIS_MNEMONIC_BOUND:
		return slow_bound16(k);
	case ZYDIS_MNEMONIC_PUSHA:
	case ZYDIS_MNEMONIC_PUSHAD:
		return slow_pusha16(k);
	case ZYDIS_MNEMONIC_POPA:
	case ZYDIS_MNEMONIC_POPAD:
		return slow_popa16(k);
	case ZYDIS_MNEMONIC_ENTER:
		return slow_enter(k);
	case ZYDIS_MNEMONIC_XLAT:
		return slow_xlat16(k);
	case ZYDIS_MNEMONIC_LEAVE:
		return slow_leave16(k);
	case ZYDIS_MNEMONIC_JMP:
	case ZYDIS_MNEMONIC_CALL:
	case ZYDIS_MNEMONIC_RET:
		return slow_flow16(k);
	case ZYDIS_MNEMONIC_JCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
	case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE:
		return slow_loop(k);
	case ZYDIS_MNEMONIC_SALC: /* AL = CF ? 0xff : 0, flags unchanged */
		co_set_reg(k, ZYDIS_REGISTER_AL, (k->c->hflags & 1) ? 0xff : 0);
		return CO_NEXT;
	default:
		if (k->in.meta.category == ZYDIS_CATEGORY_STRINGOP && k->in.address_width == 16)
			return slow_string16(k);
		if (k->in.meta.category == ZYDIS_CATEGORY_COND_BR)
			return slow_flow16(k);
		return co_unsupported(k, "unsupported instruction");
	}
}
