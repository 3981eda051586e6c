/*
 * bt_excp.c: exceptions and interrupts through the guest IDT as an i386 does
 * them (32-bit interrupt and trap gates, TSS stack switch on a privilege change,
 * error codes, double and triple faults), iret, and segment loads (data
 * segments with any base and limit; code segments flat only: anything else is
 * reported as unsupported).
 */
#include <string.h>

#include "bt.h"
#include "log.h"

#define EFL_TF 0x100u
#define EFL_IF 0x200u
#define EFL_IOPL 0x3000u
#define EFL_NT 0x4000u
#define EFL_RF 0x10000u
#define EFL_VM 0x20000u
#define EFL_AC 0x40000u
#define EFL_ID 0x200000u

void bt_set_cpl(struct bt *bt, uint8_t cpl)
{
	bt->cpu.cpl = cpl;
	tc_use_cpl(bt);
	mmu_set_view(bt);
}

int bt_read_desc(struct bt *bt, uint16_t sel, uint32_t d[2])
{
	uint32_t idx = sel & ~7u;

	if (sel & 4) {
		if (!(bt->cpu.ldt_sel & ~3u) || idx + 7 > bt->cpu.ldt_limit)
			return -1;
		return mmu_read(bt, bt->cpu.ldt_base + idx, d, 8, false);
	}
	if (idx + 7 > bt->cpu.gdt_limit)
		return -1;
	return mmu_read(bt, bt->cpu.gdt_base + idx, d, 8, false);
}

static uint32_t desc_base(const uint32_t d[2])
{
	return (d[0] >> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000u);
}

static uint32_t desc_limit(const uint32_t d[2])
{
	uint32_t l = (d[0] & 0xffff) | (d[1] & 0xf0000);

	return (d[1] & (1u << 23)) ? (l << 12) | 0xfff : l;
}

#define D_TYPE(d) (((d)[1] >> 8) & 0xf)
#define D_S(d) (((d)[1] >> 12) & 1)
#define D_DPL(d) (((d)[1] >> 13) & 3)
#define D_P(d) (((d)[1] >> 15) & 1)

static bool flat(const uint32_t d[2])
{
	return desc_base(d) == 0 && desc_limit(d) == 0xffffffffu;
}

static int seg_fault(struct bt *bt, int vector, uint16_t sel)
{
	bt_raise(bt, vector, true, sel & 0xfffcu);
	return -1;
}

/* A selector error raised while delivering an event: with the EXT bit (ext 1). */
static int seg_fault_ext(struct bt *bt, int vector, uint16_t sel, uint16_t ext)
{
	bt_raise(bt, vector, true, (sel & 0xfffcu) | ext);
	return -1;
}

void bt_seg_set(struct bt *bt, int seg, struct bt_seg s)
{
	struct bt_seg *o = &bt->cpu.seg[seg];

	bool changed =
	    seg != SEG_CS && (o->base != s.base || bt_seg_limited(o) != bt_seg_limited(&s) ||
	                      (bt_seg_limited(o) && (o->limit != s.limit || o->type != s.type)));

	*o = s;
	/* Translated code has data segment bases and limits folded in: blocks are keyed by them. */
	if (changed)
		tc_seg_changed(bt);
}

/* A null selector: any access through it is #GP(0) (BT_SEG_NULL, checked by co_seglimit). */
static struct bt_seg null_seg(uint16_t sel)
{
	return (struct bt_seg){.sel = sel, .limit = 0, .type = BT_SEG_NULL};
}

int bt_load_seg(struct bt *bt, int seg, uint16_t sel)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t d[2];
	unsigned rpl = sel & 3, dpl;

	if ((sel & ~3u) == 0) {
		if (seg == SEG_SS)
			return seg_fault(bt, EXC_GP, 0);
		bt_seg_set(bt, seg, null_seg(sel));
		return 0;
	}
	if (bt_read_desc(bt, sel, d))
		return c->exc.vector == EXC_PF ? -1 : seg_fault(bt, EXC_GP, sel);
	dpl = D_DPL(d);
	if (!D_S(d))
		return seg_fault(bt, EXC_GP, sel);
	if (seg == SEG_SS) {
		if ((D_TYPE(d) & 0xa) != 0x2 || rpl != c->cpl || dpl != c->cpl)
			return seg_fault(bt, EXC_GP, sel);
		if (!D_P(d))
			return seg_fault(bt, EXC_SS, sel);
	} else {
		bool code = D_TYPE(d) & 8, readable = D_TYPE(d) & 2, conforming = D_TYPE(d) & 4;

		if (code && !readable)
			return seg_fault(bt, EXC_GP, sel);
		if ((!code || !conforming) && (dpl < c->cpl || dpl < rpl))
			return seg_fault(bt, EXC_GP, sel);
		if (!D_P(d))
			return seg_fault(bt, EXC_NP, sel);
	}
	bt_seg_set(
	    bt, seg,
	    (struct bt_seg){sel, desc_base(d), desc_limit(d), (uint8_t)dpl, (uint8_t)D_TYPE(d)});
	return 0;
}

int bt_load_cs(struct bt *bt, uint16_t sel, uint8_t new_cpl)
{
	uint32_t d[2];

	if ((sel & ~3u) == 0 || bt_read_desc(bt, sel, d))
		return bt->cpu.exc.vector == EXC_PF ? -1 : seg_fault(bt, EXC_GP, sel);
	if (!D_S(d) || !(D_TYPE(d) & 8))
		return seg_fault(bt, EXC_GP, sel);
	/* conforming: DPL <= the new CPL; non-conforming: DPL == the new CPL */
	if ((D_TYPE(d) & 4) ? D_DPL(d) > new_cpl : D_DPL(d) != new_cpl)
		return seg_fault(bt, EXC_GP, sel);
	if (!D_P(d))
		return seg_fault(bt, EXC_NP, sel);
	if (!flat(d)) {
		bt_unsupported(bt, bt->cpu.eip, "non-flat code segment 0x%x", sel);
		return -2;
	}
	bt->cpu.seg[SEG_CS] = (struct bt_seg){(uint16_t)((sel & ~3u) | new_cpl), 0, 0xffffffffu,
	                                      (uint8_t)D_DPL(d), (uint8_t)D_TYPE(d)};
	bt_set_cpl(bt, new_cpl);
	return 0;
}

/* The inner stack of a TSS for new_cpl; 0 or -1 with #TS/#SS/#PF raised (ext: EXT bit). */
static int tss_stack(struct bt *bt, uint8_t new_cpl, uint16_t ext, uint32_t *esp, uint16_t *ss,
                     struct bt_seg *ssd)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t stack[2] = {0, 0}, d[2], off = 4 + 8u * new_cpl;

	if (off + 7 > c->tr_limit)
		return seg_fault_ext(bt, EXC_TS, c->tr_sel, ext);
	if (mmu_read(bt, c->tr_base + off, stack, 8, false))
		return -1;
	*esp = stack[0];
	*ss = (uint16_t)stack[1];
	if ((*ss & ~3u) == 0)
		return seg_fault_ext(bt, EXC_TS, 0, ext);
	if (bt_read_desc(bt, *ss, d))
		return c->exc.vector == EXC_PF ? -1 : seg_fault_ext(bt, EXC_TS, *ss, ext);
	if ((*ss & 3) != new_cpl || D_DPL(d) != new_cpl || !D_S(d) || (D_TYPE(d) & 0xa) != 0x2)
		return seg_fault_ext(bt, EXC_TS, *ss, ext);
	if (!D_P(d))
		return seg_fault_ext(bt, EXC_SS, *ss, ext);
	*ssd = (struct bt_seg){*ss, desc_base(d), desc_limit(d), new_cpl, (uint8_t)D_TYPE(d)};
	return 0;
}

int bt_far_target(struct bt *bt, uint16_t sel)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t d[2];
	unsigned t;

	if ((sel & ~3u) == 0)
		return seg_fault(bt, EXC_GP, 0);
	if (bt_read_desc(bt, sel, d))
		return c->exc.vector == EXC_PF ? -1 : seg_fault(bt, EXC_GP, sel);
	t = D_TYPE(d);
	if (!D_S(d)) {
		if (t == 0x5 || t == 0x9 || t == 0x1)
			return 1; /* a task switch: bt_task_far checks the rest */
		if (t == 0x4 || t == 0xc) {
			bt_unsupported(bt, c->eip,
			               "far transfer through a call gate (selector 0x%x)", sel);
			return -2;
		}
		return seg_fault(bt, EXC_GP, sel);
	}
	if (!(t & 8))
		return seg_fault(bt, EXC_GP, sel);
	if ((t & 4) ? D_DPL(d) > c->cpl : ((sel & 3u) > c->cpl || D_DPL(d) != c->cpl))
		return seg_fault(bt, EXC_GP, sel);
	if (!D_P(d))
		return seg_fault(bt, EXC_NP, sel);
	return 0;
}

/* Push the frame for a gate into new_cpl; 0 or -1 (exception in cpu->exc). */
static int push_frame(struct bt *bt, uint8_t new_cpl, const struct bt_exc *e, uint32_t eflags,
                      uint16_t ext)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t frame[6], n = 0, esp;
	uint16_t ss_sel = c->seg[SEG_SS].sel;
	struct bt_seg ssd = c->seg[SEG_SS];
	bool user = new_cpl == 3;

	if (new_cpl < c->cpl) {
		uint16_t ss0;

		if (tss_stack(bt, new_cpl, ext, &esp, &ss0, &ssd))
			return -1;
		frame[n++] = ss_sel; /* pushed first: the outer SS, then ESP */
		frame[n++] = c->gpr[4];
	} else {
		esp = c->gpr[4];
	}
	frame[n++] = eflags;
	frame[n++] = c->seg[SEG_CS].sel;
	frame[n++] = c->eip;
	if (e->has_err)
		frame[n++] = e->err;
	{
		uint32_t stack[6], i;

		for (i = 0; i < n; i++)
			stack[i] = frame[n - 1 - i]; /* lowest address first */
		if (mmu_write(bt, ssd.base + esp - 4 * n, stack, 4 * n, user))
			return -1;
	}
	if (new_cpl < c->cpl)
		bt_seg_set(bt, SEG_SS, ssd);
	c->gpr[4] = esp - 4 * n;
	return 0;
}

/*
 * One delivery through the IDT, with the checks in the order of the SDM's
 * interrupt pseudo-code; a fault raised here (ext: the EXT bit of its error
 * code) is left in cpu->exc for bt_deliver to weigh against #DF.
 */
static int deliver_one(struct bt *bt, const struct bt_exc *e, bool ext)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t gate[2], d[2], eflags = bt_eflags(c), target;
	uint16_t sel, x = ext ? 1 : 0, idt_err = (uint16_t)(e->vector * 8 + 2 + x);
	unsigned type, new_cpl;

	if ((uint32_t)e->vector * 8 + 7 > c->idt_limit)
		return bt_raise(bt, EXC_GP, true, idt_err), -1;
	if (mmu_read(bt, c->idt_base + (uint32_t)e->vector * 8, gate, 8, false))
		return -1;
	type = (gate[1] >> 8) & 0x1f;
	if (type != 0xe && type != 0xf && type != 0x5)
		return bt_raise(bt, EXC_GP, true, idt_err), -1;
	if (e->is_int && ((gate[1] >> 13) & 3) < c->cpl)
		return bt_raise(bt, EXC_GP, true, idt_err), -1;
	if (!((gate[1] >> 15) & 1))
		return bt_raise(bt, EXC_NP, true, idt_err), -1;
	if (type ==
	    0x5) { /* a task gate: the handler is a task; the error code goes on its stack */
		int r = bt_task_switch(bt, (uint16_t)(gate[0] >> 16), TS_INT, c->eip, e->has_err,
		                       e->err);

		if (r == 0 && e->vector == EXC_PF)
			c->cr2 = e->cr2;
		return r ? -1 : 0;
	}
	sel = (uint16_t)(gate[0] >> 16);
	target = (gate[0] & 0xffff) | (gate[1] & 0xffff0000u);
	if ((sel & ~3u) == 0)
		return seg_fault_ext(bt, EXC_GP, 0, x);
	if (bt_read_desc(bt, sel, d))
		return c->exc.vector == EXC_PF ? -1 : seg_fault_ext(bt, EXC_GP, sel, x);
	if (!D_S(d) || !(D_TYPE(d) & 8) || D_DPL(d) > c->cpl)
		return seg_fault_ext(bt, EXC_GP, sel, x);
	if (!D_P(d))
		return seg_fault_ext(bt, EXC_NP, sel, x);
	new_cpl = (D_TYPE(d) & 4) ? c->cpl : D_DPL(d);
	log_debug("bt: vector %d at eip=0x%x cpl %u esp=0x%x -> 0x%x:0x%x", e->vector, c->eip,
	          c->cpl, c->gpr[4], sel, target);
	if (push_frame(bt, (uint8_t)new_cpl, e, eflags, x))
		return -1;
	if (e->vector == EXC_PF)
		c->cr2 = e->cr2;
	c->vflags &= ~(EFL_TF | EFL_NT | EFL_RF | EFL_VM);
	if (type == 0xe)
		c->vflags &= ~EFL_IF;
	c->eip = target;
	c->seg[SEG_CS] = (struct bt_seg){(uint16_t)((sel & ~3u) | new_cpl), 0, 0xffffffffu,
	                                 (uint8_t)D_DPL(d), (uint8_t)D_TYPE(d)};
	if (new_cpl != c->cpl)
		bt_set_cpl(bt, (uint8_t)new_cpl);
	return 0;
}

static bool contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* SDM Vol 3 table 6-5: does `second`, raised delivering `first`, make a double fault? */
static bool double_fault(const struct bt_exc *first, const struct bt_exc *second)
{
	if (first->is_int || first->vector >= 32)
		return false; /* software and external interrupts are benign */
	if (contributory(first->vector))
		return contributory(second->vector);
	if (first->vector == EXC_PF)
		return second->vector == EXC_PF || contributory(second->vector);
	return false;
}

int bt_deliver(struct bt *bt)
{
	struct bt_exc cur = bt->cpu.exc, next;
	int i;

	bt->cpu.exc.vector = -1;
	/* A fault in a delivery is delivered next (serially) or as #DF; one in #DF's shuts down. */
	for (i = 0; i < 8; i++) {
		if (cur.vector == EXC_PF)
			bt->cpu.cr2 = cur.cr2;
		if (deliver_one(bt, &cur, i > 0 || !cur.is_int) == 0)
			return 0;
		next = bt->cpu.exc;
		bt->cpu.exc.vector = -1;
		if (i == 0 && cur.is_int)
			bt->cpu.eip =
			    cur.insn_eip; /* a fault raised by int n is reported at the int */
		if (next.vector < 0 || cur.vector == EXC_DF)
			return -1; /* a stop already recorded, or a triple fault */
		if (next.vector == EXC_PF)
			bt->cpu.cr2 = next.cr2; /* CR2 is the second fault's, #DF or not */
		if (double_fault(&cur, &next))
			next = (struct bt_exc){.vector = EXC_DF, .has_err = true, .err = 0};
		cur = next;
	}
	return -1;
}

int bt_deliver_irq(struct bt *bt, uint8_t vector)
{
	bt->cpu.exc = (struct bt_exc){.vector = vector};
	bt->stats.interrupts++;
	return bt_deliver(bt);
}

/* Null the data segments a return to an outer ring may no longer use. */
void bt_drop_inner_segments(struct bt *bt)
{
	static const int segs[] = {SEG_DS, SEG_ES, SEG_FS, SEG_GS};
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct bt_seg *s = &bt->cpu.seg[segs[i]];

		if ((s->sel & ~3u) && s->dpl < bt->cpu.cpl)
			bt_seg_set(bt, segs[i], null_seg(0));
	}
}

int bt_iret(struct bt *bt, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t f[5], keep, newf;
	uint8_t new_cpl;
	bool user = c->cpl == 3;

	if (c->vflags & EFL_NT) /* a nested task returns through its TSS's link */
		return bt_task_return(bt, next);
	uint32_t ss_base = c->seg[SEG_SS].base;

	if (mmu_read(bt, ss_base + c->gpr[4], f, 12, user))
		return -1;
	log_debug("bt: iret at cpl %u esp=0x%x: eip=0x%x cs=0x%x eflags=0x%x", c->cpl, c->gpr[4],
	          f[0], f[1], f[2]);
	new_cpl = f[1] & 3;
	if (new_cpl < c->cpl)
		return seg_fault(bt, EXC_GP, (uint16_t)f[1]);
	if (new_cpl > c->cpl && mmu_read(bt, ss_base + c->gpr[4] + 12, f + 3, 8, user))
		return -1;
	if (f[2] & EFL_VM) {
		bt_unsupported(bt, c->eip, "iret to virtual-8086 mode");
		return -2;
	}
	/* What this CPL may change: IOPL at CPL 0 only, IF at CPL <= IOPL only; RF, AC, ID,
	 * NT and the arithmetic flags always; VIF and VIP never (no VME in the CPU model). */
	keep = EFL_VM;
	if (c->cpl > 0)
		keep |= EFL_IOPL;
	if (c->cpl > ((bt_eflags(c) & EFL_IOPL) >> 12))
		keep |= EFL_IF;
	newf = (f[2] & ~keep & 0x277fd5u) | (bt_eflags(c) & keep);
	{
		uint8_t old = c->cpl;
		int r = bt_load_cs(bt, (uint16_t)f[1], new_cpl);

		if (r)
			return r;
		if (new_cpl > old) {
			r = bt_load_seg(bt, SEG_SS, (uint16_t)f[4]);
			if (r) {
				bt_set_cpl(bt, old);
				return r;
			}
			c->gpr[4] = f[3];
			bt_drop_inner_segments(bt);
		} else {
			c->gpr[4] += 12;
		}
	}
	bt_set_eflags(c, newf);
	c->eip = f[0];
	return 0;
}
