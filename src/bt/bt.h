/*
 * bt.h: the binary translator's engine, struct bt, which embeds each module's state
 * (bt_cpu.h: the guest CPU; bt_cache.h, bt_mmu.h, bt_adapt.h: the cache, guest
 * memory, adaptive translation), and the headers every file of src/bt includes.
 *
 * Register convention inside translated code (host x86-64):
 *   eax ecx edx ebx ebp esi edi   guest registers of the same names (low 32 bits;
 *                                 the upper halves are always zero)
 *   r15d                          guest ESP (the host RSP stays the host stack)
 *   r14                           struct bt_cpu *
 *   r8                            the view base (cpu->vbase): host address of guest VA 0
 *   r9                            a guest address computed exactly (32-bit lea)
 *   r10-r13                       temporaries of rewritten sequences
 *   RFLAGS                        guest CF PF AF ZF SF OF and DF, live
 * A guest access is [r8 + reg64*scale + disp32] when the guest operand has one
 * register, else [r8 + r9] after `lea r9d, [ea32]` (or [r8 + disp] for an absolute
 * address below 2 GiB). Each view is a 4 GiB window inside a PROT_NONE reservation
 * (see bt_shadow.c) whose guards cover every one-register form that wraps; a fault in
 * a guard retranslates that instruction with the lea (bt_adapt_wrap).
 * Every rewritten sequence is flag-free (mov, lea, not, xchg, movzx, jrcxz) unless
 * it computes guest flags itself, so guest flags never need saving in the cache.
 */
#ifndef TANDEM_BT_H
#define TANDEM_BT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt_adapt.h"
#include "bt_asm.h"
#include "bt_cache.h" /* the translation cache: bt_cache.c, bt_lookup.c, bt_chain.c */
#include "bt_cpu.h"
#include "bt_excp.h"
#include "bt_mmu.h" /* guest virtual memory: bt_mmu.c, bt_shadow.c */
#include "bt_site.h"
#include "exit.h"
#include "vcpu.h"

struct monitor;

/* X(field, description): the translator's counters for --stats. */
#define BT_STATS(X)                                                                                \
	X(blocks, "blocks translated")                                                             \
	X(insns, "guest instructions translated")                                                  \
	X(cache_bytes, "translation cache bytes in use")                                           \
	X(enters, "entries into the translation cache")                                            \
	X(chained, "direct branches chained")                                                      \
	X(chained_probe, "direct branches sent to the jump-cache probe (target keyed by FS/GS)")   \
	X(unchains, "chains undone (invalidation, kicks)")                                         \
	X(lookups, "dispatcher lookups (cache exits to a new target)")                             \
	X(lookup_hits, "dispatcher lookups that found a translation")                              \
	X(callouts, "callouts to the monitor")                                                     \
	X(hidden_faults, "hidden faults: shadow pages filled on SIGSEGV")                          \
	X(true_faults, "true guest page faults delivered")                                         \
	X(trace_faults, "trace faults: writes to traced pages (code or page tables)")              \
	X(pt_traces, "trace faults on guest page tables (shadow entries dropped)")                 \
	X(smc_invalidations, "blocks invalidated by code writes")                                  \
	X(exceptions, "exceptions delivered through the guest IDT")                                \
	X(interrupts, "interrupts delivered through the guest IDT")                                \
	X(tc_flushes, "translation cache flushes")                                                 \
	X(shadow_flushes, "whole-shadow flushes (paging mode, PSE, engine reset)")                 \
	X(cr3_loads, "CR3 loads (mov cr3, task switch): translations kept, jump caches reset")     \
	X(as_hits, "CR3 loads that found the address space's shadow cached")                       \
	X(as_misses, "CR3 loads that built a shadow (a slot keyed anew)")                          \
	X(as_evictions, "shadow slots emptied: LRU reuse or mapping budget")                       \
	X(neighbour_pages, "pages mapped by a fill next to the faulting one")                      \
	X(remaps_saved, "fills that found the page already mapped right (no mmap)")                \
	X(pt_untraced, "page tables untraced after many trace faults (their entries dropped)")     \
	X(pt_released, "page tables untraced at a store: no cached address space used them")       \
	X(as_dropped, "address spaces dropped: their directory written while not current")         \
	X(wp_changes, "CR0.WP changes (supervisor-writable RO pages dropped on 0->1)")             \
	X(pge_changes, "CR4.PGE changes (global shadow entries dropped)")                          \
	X(lookup_misses, "dispatcher lookups that had to translate")                               \
	X(lookup_remaps, "blocks passed over in lookups: same eip, other physical pages")          \
	X(lookup_segs, "blocks passed over in lookups: same eip, other segment state")             \
	X(lookup_nulls, "of those, only a data segment null now and flat then (or back)")          \
	X(jc_resets, "jump and return-site caches reset (generation bumps)")                       \
	X(jc_reuses, "CR3 loads that took back the address space's jump-cache generation")         \
	X(seg_states, "segment states translations are keyed by (distinct bases/limits)")          \
	X(kick_unlinks, "kicks that unlinked the one block running")                               \
	X(kick_unlink_all, "kicks that unlinked every chain (landed outside a plain block)")       \
	X(invlpgs, "invlpg")                                                                       \
	X(mmio_emulated, "MMIO accesses emulated from a fault")                                    \
	X(openbus_writes, "writes to open bus (no RAM, no device) dropped")                        \
	X(slow_path, "instructions run by the slow path")                                          \
	X(adapt_pt, "retranslations: stores to page tables (no trace fault)")                      \
	X(adapt_mmio, "retranslations: MMIO accesses (no fault)")                                  \
	X(adapt_div, "retranslations: divides (inline zero-divisor check)")                        \
	X(adapt_pf, "retranslations: true page faults (presence checked by callout)")              \
	X(wrap_exact, "retranslations: accesses that wrapped at 4 GiB (guard fault)")              \
	X(rsp_loops, "one-block loops run with host RSP = r8 + guest ESP (bt_rsp.c)")              \
	X(rsp_refused, "one-block loops that could not take that form (ESP written, callouts)")    \
	X(task_switches, "hardware task switches")

/* The translator's counters (struct bt's stats member). */
struct bt_stats {
#define X(f, d) uint64_t f;
	BT_STATS(X)
#undef X
	uint64_t co_count[BT_CO_NR];
};

#define BT_TRACE_TC 0x1
#define BT_TRACE_ADAPT 0x2

/* The engine: one per VM. Each module's state is its own member. */
struct bt {
	struct bt_cpu cpu; /* first: translated code addresses it through r14 */
	struct monitor *mon;
	struct bt_tc cache;          /* bt_cache.c, bt_lookup.c, bt_chain.c */
	struct bt_mmu mmu;           /* bt_mmu.c, bt_shadow.c, bt_pt_untrace.c, bt_mmio.c */
	struct bt_adaptive adaptive; /* bt_adapt.c, bt_callout_adapt.c */
	struct bt_stats stats;       /* every module counts here */

	/* the dispatcher (bt_engine.c) */
	bool in_run;
	bool stepping;                /* the dispatcher runs one instruction per block (guest TF) */
	bool rsp_off;                 /* TANDEM_BT_RSP=0: no stack-pointer loops (bt_rsp.h) */
	int8_t rsp_ok;                /* bt_rsp_available on the first bt_run (-1: not asked yet) */
	bool nmi_blocked;             /* an NMI was delivered; the next iret unblocks (SDM 6.7.1) */
	struct exit_record core_exit; /* BT_EXIT_CORE: the exit for the monitor */
	uint8_t io_buf[4096];         /* the data of the port or MMIO access being dispatched */

	void *dec32, *dec64; /* ZydisDecoder */
	int trace;           /* BT_TRACE_* bits */
	bool ferr;           /* an x87 exception with CR0.NE clear: FERR#, IRQ13 to raise */
	/* fxsave images: the guest's x87 state outside bt_run, the host's inside it */
	uint8_t fpu_guest[512] __attribute__((aligned(16)));
	uint8_t fpu_host[512] __attribute__((aligned(16)));
};

_Static_assert(offsetof(struct bt, cpu) == 0, "bt_of and r14: struct bt_cpu heads struct bt");

/* The bt that owns cpu (struct bt's first member: the pointer r14 holds). */
static inline struct bt *bt_of(struct bt_cpu *c)
{
	return (struct bt *)c;
}

/* The host address of guest page va in flat view v (the mirror of page 0 aside). */
static inline uint8_t *mmu_host_page(struct bt *bt, int v, uint32_t va)
{
	return bt->mmu.view[v] + (va & ~0xfffu);
}

/* bt_translate.c: translate the block at guest eip for the current CPL, address space and
 * segment state into the cache, committed and in *out: 0; < 0 when its first instruction
 * cannot be (an exception in cpu.exc, or core_exit set: see translate_one); -2 for a
 * translator bug (core_exit EXIT_UNSUPPORTED). */
int bt_translate(struct bt *bt, uint32_t eip, struct tb **out);
/* The Zydis decoders for guest (32-bit) and host (64-bit) code, static and shared by every
 * bt: 0, or -1 if Zydis refuses. bt_decoders_destroy only forgets them (nothing to free). */
int bt_decoders_init(struct bt *bt);
void bt_decoders_destroy(struct bt *bt);

/* bt_callout.c: the callout dispatcher bt_stubs.S calls with the guest registers saved in
 * cpu (cpu->co_site: the site): CO_NEXT (0) to go on after the instruction, else a
 * bt_exit with cpu->eip set. */
int bt_callout(struct bt_cpu *cpu);
/*
 * bt_compat.c: bt_compat_bcd runs one BCD adjust (insn: its 1-2 bytes) natively in
 * the host's compatibility mode on *eax and the arithmetic flags of *eflags, and
 * writes both back; false (nothing changed) where the host cannot run 32-bit code,
 * and the caller emulates. The first call forks once to try the far call.
 * bt_compat_method says which, for `tandem info`.
 */
bool bt_compat_bcd(const uint8_t insn[2], uint32_t *eax, uint32_t *eflags);
const char *bt_compat_method(void);

/* bt_fpu.c: the guest's x87 state (in the host FPU while bt_run runs) */
void bt_fpu_reset(struct bt *bt);
void bt_fpu_enter(struct bt *bt);
void bt_fpu_leave(struct bt *bt);
/*
 * CR0 changed from old_cr0 (mov cr0, lmsw, clts, a task switch): if EM, TS or MP
 * did, the cache is flushed (x87 blocks are translated for them) and true is
 * returned: the caller must leave the cache (BT_EXIT_RESUME at the next instruction).
 */
bool bt_fpu_cr0_changed(struct bt *bt, uint32_t old_cr0);

/* bt_signal.c */
int bt_signals_install(struct bt *bt);
void bt_signals_remove(struct bt *bt);

/* The stubs' addresses in the binary (copied into the cache). */
extern const uint8_t bt_stubs_start[], bt_stubs_end[], bt_stub_enter[], bt_stub_exit[],
    bt_stub_exit_saved[], bt_stub_callout[], bt_stub_miss[], bt_stub_probe[];

#endif
