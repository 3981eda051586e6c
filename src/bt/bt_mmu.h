/*
 * bt_mmu.h: guest virtual memory for the translator (included by bt.h;
 * struct bt_mmu is struct bt's mmu member).
 * bt_mmu.c walks the guest's tables, fills the shadow on host faults and copies
 * to and from guest memory; bt_shadow.c owns the views (one pair per cached
 * address space), their reservations, the reverse map and the CR3/CR0/CR4 rules.
 */
#ifndef TANDEM_BT_MMU_H
#define TANDEM_BT_MMU_H

#include <stdbool.h>
#include <stdint.h>

struct bt;

struct bt_rmap { /* one shadow mapping of a physical page */
	uint32_t va;
	uint32_t next; /* index + 1 of the next mapping of the same page; 0 ends */
	uint8_t view;  /* flat view index: address-space slot * VIEW_KINDS + kind */
};

/*
 * v2p entries (per view and guest virtual page): physical page + 1 (0 = unmapped),
 * V2P_W when the host mapping is writable, V2P_G when the guest PTE was global
 * (G with CR4.PGE: it may outlive a CR3 load, SDM Vol 3A 4.10.2.4), V2P_WP0 when it
 * is writable only because CR0.WP was 0 (a supervisor write to a read-only page),
 * V2P_TW when it is read-only only because the page is traced (translated code or a
 * page table): the guest's tables allow the write and D is set, so when the page is
 * no longer traced the mapping becomes writable in place (mmu_unprotect_ppage).
 */
#define V2P_W 0x80000000u
#define V2P_G 0x40000000u
#define V2P_WP0 0x20000000u
#define V2P_TW 0x10000000u
#define V2P_PAGE(e) (((e) & ~(V2P_W | V2P_G | V2P_WP0 | V2P_TW)) - 1)

/*
 * One cached address space: a pair of views (supervisor, user) whose shadow is kept
 * exact against the guest's tables by write tracing while it is not current, so a
 * CR3 load of a cached key only switches the view base.
 */
#define JC_AS_PAGES 24 /* code pages an address space's jump-cache generation may name */
struct bt_as {
	uint32_t cr3;    /* key: CR3 & ~0xfff; BT_AS_FREE when the slot has none */
	uint64_t stamp;  /* LRU: bt->as_clock at its last load */
	uint32_t mapped; /* pages mapped in its views */
	/*
	 * Its jump-cache generation (tc_jc_switch): reused at a CR3 load back to this
	 * slot while the cache's jc_epoch is unchanged and every code page its entries
	 * came from still translates to the same frame (jc_page[i]: vpage | 1 << 31 for
	 * a CPL 3 fetch; jc_frame[i]: the frame). jc_pages > JC_AS_PAGES: not reusable.
	 */
	uint32_t jc_gen, jc_epoch, jc_pages;
	uint32_t jc_page[JC_AS_PAGES], jc_frame[JC_AS_PAGES];
};
#define BT_AS_FREE 0xffffffffu

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

/* Guest virtual memory's state (struct bt's mmu member): views, shadows, tracing. */
struct bt_mmu {
	/* shadow: two 4 GiB windows over guest virtual memory per cached address space */
	uint8_t *view[VIEW_NR];
	int cur_view; /* flat: cur_as * VIEW_KINDS + (CPL 3 ? VIEW_USER : VIEW_SUP) */
	int cur_as;
	struct bt_as as[BT_AS_NR];
	uint64_t as_clock;
	uint32_t npages; /* guest-physical pages of RAM */
	uint8_t *pflags;
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
	uint8_t large_global[128]; /* bitmap: 4 MiB areas a global 4 MiB page was filled in */
	uint64_t fill_saved; /* the last fill that found its page mapped (page << 8 | view) + 1 */
	struct {             /* a store to a page table, single-stepped with the page writable */
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
};

/* ---- bt_mmu.c ---- */
enum { ACC_READ = 0, ACC_WRITE = 1, ACC_FETCH = 2 };
/*
 * Translate va for an access; sets A (and D on write) in the guest's tables.
 * Returns 0 with *pa, or -1 with a #PF in bt->cpu.exc.
 */
int mmu_translate(struct bt *bt, uint32_t va, int acc, bool user, uint32_t *pa, bool *can_write);
/*
 * The frame a fetch at va would use (CPL 3 when user), read from the guest's tables
 * without side effects: no A bit set, no table traced, no exception. Returns false
 * when the walk would fault or would set an A bit (the caller then treats the
 * mapping as changed). With paging off, va's own frame.
 */
bool mmu_peek_fetch(struct bt *bt, uint32_t va, bool user, uint32_t *frame);
/*
 * Is va mapped by a global translation now (paging and CR4.PGE on, the entry that
 * maps the page present with G)? Read without side effects; for the global jump
 * cache (tc_jc_fill): such a translation may outlive CR3 loads (SDM Vol 3A 4.10.2.4).
 */
bool mmu_peek_global(struct bt *bt, uint32_t va);
/*
 * Does the current page directory map va with a 4 MiB page (paging on, CR4.PSE, PDE
 * present with PS)? Read without side effects. For invlpg, which then invalidates the
 * whole 4 MiB entry (SDM Vol 2 INVLPG, Vol 3 4.10.4.1).
 */
bool mmu_large_page(struct bt *bt, uint32_t va);
/*
 * Does every code page the current address space's jump-cache generation has entries
 * from (bt_as.jc_page, jc_frame) still translate to the same frame (mmu_peek_fetch)?
 * False when there were too many to list. For tc_new_space after a CR3 load.
 */
bool mmu_code_pages_hold(struct bt *bt);
/*
 * Copy len bytes between guest virtual va and buf (user: CPL 3 rights), page by page.
 * Bytes outside RAM read as 0xff, writes there are dropped (no device sees them); a write
 * invalidates code on the page and drops the shadow of the page-table entries it changes.
 * 0, or -1 with a #PF in bt->cpu.exc, the pages before the faulting one already copied.
 */
int mmu_read(struct bt *bt, uint32_t va, void *buf, uint32_t len, bool user);
/* mmu_write: buf into guest memory at va, the write side of the contract above. */
int mmu_write(struct bt *bt, uint32_t va, const void *buf, uint32_t len, bool user);
/*
 * Shadow fill for a host fault at va in view (a flat index of the current address
 * space): 0 mapped, -1 guest #PF, 1 a device (*pa), 2 a write to a traced page
 * table (mapped read-only; see mmu_pt_write_*), 3 a write to open bus (neither RAM
 * nor a device: the page of all-ones is mapped read-only; see mmu_openbus_write_*).
 * A 4 KiB fill also maps up to 15 neighbours of the same 16-page group whose PTEs
 * are present with A already set (writable only with D set), so it never changes
 * a guest PTE the guest did not touch; a fill in a 4 MiB page maps the rest of its
 * 16-page group from the same PDE (one mmap per run: the frames are consecutive).
 */
int mmu_fill(struct bt *bt, int view, uint32_t va, bool write, uint32_t *pa);
/* Let one store to the traced page table at va through, then drop what it changed. */
void mmu_pt_write_begin(struct bt *bt, int view, uint32_t va, uint32_t pa);
void mmu_pt_write_end(struct bt *bt);
/* Let one store to the open-bus page at va through; the end puts the ones back. */
void mmu_openbus_write_begin(struct bt *bt, int view, uint32_t va);
void mmu_openbus_write_end(struct bt *bt);
/* Map the device scratch page (openbus page 1) writable at va, or take it away again. */
int mmu_devpage_map(struct bt *bt, int view, uint32_t va);
void mmu_devpage_unmap(struct bt *bt, int view, uint32_t va);
/*
 * Entry e of page table or directory ppage changed: drop the shadow mappings it
 * translated, in every cached address space whose directory uses ppage (or is it).
 */
void mmu_pt_entry_changed(struct bt *bt, uint32_t ppage, uint32_t e);
/*
 * The same, knowing the entry's old value: an entry that was not present (P clear)
 * translated nothing (no fill maps through it), so nothing is dropped. A byte-wise
 * clear or copy of a directory then costs one drop per entry that was present. An
 * entry that only lost W or D (or changed A) keeps its mappings, read-only
 * (mmu_write_protect_one), as a page-table entry; as a directory entry it drops.
 * A directory entry that stops pointing to a table untraces that table when no
 * cached address space uses it (mmu_pt_release_unused).
 */
void mmu_pt_entry_was(struct bt *bt, uint32_t ppage, uint32_t e, uint32_t old);

/* ---- bt_shadow.c (and bt_pt_untrace.c: mmu_pt_traced_write, mmu_pt_release) ---- */
/* Reserve every view (VIEW_NR, with guards and canaries) and the maps: 0 or -errno. */
int mmu_init(struct bt *bt);
/* Unmap the views and maps and free the tables mmu_init made, also after a failed one; once. */
void mmu_destroy(struct bt *bt);
/*
 * Empty every view of every address space (and untrace every page table): for a
 * change of paging mode (CR0.PG, CR4.PSE) and an engine reset. The current slot is
 * keyed by the current CR3.
 */
void mmu_flush(struct bt *bt);
/*
 * The guest wrote CR n (0, 3 or 4; old0/old4 the values before): CR3 switches to
 * the cached shadow of the new address space (or keys the least recently used
 * slot, keeping only its global entries, SDM Vol 3A 4.10.4.1); CR0.PG or CR4.PSE
 * changes flush; CR0.WP 0->1 drops the supervisor mappings that were writable only
 * because WP was 0; a CR4.PGE change drops every global entry (4.10.4.1). The view
 * base changes: the caller must leave the cache.
 */
void mmu_cr_written(struct bt *bt, int n, uint32_t old0, uint32_t old4);
/* Does the current view map va (writable, for a write) already? No walk, no side effect. */
bool mmu_shadow_ok(const struct bt *bt, uint32_t va, bool write);
/* The canary pages around every view are intact: 0, or -1 (logged) if a byte changed. */
int mmu_canary_check(const struct bt *bt);
/*
 * invlpg va (SDM Vol 3A 4.10.4.1): the page goes from both views of the current
 * address space, and its global entries from every cached one; so do all global
 * entries of va's 4 MiB area if a global 4 MiB page was filled there (one translation,
 * 4.10.2.3, whatever the tables say now: a dropped space keeps global entries).
 */
void mmu_unmap_va(struct bt *bt, uint32_t va);
/* Drop every shadow mapping of guest-physical page ppage, in every view. */
void mmu_unmap_ppage(struct bt *bt, uint32_t ppage);
/*
 * Make every writable shadow mapping of ppage read-only (an mprotect each) and keep
 * the rest: the page became traced (code or a page table) and its stores must fault.
 * Reads go on without a fill: a mapping's frame does not depend on what it holds.
 */
void mmu_protect_ppage(struct bt *bt, uint32_t ppage);
/*
 * ppage is traced no more (neither code nor a page table): its mappings in the
 * current address space's views that were read-only only for the trace (V2P_TW)
 * become writable again, an mprotect each, instead of a host fault and a fill at
 * the guest's next store (other spaces' get theirs at their first store, from
 * mmu_fill, also by mprotect). No-op while traced.
 */
void mmu_unprotect_ppage(struct bt *bt, uint32_t ppage);
/* Drop guest virtual page vpage from flat view v (no-op when unmapped). */
void mmu_unmap_one(struct bt *bt, int v, uint32_t vpage);
/*
 * Keep guest page vpage of flat view v mapped, read-only (an mprotect if it was
 * writable), and no longer writable after a trace either (V2P_TW goes): its PTE now
 * denies the store or has D clear. No-op when unmapped.
 */
void mmu_write_protect_one(struct bt *bt, int v, uint32_t vpage);
/* The view for the current CPL and address space becomes r8 at the next entry. */
void mmu_set_view(struct bt *bt);
/*
 * Map guest pages [vpage, vpage + n) of flat view v to physical pages [ppage,
 * ppage + n) (ppage >= npages: the open-bus memfd) with prot, one mmap; v2p gets
 * flags (V2P_*) and the rmap the pages. 0, or -errno (nothing recorded). The caller
 * has checked the budget (mmu_reserve_pages) and that none of the pages is mapped.
 */
int mmu_map_run(struct bt *bt, int v, uint32_t vpage, uint32_t n, uint32_t ppage, int prot,
                uint32_t flags);
/* Make room for n more mapped pages: evict cached address spaces (LRU), else empty the current one.
 */
void mmu_reserve_pages(struct bt *bt, uint32_t n);
/* mmu_host_page (the host address of a guest page in a view) is in bt.h: it needs struct bt. */
/* mprotect one shadow page (and the wrap mirror for page 0). */
void mmu_shadow_mprotect(struct bt *bt, int v, uint32_t va, int prot);
/*
 * A trace fault on page table ppage was stepped: past PT_HOT_FAULTS of them since it
 * was traced, the page is written like data (a table being cleared or freed): its
 * entries go from every cached address space (the whole space where it is the
 * directory) and it is untraced until a walk uses it again.
 */
void mmu_pt_traced_write(struct bt *bt, uint32_t ppage);
/*
 * A store is about to reach traced page ppage. A cached address space that is not
 * current and has ppage as its directory is dropped first (its entries but the
 * global ones go, its slot is freed: mmu_slot_drop; a shadow is a cache), and the
 * tables that directory pointed to and no other cached space uses are untraced.
 * Then if no cached address space uses ppage (it is neither the directory of a slot
 * or of CR3 nor a page table one of those directories points to, PS entries aside),
 * it is untraced now and true returned: no shadow entry derives from it, so its
 * writes need no trace (a page table freed and reused as data or as a new process's
 * table). Kept global entries may then go stale, as a TLB's may until invlpg (SDM
 * Vol 3A 4.10.4.1). False (traced still) otherwise or for a page not traced.
 */
bool mmu_pt_release(struct bt *bt, uint32_t ppage);
/*
 * Is traced page ppage still a page table or directory of the current address space
 * or of a cached one? If not, untrace it and return true (with unprotect, the current
 * space's mappings that were read-only for the trace become writable again,
 * mmu_unprotect_ppage; without, each waits for its first store: a process freeing
 * its tables at exit will not write them again); false if it is in use (or was not
 * traced).
 */
bool mmu_pt_release_unused(struct bt *bt, uint32_t ppage, bool unprotect);
/* Is ppage the directory of the current address space or of a cached one? */
bool mmu_is_directory(const struct bt *bt, uint32_t ppage);
/* Empty both views of address-space slot s (its key stays; the caller frees it). */
void mmu_slot_empty(struct bt *bt, int s);
/*
 * Free slot s (key BT_AS_FREE), dropping its entries but its global ones: they may
 * outlive the address space as a TLB's global entries outlive a CR3 load (SDM Vol 3A
 * 4.10.2.4, 4.10.4.1), and the next space keyed into the slot uses them, as as_load
 * does for an LRU slot. invlpg and a CR4.PGE change still drop them in every slot.
 */
void mmu_slot_drop(struct bt *bt, int s);
/* Mark page pa as a guest page table the walker used (its writes then trace). */
void mmu_trace_pt(struct bt *bt, uint32_t pa);

#endif
