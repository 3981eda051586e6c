/*
 * bt_callout_slow.c: the slow path: rare instructions with no faithful 64-bit
 * translation (16-bit addressing in lea, 16-bit pusha/popa and bound, arpl,
 * nested enter, salc) emulated in C on the virtual CPU. `--stats` counts them
 * (slow_path); hot code never takes this path.
 */
#include <string.h>

#include "bt_callout.h"

#define EFL_ZF 0x40u

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
	if (mmu_write(k->bt, c->gpr[4] - 16, v, 16, c->cpl == 3))
		return co_pending(k);
	c->gpr[4] -= 16;
	return CO_NEXT;
}

static int slow_popa16(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint16_t v[8];
	int i;

	if (mmu_read(k->bt, c->gpr[4], v, 16, c->cpl == 3))
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

	if (mmu_write(k->bt, esp - (uint32_t)w, &ebp, (uint32_t)w, user))
		return co_pending(k);
	esp -= (uint32_t)w;
	frame = esp;
	for (i = 1; i < level; i++) {
		ebp -= (uint32_t)w;
		v = 0;
		if (mmu_read(k->bt, ebp, &v, (uint32_t)w, user) ||
		    mmu_write(k->bt, esp - (uint32_t)w, &v, (uint32_t)w, user))
			return co_pending(k);
		esp -= (uint32_t)w;
	}
	if (level) {
		if (mmu_write(k->bt, esp - (uint32_t)w, &frame, (uint32_t)w, user))
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

int co_slow(struct co *k)
{
	k->bt->slow_path++;
	switch (k->in.mnemonic) {
	case ZYDIS_MNEMONIC_LEA: return slow_lea16(k);
	case ZYDIS_MNEMONIC_ARPL: return slow_arpl(k);
	case ZYDIS_MNEMONIC_BOUND: return slow_bound16(k);
	case ZYDIS_MNEMONIC_PUSHA: case ZYDIS_MNEMONIC_PUSHAD: return slow_pusha16(k);
	case ZYDIS_MNEMONIC_POPA: case ZYDIS_MNEMONIC_POPAD: return slow_popa16(k);
	case ZYDIS_MNEMONIC_ENTER: return slow_enter(k);
	case ZYDIS_MNEMONIC_SALC: /* AL = CF ? 0xff : 0, flags unchanged */
		co_set_reg(k, ZYDIS_REGISTER_AL, (k->c->hflags & 1) ? 0xff : 0);
		return CO_NEXT;
	default: return co_unsupported(k, "unsupported instruction");
	}
}
