/*
 * bt_mmu.c: guest virtual memory for the translator. Two 4 GiB host windows
 * (supervisor: every present page; user: only U pages) are the shadow page
 * tables: filled lazily from the guest's 2-level tables on a host fault, one
 * memfd page mmapped at window + va. A page is mapped read-only until the guest
 * may write it and has set its D bit, and always while translated code comes from
 * it. The shadow follows x86 TLB rules: it is dropped on invlpg and CR3 loads,
 * and re-walked on every fault, so more permissive entries are seen at once.
 * Each window sits in its own PROT_NONE reservation (guards, a mirror of page 0
 * at 4 GiB, canary pages at both ends: see bt.h); nothing else lives there.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bt.h"
#include "bus.h"
#include "log.h"
#include "monitor.h"

#define VIEW_SIZE (1ULL << 32)
/*
 * A view and the page after it: the page at 4 GiB mirrors guest page 0, so an access
 * that straddles 0xFFFFFFFF (or a one-register form that lands just past 4 GiB)
 * wraps exactly as on i386.
 */
#define VIEW_MAPPED (VIEW_SIZE + 4096)
/* The whole reservation, from the canary below to the canary above. */
#define RESERVE_LEN (4096 + BT_GUARD_BELOW + VIEW_MAPPED + BT_GUARD_ABOVE + 4096)
/* v2p entries: physical page + 1, and this bit when the mapping is writable. */
#define V2P_W 0x80000000u
#define V2P_PAGE(e) (((e) & ~V2P_W) - 1)
#define VPAGES (1u << 20)
/* Each isolated page is up to two VMAs; Linux allows 65530 per process by default. */
#define SHADOW_MAX_PAGES 25000u

#define PTE_P 0x1u
#define PTE_W 0x2u
#define PTE_U 0x4u
#define PTE_A 0x20u
#define PTE_D 0x40u
#define PDE_PS 0x80u

static uint8_t *reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#define CANARY_BYTE 0xc5

/* A page of canary bytes at addr, a page of the view's own reservation. */
static uint8_t *canary_at(uint8_t *addr)
{
	if (mprotect(addr, 4096, PROT_READ | PROT_WRITE))
		return NULL;
	memset(addr, CANARY_BYTE, 4096);
	return addr;
}

int mmu_canary_check(const struct bt *bt)
{
	int i, bad = 0;

	for (i = 0; i < 2 * VIEW_NR; i++) {
		const uint8_t *p = bt->canary[i];
		unsigned k;

		for (k = 0; p && k < 4096; k++)
			if (p[k] != CANARY_BYTE) {
				log_err("bt: host memory next to view %d changed at %p: guest confinement "
					"broken", i / 2, (const void *)(p + k));
				bad = -1;
				break;
			}
	}
	return bad;
}

int mmu_init(struct bt *bt)
{
	int v;

	bt->npages = (uint32_t)(bt->mon->vm.ram_size >> 12);
	bt->pflags = calloc(bt->npages, 1);
	bt->page_tbs = calloc(bt->npages, sizeof(*bt->page_tbs));
	/* One more rmap list: the open-bus page, "physical page" npages in v2p. */
	bt->rmap_head = calloc(bt->npages + 1, sizeof(*bt->rmap_head));
	bt->ptref = calloc(bt->npages, sizeof(*bt->ptref));
	bt->rmap_cap = SHADOW_MAX_PAGES + 16;
	bt->rmap = calloc(bt->rmap_cap, sizeof(*bt->rmap));
	if (!bt->pflags || !bt->page_tbs || !bt->rmap_head || !bt->rmap || !bt->ptref)
		return -ENOMEM;
	/* Open bus reads all-ones (QEMU's unassigned memory, a PC's floating bus). */
	bt->openbus_fd = memfd_create("tandem-open-bus", MFD_CLOEXEC);
	if (bt->openbus_fd < 0 || ftruncate(bt->openbus_fd, 8192))
		return -errno;
	bt->openbus = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, bt->openbus_fd, 0);
	if (bt->openbus == MAP_FAILED) {
		bt->openbus = NULL;
		return -errno;
	}
	memset(bt->openbus, 0xff, 4096);
	for (v = 0; v < VIEW_NR; v++) {
		/* [canary][guard below][4 GiB view][mirror][guard above][canary] */
		bt->view[v] = reserve(RESERVE_LEN);
		if (bt->view[v])
			bt->view[v] += 4096 + BT_GUARD_BELOW;
		bt->v2p[v] = (uint32_t *)reserve(VPAGES * sizeof(uint32_t));
		if (!bt->view[v] || !bt->v2p[v])
			return -ENOMEM;
		if (mprotect(bt->v2p[v], VPAGES * sizeof(uint32_t), PROT_READ | PROT_WRITE))
			return -errno;
		/* Tripwires right below and right after the reservation (see mmu_canary_check). */
		bt->canary[2 * v] = canary_at(bt->view[v] - BT_GUARD_BELOW - 4096);
		bt->canary[2 * v + 1] = canary_at(bt->view[v] + VIEW_MAPPED + BT_GUARD_ABOVE);
	}
	return 0;
}

void mmu_destroy(struct bt *bt)
{
	int v;

	for (v = 0; v < VIEW_NR; v++) {
		if (bt->view[v])
			munmap(bt->view[v] - BT_GUARD_BELOW - 4096, RESERVE_LEN);
		if (bt->v2p[v])
			munmap(bt->v2p[v], VPAGES * sizeof(uint32_t));
	}
	if (bt->openbus) {
		munmap(bt->openbus, 8192);
		close(bt->openbus_fd);
	}
	free(bt->pflags);
	free(bt->page_tbs);
	free(bt->rmap_head);
	free(bt->ptref);
	free(bt->rmap);
}

bool mmu_shadow_ok(const struct bt *bt, uint32_t va, bool write)
{
	uint32_t e = bt->v2p[bt->cur_view][va >> 12];

	return e && (!write || (e & V2P_W));
}

void mmu_set_view(struct bt *bt)
{
	bt->cur_view = bt->cpu.cpl == 3 ? VIEW_USER : VIEW_SUP;
	bt->cpu.vbase = (uint64_t)(uintptr_t)bt->view[bt->cur_view]; /* r8 at the next entry */
}

static uint32_t *ram32(struct bt *bt, uint32_t pa)
{
	return vm_gpa(&bt->mon->vm, pa, 4);
}

/* The walker used this page as a directory or table: writes to it must trace. */
static void trace_pt(struct bt *bt, uint32_t pa)
{
	uint32_t p = pa >> 12;

	if (p < bt->npages && !(bt->pflags[p] & PF_PT)) {
		bt->pflags[p] |= PF_PT;
		mmu_unmap_ppage(bt, p);
	}
}

static int pf(struct bt *bt, uint32_t va, int acc, bool user, bool present)
{
	bt->cpu.exc = (struct bt_exc){ .vector = EXC_PF, .has_err = true, .cr2 = va,
		.err = (present ? 1u : 0u) | (acc == ACC_WRITE ? 2u : 0u) | (user ? 4u : 0u) };
	return -1;
}

int mmu_translate(struct bt *bt, uint32_t va, int acc, bool user, uint32_t *pa, bool *can_write)
{
	const struct bt_cpu *c = &bt->cpu;
	bool wp = c->cr0 & X86_CR0_WP, w_ok, u_ok;
	uint32_t *pde, *pte, e, set;

	if (!(c->cr0 & X86_CR0_PG)) {
		*pa = va;
		if (can_write)
			*can_write = true;
		return 0;
	}
	pde = ram32(bt, (c->cr3 & ~0xfffu) + (va >> 22) * 4);
	if (!pde || !(*pde & PTE_P))
		return pf(bt, va, acc, user, false);
	trace_pt(bt, c->cr3);
	set = PTE_A | (acc == ACC_WRITE ? PTE_D : 0);
	if ((*pde & PDE_PS) && (c->cr4 & X86_CR4_PSE)) {
		e = *pde;
		pte = pde;
		*pa = (e & 0xffc00000u) | (va & 0x3fffffu);
		w_ok = e & PTE_W;
		u_ok = e & PTE_U;
	} else {
		pte = ram32(bt, (*pde & ~0xfffu) + ((va >> 12) & 0x3ff) * 4);
		if (!pte || !(*pte & PTE_P))
			return pf(bt, va, acc, user, false);
		trace_pt(bt, *pde);
		{
			/* Remember which directory entry uses this table: its writes map back in O(1). */
			uint32_t pt = *pde >> 12;
			uint16_t ref = (uint16_t)((va >> 22) + 1);

			if (pt < bt->npages && bt->ptref[pt] != ref)
				bt->ptref[pt] = bt->ptref[pt] ? 0xffff : ref;
		}
		e = *pte;
		*pa = (e & ~0xfffu) | (va & 0xfffu);
		w_ok = (*pde & PTE_W) && (e & PTE_W);
		u_ok = (*pde & PTE_U) && (e & PTE_U);
		if (!user || u_ok)
			*pde |= PTE_A;
	}
	if (user && !u_ok)
		return pf(bt, va, acc, user, true);
	if (acc == ACC_WRITE && !w_ok && (user || wp))
		return pf(bt, va, acc, user, true);
	*pte |= set;
	if (can_write)
		*can_write = (*pte & PTE_D) && (w_ok || (!user && !wp));
	return 0;
}

static uint8_t *host_page(struct bt *bt, int view, uint32_t va)
{
	return bt->view[view] + (va & ~0xfffu);
}

/* Guest page 0 also lives at 4 GiB (the wrap mirror): both copies change together. */
static void shadow_mprotect(struct bt *bt, int view, uint32_t va, int prot)
{
	mprotect(host_page(bt, view, va), 4096, prot);
	if ((va >> 12) == 0)
		mprotect(bt->view[view] + VIEW_SIZE, 4096, prot);
}

static void shadow_none(struct bt *bt, int view, uint32_t vpage)
{
	mmap(host_page(bt, view, vpage << 12), 4096, PROT_NONE,
	     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	if (vpage == 0)
		mmap(bt->view[view] + VIEW_SIZE, 4096, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

/* ppage npages is the open-bus page, npages + 1 the device scratch page (mmio_step). */
static int shadow_map(struct bt *bt, int view, uint32_t vpage, int prot, uint32_t ppage)
{
	int fd = ppage >= bt->npages ? bt->openbus_fd : bt->mon->vm.memfd;
	off_t off = ppage >= bt->npages ? (off_t)(ppage - bt->npages) << 12 : (off_t)ppage << 12;

	if (mmap(host_page(bt, view, vpage << 12), 4096, prot, MAP_SHARED | MAP_FIXED,
		 fd, off) == MAP_FAILED)
		return -errno;
	if (vpage == 0 && mmap(bt->view[view] + VIEW_SIZE, 4096, prot, MAP_SHARED | MAP_FIXED,
			       fd, off) == MAP_FAILED)
		return -errno;
	return 0;
}

static void rmap_remove(struct bt *bt, uint32_t ppage, int view, uint32_t vpage)
{
	uint32_t *link = &bt->rmap_head[ppage];

	while (*link) {
		struct bt_rmap *r = &bt->rmap[*link - 1];

		if (r->va == vpage && r->view == view) {
			uint32_t idx = *link;

			*link = r->next;
			r->next = bt->rmap_free;
			bt->rmap_free = idx;
			return;
		}
		link = &r->next;
	}
}

static int rmap_add(struct bt *bt, uint32_t ppage, int view, uint32_t vpage)
{
	uint32_t idx;

	if (bt->rmap_free) {
		idx = bt->rmap_free;
		bt->rmap_free = bt->rmap[idx - 1].next;
	} else if (bt->rmap_used < bt->rmap_cap) {
		idx = ++bt->rmap_used;
	} else {
		return -ENOSPC;
	}
	bt->rmap[idx - 1] = (struct bt_rmap){ .va = vpage, .next = bt->rmap_head[ppage],
					      .view = (uint8_t)view };
	bt->rmap_head[ppage] = idx;
	return 0;
}

static void unmap_one(struct bt *bt, int view, uint32_t vpage)
{
	shadow_none(bt, view, vpage);
	bt->v2p[view][vpage] = 0;
	bt->mapped--;
}

void mmu_flush(struct bt *bt)
{
	int v;

	for (v = 0; v < VIEW_NR; v++)
		mmap(bt->view[v], VIEW_MAPPED, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	/* Clear exactly the v2p entries that are set: the rmap lists them (open bus too). */
	for (uint32_t p = 0; p <= bt->npages; p++) {
		uint32_t i;

		for (i = bt->rmap_head[p]; i; i = bt->rmap[i - 1].next)
			bt->v2p[bt->rmap[i - 1].view][bt->rmap[i - 1].va] = 0;
		bt->rmap_head[p] = 0;
	}
	bt->rmap_used = 0;
	bt->rmap_free = 0;
	bt->mapped = 0;
	for (uint32_t p = 0; p < bt->npages; p++)
		bt->pflags[p] &= ~PF_PT; /* traced again when the walker next uses them */
	memset(bt->ptref, 0, bt->npages * sizeof(*bt->ptref));
	bt->shadow_flushes++;
}

void mmu_unmap_va(struct bt *bt, uint32_t va)
{
	uint32_t vpage = va >> 12;
	int v;

	for (v = 0; v < VIEW_NR; v++) {
		uint32_t e = bt->v2p[v][vpage];

		if (!e)
			continue;
		rmap_remove(bt, V2P_PAGE(e), v, vpage);
		unmap_one(bt, v, vpage);
	}
}

void mmu_unmap_ppage(struct bt *bt, uint32_t ppage)
{
	uint32_t i = bt->rmap_head[ppage];

	while (i) {
		struct bt_rmap *r = &bt->rmap[i - 1];
		uint32_t next = r->next;

		unmap_one(bt, r->view, r->va);
		r->next = bt->rmap_free;
		bt->rmap_free = i;
		i = next;
	}
	bt->rmap_head[ppage] = 0;
}

int mmu_fill(struct bt *bt, int view, uint32_t va, bool write, uint32_t *pa_out)
{
	uint32_t pa, ppage, vpage = va >> 12;
	bool can_write;
	int prot, ret;

	if (mmu_translate(bt, va, write ? ACC_WRITE : ACC_READ, view == VIEW_USER, &pa, &can_write))
		return -1;
	*pa_out = pa;
	if (pa >= bt->mon->vm.ram_size) {
		if (bus_claims(&bt->mon->mmio, pa & ~0xfffu, 4096))
			return 1;
		ppage = bt->npages; /* open bus: the page of ones, never writable */
		can_write = false;
	} else {
		ppage = pa >> 12;
	}
	if (ppage < bt->npages && write && (bt->pflags[ppage] & PF_CODE)) {
		/* A write to a page with translated code: its blocks go, then it is plain RAM. */
		bt->trace_faults++;
		tc_invalidate_page(bt, ppage);
	}
	prot = PROT_READ;
	if (can_write && !(bt->pflags[ppage] & (PF_CODE | PF_PT)))
		prot |= PROT_WRITE;
	if (bt->v2p[view][vpage]) {
		rmap_remove(bt, V2P_PAGE(bt->v2p[view][vpage]), view, vpage);
		bt->mapped--;
	} else if (bt->mapped >= SHADOW_MAX_PAGES) {
		mmu_flush(bt);
	}
	if ((ret = shadow_map(bt, view, vpage, prot, ppage))) {
		log_err("bt: cannot map guest page 0x%x: %s", ppage << 12, strerror(-ret));
		return -1;
	}
	if (rmap_add(bt, ppage, view, vpage)) {
		mmu_flush(bt);
		return 0;
	}
	bt->v2p[view][vpage] = (ppage + 1) | ((prot & PROT_WRITE) ? V2P_W : 0);
	bt->mapped++;
	bt->hidden_faults++;
	if (ppage == bt->npages)
		return write ? 3 : 0;
	return (write && can_write && (bt->pflags[ppage] & PF_PT)) ? 2 : 0;
}

/* Drop the shadow of every virtual page whose translation used entry e of page table ppage. */
void mmu_pt_entry_changed(struct bt *bt, uint32_t ppage, uint32_t e)
{
	const struct bt_cpu *c = &bt->cpu;
	uint32_t *pd = vm_gpa(&bt->mon->vm, c->cr3 & ~0xfffu, 4096), j, v;

	if ((c->cr3 >> 12) == ppage) {
		for (v = e << 10; v < (e + 1) << 10; v++)
			if (bt->v2p[VIEW_SUP][v] || bt->v2p[VIEW_USER][v])
				mmu_unmap_va(bt, v << 12);
	}
	if (!pd)
		return;
	if (bt->ptref[ppage] && bt->ptref[ppage] != 0xffff) {
		j = bt->ptref[ppage] - 1u;
		if ((pd[j] & PTE_P) && (pd[j] >> 12) == ppage) {
			mmu_unmap_va(bt, (j << 22) | (e << 12));
			return;
		}
	}
	for (j = 0; j < 1024; j++)
		if ((pd[j] & PTE_P) && !(pd[j] & PDE_PS && c->cr4 & X86_CR4_PSE) &&
		    (pd[j] >> 12) == ppage)
			mmu_unmap_va(bt, (j << 22) | (e << 12));
}

void mmu_pt_write_begin(struct bt *bt, int view, uint32_t va, uint32_t pa)
{
	bt->pt_write.active = true;
	bt->pt_write.view = view;
	bt->pt_write.va = va;
	bt->pt_write.ppage = pa >> 12;
	memcpy(bt->pt_write.before, bt->mon->vm.ram + (pa & ~0xfffu), 4096);
	shadow_mprotect(bt, view, va, PROT_READ | PROT_WRITE);
	bt->trace_faults++;
	bt->pt_traces++;
}

void mmu_pt_write_end(struct bt *bt)
{
	const uint32_t *now = (const uint32_t *)(bt->mon->vm.ram + ((size_t)bt->pt_write.ppage << 12));
	uint32_t e;

	bt->pt_write.active = false;
	shadow_mprotect(bt, bt->pt_write.view, bt->pt_write.va, PROT_READ);
	for (e = 0; e < 1024; e++)
		if (now[e] != bt->pt_write.before[e])
			mmu_pt_entry_changed(bt, bt->pt_write.ppage, e);
}

void mmu_openbus_write_begin(struct bt *bt, int view, uint32_t va)
{
	/* Faulting again on a second page before the step ends: the store straddles two
	 * open-bus pages, and both stay writable for it (ending the first would loop). */
	if (bt->openbus_write.active && bt->openbus_write.n == 2)
		mmu_openbus_write_end(bt);
	if (!bt->openbus_write.active)
		bt->openbus_write.n = 0;
	bt->openbus_write.active = true;
	bt->openbus_write.view[bt->openbus_write.n] = view;
	bt->openbus_write.va[bt->openbus_write.n++] = va;
	shadow_mprotect(bt, view, va, PROT_READ | PROT_WRITE);
	bt->openbus_writes++;
}

void mmu_openbus_write_end(struct bt *bt)
{
	bt->openbus_write.active = false;
	for (int i = 0; i < bt->openbus_write.n; i++)
		shadow_mprotect(bt, bt->openbus_write.view[i], bt->openbus_write.va[i], PROT_READ);
	bt->openbus_write.n = 0;
	memset(bt->openbus, 0xff, 4096); /* the write is dropped */
}

int mmu_devpage_map(struct bt *bt, int view, uint32_t va)
{
	return shadow_map(bt, view, va >> 12, PROT_READ | PROT_WRITE, bt->npages + 1);
}

void mmu_devpage_unmap(struct bt *bt, int view, uint32_t va)
{
	shadow_none(bt, view, va >> 12);
}

/*
 * Descriptors, gates and exception frames are a few bytes: a plain loop beats
 * the compiler's inline rep movs, whose start-up cost dominated system calls.
 */
static void copy_small(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	if (n > 32) {
		memcpy(dst, src, n);
		return;
	}
	while (n >= 4) {
		uint32_t w;

		__builtin_memcpy(&w, src, 4);
		__builtin_memcpy(dst, &w, 4);
		dst += 4, src += 4, n -= 4;
	}
	while (n--)
		*dst++ = *src++;
}

/* Copy between guest virtual memory and buf, page by page; writes invalidate code. */
static int mmu_copy(struct bt *bt, uint32_t va, void *buf, uint32_t len, bool user, bool write)
{
	uint8_t *b = buf;

	while (len) {
		uint32_t pa, n = 4096 - (va & 0xfff);
		uint8_t *host;

		if (n > len)
			n = len;
		/* A page the shadow maps (writable, for a write) needs no walk: A/D are set. */
		uint32_t ent = bt->v2p[user ? VIEW_USER : VIEW_SUP][va >> 12];

		if (ent && (!write || (ent & V2P_W)))
			pa = (V2P_PAGE(ent) << 12) | (va & 0xfff);
		else if (mmu_translate(bt, va, write ? ACC_WRITE : ACC_READ, user, &pa, NULL))
			return -1;
		host = vm_gpa(&bt->mon->vm, pa, n);
		if (!host) {
			if (!write)
				memset(b, 0xff, n);
		} else if (write) {
			uint32_t p = pa >> 12, e;

			if (bt->pflags[p] & PF_CODE)
				tc_invalidate_page(bt, p);
			copy_small(host, b, n);
			if (bt->pflags[p] & PF_PT)
				for (e = (pa & 0xfff) / 4; e <= ((pa & 0xfff) + n - 1) / 4; e++)
					mmu_pt_entry_changed(bt, p, e);
		} else {
			copy_small(b, host, n);
		}
		va += n;
		b += n;
		len -= n;
	}
	return 0;
}

int mmu_read(struct bt *bt, uint32_t va, void *buf, uint32_t len, bool user)
{
	return mmu_copy(bt, va, buf, len, user, false);
}

int mmu_write(struct bt *bt, uint32_t va, const void *buf, uint32_t len, bool user)
{
	return mmu_copy(bt, va, (void *)buf, len, user, true);
}
