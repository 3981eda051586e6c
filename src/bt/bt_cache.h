/*
 * bt_cache.h: the translation cache's interface to the rest of the translator
 * (bt_cache.c: blocks, hash, jump caches, sites, segment states; bt_lookup.c: lookup
 * by guest-physical page and segment state; bt_chain.c: chains, invalidation, kicks).
 * Included by bt.h; struct bt_tc is struct bt's cache member.
 */
#ifndef TANDEM_BT_CACHE_H
#define TANDEM_BT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt_cpu.h"
#include "bt_site.h"

struct bt;

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
	bool listed[TB_SLOTS]; /* in bt->cache.chains, the registry a full unlink walks */
	bool patched;          /* an adaptive patch jumps from here into another block */
	/*
	 * >0: a stack-pointer loop (bt_rsp.c): code+0 sets RSP = r8 + r15, the loop head
	 * (where a chain from this block to itself goes) is at this offset, every exit
	 * restores the host RSP first.
	 */
	uint8_t rsp_head;
	uint8_t segs;           /* the segment state it was translated for (bt->cache.segtab) */
	uint8_t seg_mask;       /* the segments of that state it depends on (TB_SEG_*) */
	uint8_t seg_lax;        /* of those, the ones it never accesses: null and flat alike */
	uint16_t loop0, nloops; /* its rep back edges: bt->loops[loop0, loop0 + nloops) */
	struct tb *hash_next;
	struct tb *page_next[2]; /* the blocks of the same physical page */
	struct bt_imap *imap;    /* ninsn + 1 entries */
	bool valid;
};

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
/* cpu->gjc_key at CPL 3, both keys at CPL 1-2: generation 0, segment state 0xff (no entry) */
#define GJC_KEY_OFF (0xffull << 32)
/* The segment blocks in the global jump cache never use, left out of its key: GS. */
#define GJC_NO_SEG (1u << 5)
#define TC_MAX_SEGSTATES 255

/* The data segment state translations fold in: base, and limit and type where limited. */
struct bt_segstate {
	uint32_t base[SEG_NR], limit[SEG_NR];
	uint8_t type[SEG_NR];
};
#define TC_MAX_KICKED 4

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

/* The translation cache's state (struct bt's cache member). */
struct bt_tc {
	uint8_t *tc;
	size_t tc_size, tc_used, stubs_len;
	uint8_t *stub_enter, *stub_exit, *stub_exit_saved, *stub_callout, *stub_miss, *stub_probe;
	struct tb *tbs;
	uint32_t ntbs, max_tbs;
	struct tb *hash[TB_HASH_SIZE];
	struct tb **page_tbs; /* per guest-physical page: its blocks (tb->page_next) */
	struct bt_imap *imaps;
	size_t imap_used, imap_cap;
	struct bt_site *sites;
	uint32_t nsites, max_sites;
	struct jc_entry *jc[2];       /* [0] CPL 0-2, [1] CPL 3: jc_as[jc_owner] */
	struct jc_entry *(*jc_as)[2]; /* [BT_AS_NR]: per cached address space (tc_jc_switch) */
	int jc_owner;                 /* the address space jc and jc_gen belong to */
	struct jc_entry *jc_empty;    /* all misses: swapped in by a kick */
	struct jc_entry *gjc;         /* global: CPL 0-2 blocks on global pages (tc_jc_fill) */
	uint32_t gjc_gen;             /* its generation: bumped by tc_jc_invalidate only */
	uint8_t *gjc_vpages;          /* bitmap: virtual pages with global entries (invlpg) */
	uint8_t gjc_large[128];       /* bitmap: 4 MiB pages (large then) with global entries */
	uint8_t gseg_id;              /* its key's segment part: the state but GJC_NO_SEG */
	struct jc_entry *ic;          /* one inline cache per ret site: its last target */
	struct jc_entry *ic_empty;    /* all misses: swapped in by a kick */
	uint32_t ic_used;
	struct bt_chainref *chains;
	uint32_t nchains, max_chains;
	bool unlinked; /* a kick unlinked every chain in code */
	struct tb
	    *kicked[TC_MAX_KICKED]; /* blocks a kick unlinked alone, relinked by the dispatcher */
	int nkicked;
	uint32_t jc_gen;      /* generation of jump-cache keys in use (1..JC_GEN_MAX) */
	uint32_t jc_gen_last; /* the newest generation handed out */
	uint32_t jc_epoch;    /* bumped when every address space's generation goes stale */
	uint8_t seg_id;       /* the current segment state: bt->cache.segtab[seg_id] */
	uint16_t nsegstates;
	struct bt_segstate segtab[TC_MAX_SEGSTATES];
	uint8_t *code_vpages; /* bitmap: virtual pages blocks were entered at (invlpg bumps) */
	uint8_t
	    code_large[128]; /* bitmap: 4 MiB pages (mapped large then) blocks were entered at */
	uint64_t tc_epoch; /* bumped by flushes and segment state changes: blocks in flight stale */
	struct bt_loopref *loops; /* rep string back edges, interruptible between iterations */
	uint32_t nloops;
	bool loops_cut;    /* a kick aimed them at their exits */
	struct tb *smc_tb; /* single-stepping out of a block its own store invalidated */
};

/* The hash chain of blocks at (eip, cpl): all address spaces' blocks at that eip share it. */
static inline uint32_t tc_hash(uint32_t eip, uint8_t cpl)
{
	return ((eip * 0x9e3779b1u) >> 19 ^ cpl) & (TB_HASH_SIZE - 1);
}

/* bt_cache.c: the translation cache */
/* Map the cache (64 MiB RWX) with the stubs at its head, allocate its tables: 0 or -errno. */
int tc_init(struct bt *bt);
/* Unmap and free what tc_init made (also after a partial tc_init). */
void tc_destroy(struct bt *bt);
/* Drop every block (paging mode, PSE, TSD, x87 mode changes; a full cache). */
void tc_flush(struct bt *bt);
/*
 * The block for (eip, cpl) whose guest-physical pages are what the current address
 * space maps eip's page (and the next, for a block reaching into it) to, and whose
 * segment state is the current one; NULL if none. Walks the guest page tables
 * (mmu_translate, fetch: sets A bits as the CPU's fetch would); raises nothing.
 */
struct tb *tc_lookup(struct bt *bt, uint32_t eip, uint8_t cpl);
/*
 * The same, first through the current CPL class's jump cache (an entry of this
 * generation and segment state was checked when made: no walk); a block found by
 * tc_lookup is entered there. For the dispatcher and callouts that go on in a block.
 */
struct tb *tc_lookup_fast(struct bt *bt, uint32_t eip, uint8_t cpl);
/* tc_jc_fill of tb with the facts the current tables give about its pages (bt_lookup.c). */
void tc_jc_enter(struct bt *bt, const struct tb *tb);
/* The jump cache's host code for eip in this generation and segment state, or NULL. */
const uint8_t *tc_jc_lookup(const struct bt *bt, uint32_t eip);
/* Room for a block of up to code_max host bytes; NULL when the cache is full. */
struct tb *tc_begin(struct bt *bt, size_t code_max, uint16_t ninsn_max);
/* Make a translated block findable (hash, its physical pages made traced: SMC). */
void tc_commit(struct bt *bt, struct tb *tb);
/* Invalidate every block at (eip, cpl), of any address space (adaptive retranslation). */
void tc_invalidate_eip(struct bt *bt, uint32_t eip, uint8_t cpl);
/* The block whose host code holds pc (binary search; async-signal-safe), or NULL. */
struct tb *tc_find_host(struct bt *bt, uintptr_t pc);
/* Is pc in the cache (stubs or blocks)? */
bool tc_contains(const struct bt *bt, uintptr_t pc);
/* Record a callout site (kind, the guest instruction's eip and bytes); its index. */
uint32_t tc_site(struct bt *bt, uint8_t kind, uint32_t eip, const uint8_t *bytes, uint8_t len);
/* Empty jump caches and return-site caches, generation 1 (with a flush). */
void tc_jc_reset(struct bt *bt);
/*
 * Every jump-cache and return-site entry misses from now on: O(1), a generation bump;
 * no address space's earlier generation may be taken back (bt->jc_epoch).
 */
void tc_jc_invalidate(struct bt *bt);
/* The same for the per-address-space caches only: the global one stays (see tc_gjc_*). */
void tc_jc_invalidate_local(struct bt *bt);
/* tb is invalidated: the global jump cache's entry for it (if any) goes, exactly. */
void tc_gjc_forget(struct bt *bt, const struct tb *tb);
/*
 * invlpg of vpage (large: its whole 4 MiB page): the global jump cache forgets
 * everything if it has an entry from that page (gjc_vpages), or from the 4 MiB page
 * holding it when that was mapped large at the entry's fill (gjc_large), else nothing.
 */
void tc_gjc_invlpg(struct bt *bt, uint32_t vpage, bool large);
/*
 * After a CR3 load (the current address space already the new one): take back the
 * generation this address space last used when nothing invalidated since and
 * pages_hold, i.e. every code page its entries came from still translates to the
 * same frame (at most JC_AS_PAGES pages, mmu_code_pages_hold: exact TLB-flush
 * semantics, the tables are read again); else a fresh generation. A ping-pong
 * between two processes then keeps both processes' jump caches.
 */
void tc_jc_switch(struct bt *bt, bool pages_hold);
/* tc_jc_fill's facts: what the current tables say of a block's pages */
#define JC_FILL_GLOBAL 1u /* every page of tb is mapped global (G with CR4.PGE) */
#define JC_FILL_LARGE0 2u /* its first page lies in a 4 MiB page */
#define JC_FILL_LARGE1 4u /* its second page lies in a 4 MiB page */
/*
 * Enter tb (just looked up or translated) in the current CPL's jump cache; note its
 * pages as code (nothing at CPL 1-2, whose probes always miss: their blocks differ
 * from CPL 0's, which share the table). facts (JC_FILL_*, what the current tables say
 * of tb's pages: tc_jc_enter finds them) decide the rest: a CPL 0 block whose pages
 * are all global also goes into the global jump cache, which the miss stub probes and
 * a CR3 load keeps: a global TLB entry survives mov cr3 (SDM Vol 3A 4.10.4.1), and only
 * invlpg of a code page (of any page of a 4 MiB page one came from), a CR4.PGE change,
 * an invalidated block or a flush (tc_jc_invalidate, tc_jc_reset) end them.
 */
void tc_jc_fill(struct bt *bt, const struct tb *tb, unsigned facts);
/*
 * Point cpu->jc, ic and gjc at the live caches (keys included), or, with empty, at
 * the caches that always miss (a kick: async-signal-safe stores only).
 */
void tc_caches_use(struct bt *bt, bool empty);
/* Has code run from virtual page vpage since the last flush (conservative: never forgets)? */
bool tc_code_vpage(const struct bt *bt, uint32_t vpage);
/*
 * A data segment's base, limit or type changed (bt_seg_set): translations are keyed
 * by the segment state (an index into a table of up to TC_MAX_SEGSTATES; a full table
 * flushes). Bumps tc_epoch when the state differs: blocks in flight are stale.
 */
void tc_seg_changed(struct bt *bt);
/*
 * Key a new block by the segments it used (used: bits by SEG_*, plus TB_SEG_ALWAYS):
 * tb->seg_mask and tb->segs, the current state restricted to them (interned; the
 * full state when the table is full), and tb->seg_lax: the TB_SEG_ALWAYS segments it
 * never accessed that are null or flat now, which then match null and flat alike (an
 * interrupt stub runs under a null ES a guest left behind without a retranslation).
 */
void tc_seg_key(struct bt *bt, struct tb *tb, uint8_t used);
/* Does the current segment state match tb's on the segments tb depends on? */
bool tc_seg_match(const struct bt *bt, const struct tb *tb);
/* For a tb that does not match: do its state and the current one differ only by segments
 * that are null in one and flat in the other (a stub entered with a null ES)? */
bool tc_seg_null_only(const struct bt *bt, const struct tb *tb);
/* Whenever a runs, does b's segment key hold (b depends only on segments a checks, equal)? */
bool tc_seg_covers(const struct bt *bt, const struct tb *a, const struct tb *b);
/* After a CPL change: translated code probes the new CPL class's jump cache (unless a kick emptied
 * it). */
void tc_use_cpl(struct bt *bt);
/* A ret site's inline cache: its byte offset from cpu->ic, or -1 when none are left. */
int32_t tc_ic_alloc(struct bt *bt);

/* bt_chain.c: chains, invalidation, kicks */
/*
 * Chain from's exit slot to to, if to's guest pages are among those from was
 * checked against (same virtual and physical pages, same segment state), so the
 * chain is right in every address space from runs in. Otherwise nothing.
 */
void tc_chain(struct bt *bt, struct tb *from, int slot, struct tb *to);
/* Is b's code within a's checked pages (tc_chain's rule; adaptive patches use it too)? */
bool tc_same_pages(const struct bt *bt, const struct tb *a, const struct tb *b);
/*
 * An adaptive patch overwrites slot's jump in tb: it never chains again, and a
 * chain it had is forgotten without touching the code (unlink and relink skip it).
 */
void tc_slot_dead(struct bt *bt, struct tb *tb, int slot);
/* Invalidate one block: unchain its predecessors (its incoming list), its own chains, and the jump
 * caches. */
void tc_invalidate_tb(struct bt *bt, struct tb *tb);
/* Invalidate the blocks of guest-physical page ppage (a write to it: SMC). */
void tc_invalidate_page(struct bt *bt, uint32_t ppage);
/*
 * invlpg of virtual page vpage: jump caches reset if code ran from it, or, when large
 * (the current PDE maps it with a 4 MiB page, mmu_large_page), from any page of that
 * 4 MiB page: INVLPG drops the whole large-page entry (SDM Vol 2 INVLPG). No block is
 * touched.
 */
void tc_invlpg(struct bt *bt, uint32_t vpage, bool large);
/*
 * A CR3 load: blocks and chains stay; jump and return-site caches reset (generation), or
 * the new address space's generation taken back (tc_jc_switch; pages_hold from
 * mmu_code_pages_hold, evaluated after the load).
 */
void tc_new_space(struct bt *bt, bool pages_hold);
/* Register a rep string loop's back edge (addresses in committed code); false when full. */
bool tc_loop_add(struct bt *bt, uint8_t *field, uint8_t *head, uint8_t *exit);
/*
 * From a signal handler that interrupted translated code at pc (a kick): make the
 * running block leave the cache at its end, by unlinking its chains and rep loops
 * and swapping in always-missing jump caches; every chain when pc is not in a
 * plain block; a probe caught mid-way (registers r9, r11, r13) has its target
 * block unlinked too. Async-signal-safe. The dispatcher undoes it with tc_relink.
 */
void tc_kick_async(struct bt *bt, uintptr_t pc, uint64_t r9, uint64_t r11, uint64_t r13);
/* The same for every chain (adaptive faults, MMIO side effects). Async-signal-safe. */
void tc_unlink_all_async(struct bt *bt);
/* Back in the dispatcher: put back what tc_kick_async / tc_unlink_all_async unlinked. */
void tc_relink(struct bt *bt);

#endif
