/*
 * bt_callout_seg.c: callouts for segments and the transfers that load them: mov
 * sreg, pop sreg and lds..lss, far jmp/call/ret, sysenter/sysexit, lar/lsl/verr/verw,
 * and the limit check before an access through an overridden limited segment.
 */
#include <string.h>

#include "bt_callout.h"

#define EFL_IF 0x200u

int co_sreg_load(struct co *k)
{
	static const int seg_of[] = {SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS};
	struct bt_cpu *c = k->c;
	uint32_t sel, off = 0, esp = c->gpr[4];
	int seg, r, size = k->in.operand_width / 8;

	switch (k->in.mnemonic) {
	case ZYDIS_MNEMONIC_MOV:
		seg = seg_of[ZydisRegisterGetId(k->op[0].reg.value) % 6];
		if (seg == SEG_CS)
			return co_fault(k, EXC_UD, false, 0);
		if (co_read(k, &k->op[1], &sel))
			return co_pending(k);
		break;
	case ZYDIS_MNEMONIC_POP:
		seg = seg_of[ZydisRegisterGetId(k->op[0].reg.value) % 6];
		if (co_pop(k, &sel, size))
			return co_pending(k);
		break;
	default: { /* lds/les/lss/lfs/lgs reg, m16:32 */
		static const struct {
			ZydisMnemonic m;
			int seg;
		} lx[] = {{ZYDIS_MNEMONIC_LDS, SEG_DS},
		          {ZYDIS_MNEMONIC_LES, SEG_ES},
		          {ZYDIS_MNEMONIC_LSS, SEG_SS},
		          {ZYDIS_MNEMONIC_LFS, SEG_FS},
		          {ZYDIS_MNEMONIC_LGS, SEG_GS}};
		uint8_t buf[6] = {0};
		unsigned i;

		for (i = 0, seg = SEG_DS; i < 5; i++)
			if (lx[i].m == k->in.mnemonic)
				seg = lx[i].seg;
		if (mmu_read(k->bt, co_ea(k, &k->op[1]), buf, (uint32_t)size + 2, c->cpl == 3))
			return co_pending(k);
		memcpy(&off, buf, (size_t)size);
		sel = buf[size] | (buf[size + 1] << 8);
	}
	}
	r = bt_load_seg(k->bt, seg, (uint16_t)sel);
	if (r) {
		c->gpr[4] = esp;
		return co_pending(k);
	}
	if (k->in.mnemonic != ZYDIS_MNEMONIC_MOV && k->in.mnemonic != ZYDIS_MNEMONIC_POP)
		co_set_reg(k, k->op[0].reg.value, off);
	else if (seg == SEG_SS)
		co_shadow(k, SHADOW_SS);
	return CO_NEXT;
}

/* Far jmp/call/ret within the current ring (no gates), and far ret to an outer ring. */
int co_far(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint32_t sel, off, v[4];
	uint8_t old = c->cpl;
	int r;

	if (k->in.operand_width != 32)
		return co_unsupported(k, "16-bit far transfer");
	if (k->in.mnemonic == ZYDIS_MNEMONIC_RET) {
		uint32_t extra = k->in.operand_count_visible ? (uint32_t)k->op[0].imm.value.u : 0;

		if (mmu_read(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[4]), v, 8, c->cpl == 3))
			return co_pending(k);
		if ((v[1] & 3) < c->cpl)
			return co_fault(k, EXC_GP, true, v[1] & 0xfffc);
		if ((v[1] & 3) > c->cpl &&
		    mmu_read(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[4] + 8 + extra), v + 2, 8,
		             c->cpl == 3))
			return co_pending(k);
		struct bt_seg oldcs = c->seg[SEG_CS];

		r = bt_load_cs(k->bt, (uint16_t)v[1], (uint8_t)(v[1] & 3));
		if (r)
			return r == -1 ? co_pending(k) : BT_EXIT_CORE;
		if (c->cpl > old) {
			/* SDM RET, return to outer privilege level: SS:ESP from the inner stack
			 * (past the parameters), then imm16 released from the outer stack too;
			 * data segments the outer ring may not use become null. */
			if ((r = bt_load_seg(k->bt, SEG_SS, (uint16_t)v[3]))) {
				c->seg[SEG_CS] = oldcs; /* the fault is taken with the old CS */
				bt_set_cpl(k->bt, old);
				return r == -1 ? co_pending(k) : BT_EXIT_CORE;
			}
			c->gpr[4] = v[2] + extra;
			bt_drop_inner_segments(k->bt);
		} else {
			c->gpr[4] += 8 + extra;
		}
		c->eip = v[0];
		return BT_EXIT_RESUME;
	}
	if (k->op[0].type == ZYDIS_OPERAND_TYPE_POINTER) {
		sel = k->op[0].ptr.segment;
		off = k->op[0].ptr.offset;
	} else {
		uint8_t buf[6];

		if (mmu_read(k->bt, co_ea(k, &k->op[0]), buf, 6, c->cpl == 3))
			return co_pending(k);
		memcpy(&off, buf, 4);
		sel = buf[4] | (buf[5] << 8);
	}
	/* Checked before anything is pushed: a faulting far call leaves ESP alone. */
	r = bt_far_target(k->bt, (uint16_t)sel);
	if (r == 1) { /* a TSS or a task gate */
		uint16_t tr = c->tr_sel;

		r = bt_task_far(k->bt, (uint16_t)sel, k->in.mnemonic == ZYDIS_MNEMONIC_CALL,
		                k->next);
		if (r == -1 && c->tr_sel != tr)
			return BT_EXIT_EXCEPTION; /* raised in the new task, at its EIP */
		if (r)
			return r == -1 ? co_pending(k) : BT_EXIT_CORE;
		return BT_EXIT_RESUME;
	}
	if (r)
		return r == -1 ? co_pending(k) : BT_EXIT_CORE;
	if (k->in.mnemonic == ZYDIS_MNEMONIC_CALL) {
		uint32_t frame[2] = {k->next, c->seg[SEG_CS].sel};

		if (mmu_write(k->bt, bt_lin(c->seg, SEG_SS, c->gpr[4] - 8), frame, 8, c->cpl == 3))
			return co_pending(k);
		c->gpr[4] -= 8;
	}
	r = bt_load_cs(k->bt, (uint16_t)sel, c->cpl);
	if (r)
		return r == -1 ? co_pending(k) : BT_EXIT_CORE;
	c->eip = off;
	return BT_EXIT_RESUME;
}

/*
 * lar, lsl, verr, verw: ZF=1 and the access rights / limit when the selector names
 * a descriptor of a fitting type this CPL and the selector's RPL may see (conforming
 * code: any); ZF=0 and the destination unchanged otherwise. The LDT is always null.
 */
int co_segcheck(struct co *k)
{
	struct bt_cpu *c = k->c;
	ZydisMnemonic m = k->in.mnemonic;
	const ZydisDecodedOperand *src =
	    &k->op[m == ZYDIS_MNEMONIC_VERR || m == ZYDIS_MNEMONIC_VERW ? 0 : 1];
	uint32_t sel, d[2], type, dpl;
	bool ok = false;

	if (co_read(k, src, &sel))
		return co_pending(k);
	sel &= 0xffff;
	if ((sel & ~3u) && bt_read_desc(k->bt, (uint16_t)sel, d)) {
		if (c->exc.vector == EXC_PF)
			return co_pending(k); /* the GDT itself is not mapped */
	} else if (sel & ~3u) {
		bool s = (d[1] >> 12) & 1, code = s && ((d[1] >> 11) & 1);
		bool conforming = code && ((d[1] >> 10) & 1), rw = (d[1] >> 9) & 1;

		type = (d[1] >> 8) & 0xf;
		dpl = (d[1] >> 13) & 3;
		ok = conforming || (dpl >= c->cpl && dpl >= (sel & 3));
		if (m == ZYDIS_MNEMONIC_LAR)
			ok =
			    ok && (s || (type != 0 && type != 6 && type != 7 && type != 8 &&
			                 type != 0xa && type != 0xd && type != 0xe && type != 0xf));
		else if (m == ZYDIS_MNEMONIC_LSL)
			ok = ok &&
			     (s || type == 1 || type == 2 || type == 3 || type == 9 || type == 0xb);
		else if (m == ZYDIS_MNEMONIC_VERR)
			ok = s && (conforming || ok) && (!code || rw);
		else /* verw */
			ok = ok && s && !code && rw;
	}
	if (ok && m == ZYDIS_MNEMONIC_LAR) {
		co_set_reg(k, k->op[0].reg.value, d[1] & 0x00ffff00u);
	} else if (ok && m == ZYDIS_MNEMONIC_LSL) {
		uint32_t l = (d[0] & 0xffff) | (d[1] & 0xf0000);

		co_set_reg(k, k->op[0].reg.value, (d[1] & (1u << 23)) ? (l << 12) | 0xfff : l);
	}
	c->hflags = ok ? c->hflags | 0x40u : c->hflags & ~0x40u;
	return CO_NEXT;
}

int co_sysenter(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint16_t cs = (uint16_t)(c->sysenter_cs & ~3u);

	if (!cs)
		return co_fault(k, EXC_GP, true, 0);
	c->seg[SEG_CS] = (struct bt_seg){cs, 0, 0xffffffffu, 0, 0xb};
	bt_seg_set(k->bt, SEG_SS, (struct bt_seg){(uint16_t)(cs + 8), 0, 0xffffffffu, 0, 0x3});
	c->vflags &= ~(EFL_IF | 0x20000u | 0x10000u);
	c->gpr[4] = c->sysenter_esp;
	c->eip = c->sysenter_eip;
	bt_set_cpl(k->bt, 0);
	return BT_EXIT_RESUME;
}

int co_sysexit(struct co *k)
{
	struct bt_cpu *c = k->c;
	uint16_t cs = (uint16_t)(c->sysenter_cs & ~3u);

	if (c->cpl != 0 || !cs)
		return co_fault(k, EXC_GP, true, 0);
	c->seg[SEG_CS] = (struct bt_seg){(uint16_t)((cs + 16) | 3), 0, 0xffffffffu, 3, 0xb};
	bt_seg_set(k->bt, SEG_SS,
	           (struct bt_seg){(uint16_t)((cs + 24) | 3), 0, 0xffffffffu, 3, 0x3});
	c->gpr[4] = c->gpr[1];
	c->eip = c->gpr[2];
	bt_set_cpl(k->bt, 3);
	return BT_EXIT_RESUME;
}

/*
 * An explicit segment override on a segment with a limit (bt_seg_limited): the
 * memory operand's bytes must lie within it (expand-up or expand-down), else
 * #GP(0), or #SS(0) through SS (SDM Vol 3 5.3). Any access through a null
 * segment register (BT_SEG_NULL, explicit or implicit operand) is #GP(0)
 * (SDM Vol 3 5.4.1). Runs before the access.
 */
int co_seglimit(struct co *site)
{
	const ZydisDecodedOperand *m = NULL;
	struct co *k = co_decode(site);
	const struct bt_seg *s;
	int i, seg;

	if (!k)
		return co_fault(site, EXC_UD, false, 0);
	for (i = 0; i < k->in.operand_count; i++)
		if (k->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    k->op[i].mem.type == ZYDIS_MEMOP_TYPE_MEM &&
		    (k->c->seg[co_seg_of(k->op[i].mem.segment)].type & BT_SEG_NULL))
			return co_fault(k, EXC_GP, true, 0);
	for (i = 0; i < k->in.operand_count_visible; i++)
		if (k->op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    k->in.mnemonic != ZYDIS_MNEMONIC_LEA)
			m = &k->op[i];
	if (!m)
		return CO_NEXT;
	seg = co_seg_of(m->mem.segment);
	s = &k->c->seg[seg];
	if (bt_seg_outside(s, co_off(k, m), m->size / 8 ? m->size / 8 : 1))
		return co_fault(k, seg == SEG_SS ? EXC_SS : EXC_GP, true, 0);
	return CO_NEXT;
}
