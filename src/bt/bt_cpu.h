/*
 * bt_cpu.h: the guest's virtual CPU as the translator holds it (registers, EFLAGS,
 * segments, control and debug registers, descriptor tables, the pending exception,
 * the interrupt shadow), the exception vectors, and why translated code returned to
 * C (enum bt_exit). No engine bookkeeping beyond the r14 gate's words.
 */
#ifndef TANDEM_BT_CPU_H
#define TANDEM_BT_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "bt_asm.h"

/* Why bt_stub_enter returned (cpu->exit_reason). */
enum bt_exit {
	BT_EXIT_CHAIN = BT_ASM_EXIT_CHAIN, /* a direct branch's stub: chain it */
	BT_EXIT_MISS = BT_ASM_EXIT_MISS,   /* indirect branch missed the jump cache */
	BT_EXIT_KICK = BT_ASM_EXIT_KICK,   /* exit_request was set */
	BT_EXIT_RESUME,                    /* state in cpu: continue at cpu->eip */
	BT_EXIT_EXCEPTION,                 /* deliver cpu->exc at cpu->eip */
	BT_EXIT_CORE,                      /* bt->core_exit holds an exit for the monitor */
	BT_CO_JUMP = BT_ASM_CO_JUMP,       /* (callouts only) go on at cpu->jump */
};

/* Exception vectors (SDM Vol 3A 6.3.1, table 6-1). */
#define EXC_DE 0
#define EXC_DB 1
#define EXC_NMI 2
#define EXC_BP 3
#define EXC_OF 4
#define EXC_BR 5
#define EXC_UD 6
#define EXC_NM 7
#define EXC_DF 8
#define EXC_TS 10
#define EXC_NP 11
#define EXC_SS 12
#define EXC_GP 13
#define EXC_PF 14
#define EXC_MF 16

struct bt_seg {
	uint16_t sel;
	uint32_t base, limit;
	uint8_t dpl;
	uint8_t type; /* descriptor type (bit 2 of a data segment: expand-down) */
};

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NR };

/* Linear address of offset off in data segment seg (modulo 4 GiB, as i386). */
static inline uint32_t bt_lin(const struct bt_seg *segs, int seg, uint32_t off)
{
	return segs[seg].base + off;
}

/*
 * bt_seg.type of a segment register holding a null selector (never a descriptor type,
 * which has 4 bits): any access through it is #GP(0) (SDM Vol 3 5.4.1, "null segment
 * selector checking"; QEMU's TCG instead keeps the old base, a known deviation).
 */
#define BT_SEG_NULL 0x10

/* Does an access through this segment need a limit check (not expand-up to 4 GiB)? */
static inline bool bt_seg_limited(const struct bt_seg *s)
{
	return s->limit != 0xffffffffu || (s->type & 0xc) == 0x4 || (s->type & BT_SEG_NULL);
}

/* Is [off, off + size) outside the segment's limit (expand-up or expand-down)? */
static inline bool bt_seg_outside(const struct bt_seg *s, uint32_t off, uint32_t size)
{
	uint64_t last = (uint64_t)off + size - 1;

	if (s->type & BT_SEG_NULL)
		return true;
	if ((s->type & 0xc) == 0x4) /* expand-down: offsets above the limit, up to 4 GiB */
		return off <= s->limit || last > 0xffffffffu;
	return last > s->limit;
}

struct bt_exc {
	int vector; /* -1 none */
	bool has_err;
	uint32_t err;
	uint32_t cr2;      /* for #PF */
	bool is_int;       /* software int n: EIP after, DPL check */
	uint32_t insn_eip; /* int n: the instruction, where a fault in delivery is reported */
};

/*
 * The guest CPU: what an instruction reads and writes. Its head is also the gate between
 * translated code and C: r14 points at it, and bt_stubs.S and emitted code reach the
 * fields up to gjc_key at the offsets of bt_asm.h (checked by _Static_asserts in
 * bt_engine.c); those engine words (host_rsp .. jc_key) are the only bookkeeping here.
 * Everything else the engine keeps is in struct bt's module states.
 */
struct bt_cpu {
	/* --- the asm-visible part: offsets in bt_asm.h --- */
	uint32_t gpr[8]; /* eax ecx edx ebx esp ebp esi edi */
	uint32_t eip;
	uint32_t hflags; /* guest flags as the host holds them: 0xCD5 bits + DF */
	uint64_t host_rsp;
	volatile uint64_t exit_request;
	uint64_t jc;      /* jump cache for the current CPL */
	uint64_t exit_tb; /* (struct tb *) | slot, set by a slot stub */
	uint64_t c_callout;
	uint32_t co_site; /* index into bt->cache.sites */
	uint32_t exit_reason;
	/*
	 * The guest's DF as a string step: +1 clear, -1 set. Set from hflags by
	 * LOAD_GUEST (bt_stubs.S) at every entry and callout return, and by the
	 * translation of cld/std, the only guest instructions that change DF
	 * without a callout; so string translations read it with one load, not pushfq.
	 */
	int64_t df_step;
	uint32_t arg; /* an operand translated code hands a callout (an address) */
	uint32_t arg_pad;
	uint64_t jump;   /* BT_ASM_CO_JUMP: the host code to go on at */
	uint64_t ic;     /* the ret sites' inline caches (struct jc_entry[]) */
	uint64_t vbase;  /* r8: the current view (or a page-table/MMIO redirect) */
	uint64_t jc_key; /* (generation << 8 | segment state) << 32: ORed into jump-cache keys */
	/*
	 * The global jump cache the miss stub probes (bt_stubs.S, tc_jc_fill): entries
	 * for CPL 0-2 blocks on global pages, which outlive CR3 loads as global TLB
	 * entries do; jc_empty while a kick is pending. Its key likewise, GJC_KEY_OFF
	 * (matches no entry) at CPL 3.
	 */
	uint64_t gjc;
	uint64_t gjc_key;
	/* --- C only --- */
	uint32_t vflags; /* guest EFLAGS bits the host does not hold: IF, IOPL, NT, AC, ID */
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint8_t cpl;
	struct bt_seg seg[SEG_NR];
	uint32_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
	uint16_t tr_sel, ldt_sel;
	uint32_t ldt_base, ldt_limit; /* ldt_sel 0: no LDT (every TI=1 selector is #GP) */
	uint32_t tr_base, tr_limit;
	uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t apic_base;
	struct bt_exc exc;
	uint8_t shadow; /* SHADOW_*: an interrupt shadow over the instruction at shadow_eip */
	uint32_t shadow_eip;
};

#define SHADOW_STI 1 /* sti with IF 0: no interrupt before the next instruction completes */
#define SHADOW_SS 2  /* mov ss / pop ss: no interrupt and no single-step trap either */

#define BT_ARITH_FLAGS 0x8d5u
#define BT_HOST_FLAGS (BT_ARITH_FLAGS | 0x400u) /* + DF */

/* Guest EFLAGS as the guest sees it. */
static inline uint32_t bt_eflags(const struct bt_cpu *c)
{
	return (c->hflags & BT_HOST_FLAGS) | (c->vflags & ~BT_HOST_FLAGS) | 0x2;
}

/* Set guest EFLAGS to f: the arithmetic flags and DF to hflags, the rest (IF, IOPL, TF...)
 * to vflags with bit 1 forced. No privilege masking: the caller decides what may change. */
static inline void bt_set_eflags(struct bt_cpu *c, uint32_t f)
{
	c->hflags = f & BT_HOST_FLAGS;
	c->vflags = (f & ~BT_HOST_FLAGS) | 0x2;
}

#endif
