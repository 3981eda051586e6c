/*
 * bt_task.c: hardware task switches (SDM Vol 3 7.3): jmp/call to a TSS or a task
 * gate, a task gate in the IDT, iret with EFLAGS.NT back through the link field.
 * 32-bit TSSs only (a 16-bit one is reported unsupported); the new task's code
 * segment must be flat, as everywhere in this engine.
 */
#include <string.h>

#include "bt.h"
#include "log.h"

#define EFL_NT 0x4000u
#define CR0_TS 0x8u
#define CR0_PG 0x80000000u
#define TSS_LINK 0x00
#define TSS_CR3 0x1c
#define TSS_EIP 0x20 /* EIP EFLAGS EAX..EDI ES CS SS DS FS GS: 16 dwords */
#define TSS_LDT 0x60
#define TSS_MIN_LIMIT 0x67

static uint32_t d_base(const uint32_t d[2])
{
	return (d[0] >> 16) | ((d[1] & 0xff) << 16) | (d[1] & 0xff000000u);
}

static uint32_t d_limit(const uint32_t d[2])
{
	uint32_t l = (d[0] & 0xffff) | (d[1] & 0xf0000);

	return (d[1] & (1u << 23)) ? (l << 12) | 0xfff : l;
}

static int fault(struct bt *bt, int vector, uint16_t sel)
{
	bt_raise(bt, vector, true, sel & 0xfffcu);
	return -1;
}

/* Set or clear the busy bit of the TSS descriptor sel (in the GDT). */
static int set_busy(struct bt *bt, uint16_t sel, bool busy)
{
	uint32_t hi;

	if (mmu_read(bt, bt->cpu.gdt_base + (sel & ~7u) + 4, &hi, 4, false))
		return -1;
	hi = busy ? hi | 0x200u : hi & ~0x200u;
	return mmu_write(bt, bt->cpu.gdt_base + (sel & ~7u) + 4, &hi, 4, false);
}

/* LDTR from the new TSS: null, or an LDT descriptor in the GDT; else #TS. */
static int load_ldt(struct bt *bt, uint16_t sel)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t d[2];

	if ((sel & ~3u) == 0) {
		c->ldt_sel = 0;
		return 0;
	}
	if ((sel & 4) || bt_read_desc(bt, sel, d))
		return c->exc.vector == EXC_PF ? -1 : fault(bt, EXC_TS, sel);
	if (((d[1] >> 8) & 0x1f) != 0x2)
		return fault(bt, EXC_TS, sel);
	if (!((d[1] >> 15) & 1))
		return fault(bt, EXC_NP, sel);
	c->ldt_sel = sel;
	c->ldt_base = d_base(d);
	c->ldt_limit = d_limit(d);
	return 0;
}

/* The new task's segment registers: a fault here is taken in the new task (as #TS). */
static int load_segments(struct bt *bt, const uint32_t *v)
{
	static const int order[] = {SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
	uint16_t cs = (uint16_t)v[11];
	unsigned i;
	int r;

	r = bt_load_cs(bt, cs, cs & 3);
	if (r)
		return r == -1 && bt->cpu.exc.vector == EXC_GP ? fault(bt, EXC_TS, cs) : r;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		uint16_t sel = (uint16_t)v[10 + order[i]];

		r = bt_load_seg(bt, order[i], sel);
		if (r)
			return bt->cpu.exc.vector == EXC_GP ? fault(bt, EXC_TS, sel) : r;
	}
	return 0;
}

int bt_task_switch(struct bt *bt, uint16_t sel, int reason, uint32_t eip, bool has_err,
                   uint32_t err)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t d[2], base, limit, v[16], link = 0, cr3, ldt = 0, old[16];
	unsigned type;
	int i;

	if ((sel & 4) || bt_read_desc(bt, sel, d))
		return c->exc.vector == EXC_PF
		           ? -1
		           : fault(bt, reason == TS_IRET ? EXC_TS : EXC_GP, sel);
	type = (d[1] >> 8) & 0x1f;
	if (type == 0x1 || type == 0x3) {
		bt_unsupported(bt, c->eip, "task switch to a 16-bit TSS (selector 0x%x)", sel);
		return -2;
	}
	/* iret returns to a busy task; jmp, call and interrupts go to an available one */
	if (type != (reason == TS_IRET ? 0xbu : 0x9u))
		return fault(bt, reason == TS_IRET ? EXC_TS : EXC_GP, sel);
	if (!((d[1] >> 15) & 1))
		return fault(bt, EXC_NP, sel);
	base = d_base(d);
	limit = d_limit(d);
	if (limit < TSS_MIN_LIMIT)
		return fault(bt, EXC_TS, sel);
	/* Read all of the new TSS before anything changes: a #PF leaves the old task intact. */
	if (mmu_read(bt, base + TSS_EIP, v, sizeof(v), false) ||
	    mmu_read(bt, base + TSS_CR3, &cr3, 4, false) ||
	    mmu_read(bt, base + TSS_LDT, &ldt, 4, false) ||
	    mmu_read(bt, base + TSS_LINK, &link, 4, false))
		return -1;
	/* The old task's state into its TSS (its busy bit cleared unless it is nested). */
	old[0] = eip;
	old[1] = bt_eflags(c) & (reason == TS_IRET ? ~EFL_NT : ~0u);
	for (i = 0; i < 8; i++)
		old[2 + i] = c->gpr[i];
	for (i = 0; i < SEG_NR; i++)
		old[10 + i] = c->seg[i].sel;
	if (mmu_write(bt, c->tr_base + TSS_EIP, old, sizeof(old), false))
		return -1;
	if ((reason == TS_JMP || reason == TS_IRET) && set_busy(bt, c->tr_sel, false))
		return -1;
	if (reason == TS_CALL || reason == TS_INT) {
		link = c->tr_sel;
		if (mmu_write(bt, base + TSS_LINK, &link, 2, false))
			return -1;
		v[1] |= EFL_NT;
	}
	if (reason != TS_IRET && set_busy(bt, sel, true))
		return -1;
	log_debug("bt: task switch %d from 0x%x to 0x%x at eip=0x%x", reason, c->tr_sel, sel, v[0]);
	bt->stats.task_switches++;
	c->tr_sel = sel;
	c->tr_base = base;
	c->tr_limit = limit;
	{
		uint32_t old_cr0 = c->cr0;

		c->cr0 |= CR0_TS;                /* the new task's first x87 instruction: #NM */
		bt_fpu_cr0_changed(bt, old_cr0); /* x87 blocks were translated for TS clear */
	}
	/*
	 * From here on a fault belongs to the new task (SDM Vol 3 7.3, step 12). CR3 is
	 * loaded even when it holds the same value, and a CR3 load flushes the non-global
	 * TLB entries (SDM Vol 3 4.10.4.1; qemu-system-i386 too): the shadow and the jump
	 * caches forget, as for mov cr3.
	 */
	if (c->cr0 & CR0_PG) {
		c->cr3 = cr3;
		mmu_cr_written(bt, 3, c->cr0, c->cr4);
		tc_new_space(bt, mmu_code_pages_hold(bt));
	}
	c->eip = v[0];
	bt_set_eflags(c, v[1]);
	for (i = 0; i < 8; i++)
		c->gpr[i] = v[2 + i];
	if (load_ldt(bt, (uint16_t)ldt) || load_segments(bt, v))
		return -1;
	if (has_err) {
		uint32_t esp = c->gpr[4] - 4;

		if (mmu_write(bt, bt_lin(c->seg, SEG_SS, esp), &err, 4, c->cpl == 3))
			return -1;
		c->gpr[4] = esp;
	}
	return 0;
}

int bt_task_far(struct bt *bt, uint16_t sel, bool call, uint32_t next)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t d[2];
	unsigned dpl;

	if (bt_read_desc(bt, sel, d))
		return c->exc.vector == EXC_PF ? -1 : fault(bt, EXC_GP, sel);
	dpl = (d[1] >> 13) & 3;
	if (dpl < c->cpl || dpl < (sel & 3u))
		return fault(bt, EXC_GP, sel);
	if (!((d[1] >> 15) & 1))
		return fault(bt, EXC_NP, sel);
	if (((d[1] >> 8) & 0x1f) == 0x5) /* a task gate: its TSS selector */
		sel = (uint16_t)(d[0] >> 16);
	return bt_task_switch(bt, sel, call ? TS_CALL : TS_JMP, next, false, 0);
}

int bt_task_return(struct bt *bt, uint32_t next)
{
	uint32_t link = 0;

	if (mmu_read(bt, bt->cpu.tr_base + TSS_LINK, &link, 4, false))
		return -1;
	return bt_task_switch(bt, (uint16_t)link, TS_IRET, next, false, 0);
}
