/*
 * bt_mmu.h: guest virtual memory for the translator (included by bt.h).
 * bt_mmu.c walks the guest's tables, fills the shadow on host faults and copies
 * to and from guest memory; bt_shadow.c owns the views (one pair per cached
 * address space), their reservations, the reverse map and the CR3/CR0/CR4 rules.
 */
#ifndef TANDEM_BT_MMU_H
#define TANDEM_BT_MMU_H

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
 * a guest PTE the guest did not touch.
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
 * clear or copy of a directory then costs one drop per entry that was present.
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
 * address space, and its global entries from every cached one.
 */
void mmu_unmap_va(struct bt *bt, uint32_t va);
/* Drop every shadow mapping of guest-physical page ppage, in every view. */
void mmu_unmap_ppage(struct bt *bt, uint32_t ppage);
/* Drop guest virtual page vpage from flat view v (no-op when unmapped). */
void mmu_unmap_one(struct bt *bt, int v, uint32_t vpage);
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
/* The host address of guest page va in flat view v (the mirror of page 0 aside). */
static inline uint8_t *mmu_host_page(struct bt *bt, int v, uint32_t va)
{
	return bt->view[v] + (va & ~0xfffu);
}
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
 * current and has ppage as its directory is dropped first (its views emptied, its
 * slot freed: a shadow is a cache). Then if no cached address space uses ppage
 * (it is neither the directory of a slot or of CR3 nor a page table one of those
 * directories points to, PS entries aside), it is untraced now and true returned:
 * no shadow entry derives from it, so its writes need no trace (a page table freed
 * and reused as data or as a new process's table). Kept global entries of a slot
 * keyed anew may then go stale, as a TLB's may until invlpg (SDM Vol 3A 4.10.4.1,
 * as retrace in bt_shadow.c). False (traced still) otherwise or for a page not traced.
 */
bool mmu_pt_release(struct bt *bt, uint32_t ppage);
/* Empty both views of address-space slot s (its key stays; the caller frees it). */
void mmu_slot_empty(struct bt *bt, int s);
/* Mark page pa as a guest page table the walker used (its writes then trace). */
void mmu_trace_pt(struct bt *bt, uint32_t pa);

#endif
