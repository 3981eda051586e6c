/*
 * bt.h: the binary translator's private state, shared by the files of src/bt.
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

#include "bt_asm.h"
#include "exit.h"
#include "vcpu.h"

struct monitor;
struct bt;

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
	X(jc_resets, "jump and return-site caches reset (generation bumps)")                       \
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

/* X(name): callout kinds; the C handler is bt_co_<name>. */
// clang-format off
#define BT_CALLOUTS(X) \
	X(unsupported) X(ud) X(int3) X(intn) X(into) X(iret) X(hlt) X(cli) X(sti) X(pushf) \
	X(popf) X(io) X(iostr) X(cpuid) X(movcr) X(movdr) X(sreg_load) X(sreg_read) \
	X(sreg_push) X(desc_table) X(invlpg) X(msr) X(sysenter) X(sysexit) X(far) X(bcd) \
	X(bound) X(clts) X(wbinvd) X(segcheck) X(enter) X(adapt_pre) X(adapt_post) \
	X(raise_de) X(pf_check) X(slow) X(rdtsc) X(gp) X(nm) X(seglimit)
// clang-format on

enum bt_callout_kind {
#define X(n) BT_CO_##n,
	BT_CALLOUTS(X)
#undef X
	    BT_CO_NR
};

/* Why bt_stub_enter returned (cpu->exit_reason). */
enum bt_exit {
	BT_EXIT_CHAIN = BT_ASM_EXIT_CHAIN, /* a direct branch's stub: chain it */
	BT_EXIT_MISS = BT_ASM_EXIT_MISS,   /* indirect branch missed the jump cache */
	BT_EXIT_KICK = BT_ASM_EXIT_KICK,   /* exit_request was set */
	BT_EXIT_RESUME,                    /* state in cpu: continue at cpu->eip */
	BT_EXIT_EXCEPTION,                 /* deliver cpu->exc at cpu->eip */
	BT_EXIT_CORE,                      /* cpu->core_exit holds an exit for the monitor */
	BT_CO_JUMP = BT_ASM_CO_JUMP,       /* (callouts only) go on at cpu->jump */
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

/* A guest instruction's place in its block, for faults: host offset, guest offset. */
struct bt_imap {
	uint16_t host, guest;
	uint8_t spill; /* guest register parked in r13 here (see translate), or 0xff */
};

#define TB_MAX_INSNS 32
#define TB_STEP 0x4 /* in tb->cpl: a one-instruction block for single-stepping (EFLAGS.TF) */
/* Exit slots per block: the conditional branches a block runs through (their taken
 * edges) plus its last exit or two. The dispatcher gets tb | slot in one word, so at
 * most 8 (struct tb is 8-aligned). */
#define TB_SLOTS 6
_Static_assert(TB_SLOTS <= 8, "exit_tb packs the slot in the 3 low bits of a tb pointer");
/* Segments every block is keyed by (flat in any kernel we know); FS and GS only when used. */
#define TB_SEG_ALWAYS ((1u << 0) | (1u << 2) | (1u << 3))
#define TB_SEG_ALL 0x3du

struct tb {
	uint32_t eip; /* guest virtual start */
	uint8_t cpl;
	uint8_t nslots;
	uint16_t ninsn;
	uint16_t guest_len;
	uint32_t page[2];  /* guest-physical pages the code came from; page[1] = ~0 if one */
	uint8_t *code;     /* host code */
	uint32_t body_len; /* host bytes of the body (instructions), stubs follow */
	uint32_t code_len;
	uint32_t jmp_off[TB_SLOTS];   /* offset of each exit jump's rel32 */
	bool slot_dead[TB_SLOTS];     /* overwritten by an adaptive patch: never chain it */
	uint32_t stub_off[TB_SLOTS];  /* where each unchained jump goes */
	uint32_t probe_off[TB_SLOTS]; /* mov r13d, target; jmp bt_stub_probe (tc_chain) */
	uint32_t target[TB_SLOTS];    /* guest target of each slot */
	struct tb *chained[TB_SLOTS];
	/*
	 * Incoming chains, as QEMU's jmp_list: jmp_in heads the list of (struct tb *)from |
	 * slot whose jump goes here; from->jmp_next[slot] links on. Invalidating a block
	 * unchains exactly these predecessors.
	 */
	uintptr_t jmp_in;
	uintptr_t jmp_next[TB_SLOTS];
	bool listed[TB_SLOTS]; /* in bt->chains, the registry a full unlink walks */
	bool patched;          /* an adaptive patch jumps from here into another block */
	/*
	 * >0: a stack-pointer loop (bt_rsp.c): code+0 sets RSP = r8 + r15, the loop head
	 * (where a chain from this block to itself goes) is at this offset, every exit
	 * restores the host RSP first.
	 */
	uint8_t rsp_head;
	uint8_t segs;           /* the segment state it was translated for (bt->segtab) */
	uint8_t seg_mask;       /* the segments of that state it depends on (TB_SEG_*) */
	uint16_t loop0, nloops; /* its rep back edges: bt->loops[loop0, loop0 + nloops) */
	struct tb *hash_next;
	struct tb *page_next[2]; /* the blocks of the same physical page */
	struct bt_imap *imap;    /* ninsn + 1 entries */
	bool valid;
};

/* The guest virtual CPU state the callouts act on (beyond the asm-visible part). */
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

/* Does an access through this segment need a limit check (not expand-up to 4 GiB)? */
static inline bool bt_seg_limited(const struct bt_seg *s)
{
	return s->limit != 0xffffffffu || (s->type & 0xc) == 0x4;
}

/* Is [off, off + size) outside the segment's limit (expand-up or expand-down)? */
static inline bool bt_seg_outside(const struct bt_seg *s, uint32_t off, uint32_t size)
{
	uint64_t last = (uint64_t)off + size - 1;

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
	uint32_t co_site; /* index into bt->sites */
	uint32_t exit_reason;
	uint64_t dftab; /* 64 KiB: (flags & DF) ? -1 : +1, indexed by flags & 0xffff */
	uint32_t arg;   /* an operand translated code hands a callout (an address) */
	uint32_t arg_pad;
	uint64_t jump;   /* BT_ASM_CO_JUMP: the host code to go on at */
	uint64_t ic;     /* the ret sites' inline caches (struct jc_entry[]) */
	uint64_t vbase;  /* r8: the current view (or a page-table/MMIO redirect) */
	uint64_t jc_key; /* (generation << 8 | segment state) << 32: ORed into jump-cache keys */
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
	struct exit_record core_exit;
	uint8_t io_buf[4096]; /* the data of the port or MMIO access being dispatched */
	bool in_run;
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

/* ------------------------------------------------------------------------- */
/* The engine: one per VM.                                                    */

#define IC_MAX 65536
#define JC_BITS 16
#define JC_SIZE (1u << JC_BITS)
#define TB_HASH_SIZE 8192

/*
 * A jump-cache or return-site entry: the guest eip and, above it, the cache
 * generation and segment state it was made in (cpu->jc_key >> 32). Bumping the
 * generation (CR3 load, invlpg of a code page, an invalidated block) makes every
 * entry miss at once; key 0 (generation 0) never matches.
 */
struct jc_entry {
	uint32_t eip;
	uint32_t gen;
	uint64_t host;
};
#define JC_GEN_MAX 0xffffffu /* generations are 24 bits; past this the caches are refilled */
#define TC_MAX_SEGSTATES 255

/* The data segment state translations fold in: base, and limit and type where limited. */
struct bt_segstate {
	uint32_t base[SEG_NR], limit[SEG_NR];
	uint8_t type[SEG_NR];
};
#define TC_MAX_KICKED 4

struct bt_rmap { /* one shadow mapping of a physical page */
	uint32_t va;
	uint32_t next; /* index + 1 of the next mapping of the same page; 0 ends */
	uint8_t view;  /* flat view index: address-space slot * VIEW_KINDS + kind */
};

/*
 * v2p entries (per view and guest virtual page): physical page + 1 (0 = unmapped),
 * V2P_W when the host mapping is writable, V2P_G when the guest PTE was global
 * (G with CR4.PGE: it may outlive a CR3 load, SDM Vol 3A 4.10.2.4), V2P_WP0 when it
 * is writable only because CR0.WP was 0 (a supervisor write to a read-only page).
 */
#define V2P_W 0x80000000u
#define V2P_G 0x40000000u
#define V2P_WP0 0x20000000u
#define V2P_PAGE(e) (((e) & ~(V2P_W | V2P_G | V2P_WP0)) - 1)

/*
 * One cached address space: a pair of views (supervisor, user) whose shadow is kept
 * exact against the guest's tables by write tracing while it is not current, so a
 * CR3 load of a cached key only switches the view base.
 */
struct bt_as {
	uint32_t cr3;    /* key: CR3 & ~0xfff; BT_AS_FREE when the slot has none */
	uint64_t stamp;  /* LRU: bt->as_clock at its last load */
	uint32_t mapped; /* pages mapped in its views */
};
#define BT_AS_FREE 0xffffffffu

struct bt_chainref {
	struct tb *tb;
	uint8_t slot;
};

/* A rep string loop's back edge (a jmp rel32): a kick aims it at the loop's exit. */
struct bt_loopref {
	uint8_t *field;       /* the rel32 */
	uint8_t *head, *exit; /* the loop head; the exit (EIP = the instruction, BT_EXIT_KICK) */
};
#define TC_MAX_LOOPS 16384

/*
 * Views: VIEW_KINDS per cached address space (slot), BT_AS_NR slots, flat index
 * slot * VIEW_KINDS + kind; VIEW_NR reservations in all (about 42 GiB of host
 * address space each, PROT_NONE).
 */
enum { VIEW_SUP, VIEW_USER, VIEW_KINDS };
#define BT_AS_NR 4
#define VIEW_NR (BT_AS_NR * VIEW_KINDS)
#define VIEW_KIND(v) ((v) % VIEW_KINDS)
#define VIEW_AS(v) ((v) / VIEW_KINDS)
/*
 * Each view's reservation: [canary][guard below][4 GiB view][mirror of page 0]
 * [guard above][canary]. A one-register operand reaches [-2 GiB, 8 * 4 GiB + 2 GiB)
 * from the base; the guards cover all of it that is not the view or the mirror.
 */
#define BT_GUARD_BELOW ((2ULL << 30) + (64u << 10))
#define BT_GUARD_ABOVE ((34ULL << 30) + (64u << 10))

#define PF_CODE 0x1 /* physical page flag: translated code comes from here */
#define PF_PT 0x2   /* physical page flag: a page directory or table the walker used */
/* physical page flag: a table mmu_pt_release found in use by a scan (adapted stores skip it) */
#define PF_PT_INUSE 0x4
#define BT_TRACE_TC 0x1
#define BT_TRACE_ADAPT 0x2

/*
 * Adaptive translation: a guest instruction that faults in translated code
 * BT_ADAPT_THRESHOLD times for the same reason (a store to a traced page table,
 * an access to MMIO, a divide by zero) is retranslated into a form that does the
 * work without the host fault, and its old translation is patched to jump there.
 */
#define BT_ADAPT_THRESHOLD 8
enum { ADAPT_NONE, ADAPT_PT, ADAPT_MMIO, ADAPT_DIV, ADAPT_PF };

struct bt_adapt {
	uint32_t eip;
	uint8_t cpl;
	bool used;
	uint8_t reason;   /* ADAPT_* once retranslated; 0 while counting */
	uint8_t counting; /* the reason being counted */
	bool wrap;        /* its accesses wrap at 4 GiB: exact (lea) forms */
	uint16_t faults;
};
#define BT_ADAPT_SLOTS 4096

struct bt {
	struct bt_cpu cpu; /* first: translated code addresses it through r14 */
	struct monitor *mon;

	/* shadow: two 4 GiB windows over guest virtual memory per cached address space */
	uint8_t *view[VIEW_NR];
	int cur_view; /* flat: cur_as * VIEW_KINDS + (CPL 3 ? VIEW_USER : VIEW_SUP) */
	int cur_as;
	struct bt_as as[BT_AS_NR];
	uint64_t as_clock;
	uint32_t npages; /* guest-physical pages of RAM */
	uint8_t *pflags;
	struct tb **page_tbs;
	uint32_t *rmap_head;
	uint8_t *pt_hot; /* per page table: trace faults since it was traced (bt_shadow.c) */
	uint16_t *ptref; /* per page table: the PDE index that uses it + 1; 0xffff several */
	uint8_t *canary[2 * VIEW_NR]; /* canary pages just below and after each view, or NULL */
	uint32_t
	    *v2p[VIEW_NR]; /* per view and guest virtual page: physical page + 1, 0 = unmapped */
	struct bt_rmap *rmap;
	uint32_t rmap_used, rmap_cap, rmap_free;
	uint32_t mapped;                    /* shadow pages currently mapped */
	uint32_t wp0_mapped, global_mapped; /* entries with V2P_WP0, V2P_G */
	uint64_t fill_saved; /* the last fill that found its page mapped (page << 8 | view) + 1 */

	/* translation cache */
	uint8_t *tc;
	size_t tc_size, tc_used, stubs_len;
	uint8_t *stub_enter, *stub_exit, *stub_exit_saved, *stub_callout, *stub_miss, *stub_probe;
	struct tb *tbs;
	uint32_t ntbs, max_tbs;
	struct tb *hash[TB_HASH_SIZE];
	struct bt_imap *imaps;
	size_t imap_used, imap_cap;
	struct bt_site *sites;
	uint32_t nsites, max_sites;
	struct jc_entry *jc[2];    /* [0] CPL 0-2, [1] CPL 3 */
	struct jc_entry *jc_empty; /* all misses: swapped in by a kick */
	struct jc_entry *ic;       /* one inline cache per ret site: its last target */
	struct jc_entry *ic_empty; /* all misses: swapped in by a kick */
	uint32_t ic_used;
	struct bt_chainref *chains;
	uint32_t nchains, max_chains;
	bool unlinked; /* a kick unlinked every chain in code */
	struct tb
	    *kicked[TC_MAX_KICKED]; /* blocks a kick unlinked alone, relinked by the dispatcher */
	int nkicked;
	uint32_t jc_gen; /* generation of jump-cache keys (1..JC_GEN_MAX) */
	uint8_t seg_id;  /* the current segment state: bt->segtab[seg_id] */
	uint16_t nsegstates;
	struct bt_segstate segtab[TC_MAX_SEGSTATES];
	uint8_t *code_vpages; /* bitmap: virtual pages blocks were entered at (invlpg bumps) */
	uint64_t tc_epoch; /* bumped by flushes and segment state changes: blocks in flight stale */
	struct bt_loopref *loops; /* rep string back edges, interruptible between iterations */
	uint32_t nloops;
	bool loops_cut;    /* a kick aimed them at their exits */
	bool stepping;     /* the dispatcher runs one instruction per block (guest TF) */
	bool rsp_off;      /* TANDEM_BT_RSP=0: no stack-pointer loops (bt_rsp.h) */
	int8_t rsp_ok;     /* bt_rsp_available on the first bt_run (-1: not asked yet) */
	bool nmi_blocked;  /* an NMI was delivered; the next iret unblocks (SDM 6.7.1) */
	struct tb *smc_tb; /* single-stepping out of a block its own store invalidated */
	struct {           /* a store to a page table, single-stepped with the page writable */
		bool active;
		int view;
		uint32_t va, ppage;
		uint32_t before[1024];
	} pt_write;
	int openbus_fd;   /* page 0: all-ones, what guest pages with no RAM or device map; */
	uint8_t *openbus; /* page 1: a device access's data (mmio_step); both mapped here */
	struct {          /* a store to open bus, single-stepped with its pages writable */
		bool active;
		int n; /* pages writable: 2 when the store straddles two open-bus pages */
		int view[2];
		uint32_t va[2];
	} openbus_write;
	bool stop_request; /* that access ended the run: the next exit is EXIT_STOP */
	struct {           /* a device access by any instruction, single-stepped on page 1 */
		bool active, write;
		int view;
		uint32_t va, pa;
		uint8_t size;
	} mmio_step;
	int8_t *dftab;

	void *dec32, *dec64; /* ZydisDecoder */
	int trace;           /* BT_TRACE_* bits */
	bool adaptive;       /* --no-adaptive clears it */
	struct bt_adapt adapt[BT_ADAPT_SLOTS];
#define BT_ADAPT_PENDING 64
	struct bt_adapt *adapt_pending[BT_ADAPT_PENDING]; /* noted in signal handlers, acted on by
	                                                     the dispatcher */
	int nadapt_pending;
	bool adapt_full;  /* bt_adapt_wrap found no room: flush and reset */
	struct {          /* between an adaptive access's pre and post callouts */
		int kind; /* 0 none (the access goes through the view), ADAPT_PT, ADAPT_MMIO */
		uint32_t pa;
		uint32_t old[2];
	} redirect;
	uint8_t *mmio_scratch; /* a page adaptive MMIO accesses run against */
	bool ferr;             /* an x87 exception with CR0.NE clear: FERR#, IRQ13 to raise */
	/* fxsave images: the guest's x87 state outside bt_run, the host's inside it */
	uint8_t fpu_guest[512] __attribute__((aligned(16)));
	uint8_t fpu_host[512] __attribute__((aligned(16)));
#define X(f, d) uint64_t f;
	BT_STATS(X)
#undef X
	uint64_t co_count[BT_CO_NR];
};

/* The hash chain of blocks at (eip, cpl): all address spaces' blocks at that eip share it. */
static inline uint32_t tc_hash(uint32_t eip, uint8_t cpl)
{
	return ((eip * 0x9e3779b1u) >> 19 ^ cpl) & (TB_HASH_SIZE - 1);
}

/* The bt that owns cpu (struct bt's first member: the pointer r14 holds). */
static inline struct bt *bt_of(struct bt_cpu *c)
{
	return (struct bt *)c;
}

#include "bt_cache.h" /* the translation cache: bt_cache.c, bt_chain.c */

/* bt_mmu.c and bt_shadow.c: guest virtual memory, the shadow page tables */
#include "bt_mmu.h"

/* bt_translate.c */
int bt_translate(struct bt *bt, uint32_t eip, struct tb **out);
/* The Zydis decoders for guest (32-bit) and host (64-bit) code, static and shared by every
 * bt: 0, or -1 if Zydis refuses. bt_decoders_destroy only forgets them (nothing to free). */
int bt_decoders_init(struct bt *bt);
void bt_decoders_destroy(struct bt *bt);

/* bt_excp.c: exceptions, interrupts, segments */
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
/* Record exception vector (EXC_*, error code err if has_err) in bt->cpu.exc, replacing any
 * pending one; delivered later (bt_deliver, BT_EXIT_EXCEPTION), nothing else changes. */
void bt_raise(struct bt *bt, int vector, bool has_err, uint32_t err);
/* Deliver bt->cpu.exc; 0, or -1 when it escalated to a triple fault. */
int bt_deliver(struct bt *bt);
/* Deliver external interrupt vector through the IDT (not a software int: no gate DPL
 * check), counted in bt->interrupts; 0, or -1 as bt_deliver. */
int bt_deliver_irq(struct bt *bt, uint8_t vector);
/* iret in protected mode (next: the instruction after it); 0, -1 with an exception raised, -2
 * unsupported. */
int bt_iret(struct bt *bt, uint32_t next);
/*
 * After a return to an outer ring (iret, far ret): DS, ES, FS and GS holding a segment
 * whose DPL is below the new CPL become null (SDM Vol. 2 IRET and RET, "return to
 * outer privilege level"), so the outer ring cannot keep using an inner ring's data.
 */
void bt_drop_inner_segments(struct bt *bt);
/*
 * Load a data/stack segment register (any base and limit); 0, -1 (exception raised).
 * Translations fold the data segments' bases and limits in: a change flushes the cache.
 */
int bt_load_seg(struct bt *bt, int seg, uint16_t sel);
/* Set a segment register's cached descriptor (flushing the cache if a data segment's base or limit
 * changes). */
void bt_seg_set(struct bt *bt, int seg, struct bt_seg s);
/* Load CS for a return to new_cpl (its RPL); 0, -1 (#GP/#NP raised), -2 (unsupported). */
int bt_load_cs(struct bt *bt, uint16_t sel, uint8_t new_cpl);
/* May a far jmp/call go straight to sel at this CPL? 0, -1 (raised), -2 (a call gate: unsupported),
 * 1 (a TSS or task gate: bt_task_far). */
int bt_far_target(struct bt *bt, uint16_t sel);
/*
 * The 8-byte descriptor sel names into d (GDT, or the LDT for TI=1), read as a supervisor
 * access: 0; -1 with nothing raised when it lies past the table's limit or the LDT is
 * null; -1 with a #PF in bt->cpu.exc when the table is not mapped.
 */
int bt_read_desc(struct bt *bt, uint16_t sel, uint32_t d[2]);
/* CPL becomes cpl: its jump cache and its shadow view (r8 from the next entry or callout
 * return). No privilege check, no segment change: the caller loads CS/SS to match. */
void bt_set_cpl(struct bt *bt, uint8_t cpl);

/* bt_task.c: hardware task switches (32-bit TSSs) */
enum { TS_JMP, TS_CALL, TS_INT, TS_IRET };
/*
 * Switch to the task of TSS selector sel for reason (TS_*); eip is where the old
 * task resumes, err an error code pushed on the new task's stack. 0, -1 with an
 * exception raised (before the switch: in the old task; after: in the new one),
 * or -2 (unsupported: recorded).
 */
int bt_task_switch(struct bt *bt, uint16_t sel, int reason, uint32_t eip, bool has_err,
                   uint32_t err);
/* jmp/call far to a TSS or a task gate (sel); next: the instruction after. 0, -1, -2. */
int bt_task_far(struct bt *bt, uint16_t sel, bool call, uint32_t next);
/* iret with EFLAGS.NT: back to the task in the current TSS's link field. 0, -1, -2. */
int bt_task_return(struct bt *bt, uint32_t next);

/* bt_callout.c */
int bt_callout(struct bt_cpu *cpu);
/* Fill cpu.core_exit with EXIT_UNSUPPORTED at eip, the printf-formatted reason cut to the
 * record's what[]; the caller leaves with BT_EXIT_CORE. */
void bt_unsupported(struct bt *bt, uint32_t eip, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* bt_adapt.c */
/* Count a fault of instruction eip for reason; async-signal-safe (only notes it). */
void bt_adapt_fault(struct bt *bt, uint32_t eip, int reason);
/* From the dispatcher: retranslate what crossed the threshold, patch the old blocks. */
void bt_adapt_apply(struct bt *bt);
/* The translator asks: has this instruction been adapted, and why? */
int bt_adapt_reason(struct bt *bt, uint32_t eip, uint8_t cpl);
/*
 * A guest access of instruction eip faulted in a view's guard: it wrapped at 4 GiB.
 * Marks it for the exact (lea) form and queues its retranslation (done even with
 * --no-adaptive: this is correctness). Returns 1; 0 when it already had the exact
 * form (a translator bug: the caller stops the guest); -1 when the table has no
 * room (bt->adapt_full is set: the dispatcher starts the cache and the table
 * afresh, and the access faults again). Async-signal-safe.
 */
int bt_adapt_wrap(struct bt *bt, uint32_t eip);
/* Does instruction eip need the exact (lea) form of its guest accesses? */
bool bt_adapt_is_wrap(struct bt *bt, uint32_t eip, uint8_t cpl);
/* Forget every instruction's adaptation state (with the cache flushed, as no block may keep one).
 */
void bt_adapt_reset(struct bt *bt);

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
