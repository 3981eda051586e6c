/*
 * bt_site.h: the callout kinds (one X-macro: kind, handler, flags) and the callout
 * site, what the translator knew about an instruction it hands to a callout. Shared
 * by the translator (bt_xlat*.c makes sites), the cache (which stores them) and the
 * callouts (bt_callout*.c, which run them).
 */
#ifndef TANDEM_BT_SITE_H
#define TANDEM_BT_SITE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * X(name, handler, flags): the callout kinds. handler (int (struct co *), bt_callout.h) acts
 * on the virtual CPU; flags: CO_DECODE when the handler needs the instruction decoded again
 * (the hot kinds carry what they need in struct bt_site), CO_BEFORE when the callout runs
 * before its instruction (CO_NEXT then goes on into it, not after it). bt_callout.c expands
 * it into the dispatch table, bt_engine.c into the names --stats prints.
 */
// clang-format off
#define BT_CALLOUTS(X) \
	X(unsupported, co_unsupported_insn, CO_DECODE) \
	X(ud,          co_ud,               CO_DECODE) \
	X(int3,        co_int3,             CO_DECODE) \
	X(intn,        co_intn,             0) \
	X(into,        co_into,             CO_DECODE) \
	X(iret,        co_iret,             0) \
	X(hlt,         co_hlt,              CO_DECODE) \
	X(cli,         co_flags,            CO_DECODE) \
	X(sti,         co_flags,            CO_DECODE) \
	X(pushf,       co_flags,            CO_DECODE) \
	X(popf,        co_flags,            CO_DECODE) \
	X(io,          co_io,               0) \
	X(iostr,       co_iostr,            CO_DECODE) \
	X(cpuid,       co_cpuid,            CO_DECODE) \
	X(movcr,       co_movcr,            CO_DECODE) \
	X(movdr,       co_movdr,            CO_DECODE) \
	X(sreg_load,   co_sreg_load,        CO_DECODE) \
	X(sreg_read,   co_sreg_read,        CO_DECODE) \
	X(sreg_push,   co_sreg_read,        CO_DECODE) \
	X(desc_table,  co_desc_table,       CO_DECODE) \
	X(invlpg,      co_invlpg,           CO_DECODE) \
	X(msr,         co_msr,              CO_DECODE) \
	X(sysenter,    co_sysenter_fast,    0) \
	X(sysexit,     co_sysexit_fast,     0) \
	X(far,         co_far,              CO_DECODE) \
	X(bcd,         co_bcd,              CO_DECODE) \
	X(bound,       co_bound_any,        CO_DECODE) \
	X(clts,        co_clts,             CO_DECODE) \
	X(wbinvd,      co_wbinvd,           CO_DECODE) \
	X(segcheck,    co_segcheck,         CO_DECODE) \
	X(enter,       co_slow,             CO_DECODE) \
	X(adapt_pre,   co_adapt_pre,        CO_BEFORE) \
	X(adapt_post,  co_adapt_post,       0) \
	X(raise_de,    co_raise_de,         0) \
	X(pf_check,    co_pf_check,         CO_BEFORE) \
	X(slow,        co_slow,             CO_DECODE) \
	X(rdtsc,       co_rdtsc,            CO_DECODE) \
	X(gp,          co_gp,               0) \
	X(nm,          co_nm,               0) \
	X(seglimit,    co_seglimit,         CO_BEFORE)
// clang-format on

enum bt_callout_kind {
#define X(n, h, f) BT_CO_##n,
	BT_CALLOUTS(X)
#undef X
	    BT_CO_NR
};

/* A callout site: what the translator knew about the instruction. */
struct bt_site {
	uint32_t eip;
	uint8_t kind, len;
	uint8_t bytes[15];
	/* pre-decoded for the callouts that must not decode (in/out, adaptive forms) */
	uint8_t mem_size; /* adapt_pre: the memory operand's bytes */
	bool mem_read, mem_write;
	uint8_t vector;    /* int n, int3, int1 */
	bool soft_int;     /* int n / int3 (gate DPL checked), not int1 */
	uint8_t io_size;   /* 1, 2, 4 */
	bool io_in, io_dx; /* IN; port in DX (else io_port) */
	uint16_t io_port;
};

#endif
