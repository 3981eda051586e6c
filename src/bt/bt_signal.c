/*
 * bt_signal.c: host faults in translated code. A SIGSEGV in a view is a
 * hidden fault (fill the shadow and retry), a true guest #PF, a store to open
 * bus (stepped, then dropped), or a device access (MMIO); in a view's guard it is an access that
 * wrapped at 4 GiB (retranslate it exactly and run it again); anywhere else it stops the guest.
 * SIGFPE is #DE (an integer divide) or #MF (an x87 exception, which the host
 * reports on the next waiting x87 instruction, as the guest's CPU with CR0.NE=1
 * does; with NE=0 the PC's FERR# instead: IRQ13, the waiting instruction frozen
 * until a handler clears the exception), and SIGILL #UD. A guest exception leaves
 * the cache precisely: host PC -> block -> guest instruction, registers from
 * the signal context, then out through bt_stub_exit_saved.
 */
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "bt.h"
#include "bt_context.h"
#include "bt_mmio.h"
#include "log.h"

static struct bt *sig_bt; /* one translator per process */

/*
 * The view a host address belongs to, and its guest VA. The page at 4 GiB is the
 * wrap mirror of guest page 0 (an access straddling 0xFFFFFFFF): it is va 0..0xFFF.
 * *guard is set for an address in a view's guard zones (an access that wrapped).
 */
static int view_of(const struct bt *bt, uintptr_t addr, uint32_t *va, bool *guard)
{
	int v;

	for (v = 0; v < VIEW_NR; v++) {
		uintptr_t base = (uintptr_t)bt->mmu.view[v];

		*guard = false;
		if (addr >= base && addr - base < (1ULL << 32) + 4096) {
			*va = (uint32_t)(addr - base);
			return v;
		}
		if ((addr < base && base - addr <= BT_GUARD_BELOW) ||
		    (addr >= base && addr - base < (1ULL << 32) + 4096 + BT_GUARD_ABOVE)) {
			*guard = true;
			return v;
		}
	}
	return -1;
}

/* A fault the translator cannot explain: stop the guest, never crash the host. */
static void internal_fault(struct bt *bt, ucontext_t *uc, const char *what, uintptr_t addr)
{
	uint32_t eip = bt->cpu.eip;

	if (bt_sync_from_context(bt, uc, NULL, NULL) == 0)
		eip = bt->cpu.eip;
	exit_make_msg(&bt->core_exit, EXIT_INTERNAL, eip, 0,
	              "translated code took %s at host address %p", what, (void *)addr);
	bt_leave_from_context(bt, uc, BT_EXIT_CORE);
}

static void guest_exception(struct bt *bt, ucontext_t *uc, int vector)
{
	struct bt_exc e = bt->cpu.exc;

	if (bt_sync_from_context(bt, uc, NULL, NULL)) {
		internal_fault(bt, uc, "an exception outside a block", 0);
		return;
	}
	if (vector >= 0)
		e = (struct bt_exc){.vector = vector};
	if (vector == EXC_DE)
		bt_adapt_fault(bt, bt->cpu.eip, ADAPT_DIV);
	if (vector < 0 && e.vector == EXC_PF)
		bt_adapt_fault(bt, bt->cpu.eip, ADAPT_PF);
	bt->cpu.exc = e;
	if (vector == EXC_PF || e.vector == EXC_PF)
		bt->stats.true_faults++;
	bt_leave_from_context(bt, uc, BT_EXIT_EXCEPTION);
}

static void on_segv(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	struct bt *bt = sig_bt;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uint32_t va, pa;
	bool guard;
	int view, r;

	if (!bt || !tc_contains(bt, pc)) {
		/* Not ours: a monitor bug. Let the default action report it. */
		signal(sig, SIG_DFL);
		return;
	}
	view = view_of(bt, (uintptr_t)si->si_addr, &va, &guard);
	if (view < 0) {
		internal_fault(bt, uc, "a fault outside the guest windows", (uintptr_t)si->si_addr);
		return;
	}
	if (VIEW_AS(view) != bt->mmu.cur_as) {
		/* r8 is reloaded on every entry: only the current address space is reachable. */
		internal_fault(bt, uc, "a fault in another address space's view",
		               (uintptr_t)si->si_addr);
		return;
	}
	if (guard) {
		/*
		 * A one-register operand wrapped below 0 or past 4 GiB: retranslate the
		 * instruction with its address computed in 32 bits, and run it again.
		 */
		if (bt->mmu.pt_write.active)
			mmu_pt_write_end(bt);
		if (bt_sync_from_context(bt, uc, NULL, NULL) ||
		    bt_adapt_wrap(bt, bt->cpu.eip) == 0) {
			internal_fault(bt, uc, "a fault in a view's guard", (uintptr_t)si->si_addr);
			return;
		}
		bt_leave_from_context(bt, uc, BT_EXIT_RESUME);
		return;
	}
	bt->cpu.exc.vector = -1;
	if (bt->mmu.pt_write.active)
		mmu_pt_write_end(bt); /* the stepped store faulted again elsewhere */
	if (bt->mmu.mmio_step.active)
		bt_mmio_step_end(bt, false); /* faulted elsewhere: it runs again, read included */
	r = mmu_fill(bt, view, va, uc->uc_mcontext.gregs[REG_ERR] & 2, &pa);
	if (bt->mmu.openbus_write.active && r != 3)
		mmu_openbus_write_end(bt); /* the stepped store faulted elsewhere: it runs again */
	if (r == 3) {
		/*
		 * A store to open bus, by any instruction: let it write the page of ones
		 * for one instruction (a read-modify-write reads ones first), then drop it.
		 */
		mmu_openbus_write_begin(bt, view, va);
		uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
		return;
	}
	if (r == 2) {
		/* A store to a guest page table: let it through one instruction, then look. */
		uint32_t eip;

		if (bt_eip_of_pc(bt, pc, &eip) == 0)
			bt_adapt_fault(bt, eip, ADAPT_PT);
		mmu_pt_write_begin(bt, view, va, pa);
		uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
		r = 0;
	}
	if (r == 0) {
		struct tb *tb = tc_find_host(bt, pc);

		/*
		 * The store invalidated the block doing it (code in the same page):
		 * single-step to the next instruction boundary, then leave.
		 */
		if (tb && !tb->valid) {
			bt->cache.smc_tb = tb;
			uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
		}
		return;
	}
	if (r < 0) {
		guest_exception(bt, uc, -1);
		return;
	}
	bt_mmio_fault(bt, uc, view, va, pa);
}

static void on_fpe(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

	if (!sig_bt || !tc_contains(sig_bt, pc)) {
		signal(sig, SIG_DFL);
		return;
	}
	if (sig_bt->mmu.openbus_write.active)
		mmu_openbus_write_end(sig_bt);
	if (sig_bt->mmu.mmio_step.active)
		bt_mmio_step_end(sig_bt, false);
	if (sig == SIGILL)
		guest_exception(sig_bt, uc, EXC_UD);
	else if (si->si_code == FPE_INTDIV || si->si_code == FPE_INTOVF)
		guest_exception(sig_bt, uc, EXC_DE);
	else if (sig_bt->cpu.cr0 & X86_CR0_NE)
		guest_exception(sig_bt, uc, EXC_MF); /* the guest has no SSE: x87 */
	else if (bt_sync_from_context(sig_bt, uc, NULL, NULL))
		internal_fault(sig_bt, uc, "an exception outside a block", 0);
	else {
		sig_bt->ferr =
		    true; /* the dispatcher pulses IRQ13; EIP stays on the waiting insn */
		bt_leave_from_context(sig_bt, uc, BT_EXIT_RESUME);
	}
}

/* Single-stepping after a self-modifying store: out at the next guest instruction. */
static void on_trap(int sig, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	struct bt *bt = sig_bt;
	struct tb *tb = bt ? bt->cache.smc_tb : NULL;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uint32_t off;
	int i;

	(void)sig;
	(void)si;
	if (bt &&
	    (bt->mmu.pt_write.active || bt->mmu.openbus_write.active || bt->mmu.mmio_step.active)) {
		if (bt->mmu.pt_write.active)
			mmu_pt_write_end(bt);
		if (bt->mmu.openbus_write.active)
			mmu_openbus_write_end(bt);
		if (bt->mmu.mmio_step.active)
			bt_mmio_step_end(bt, true);
		tb = bt->cache.smc_tb;
		if (!tb) {
			uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x100;
			return;
		}
	}
	if (!tb)
		return;
	off = (uint32_t)(pc - (uintptr_t)tb->code);
	if (pc < (uintptr_t)tb->code || off >= tb->body_len) {
		/* Left the block (its exits are unchained now): nothing more to do. */
		uc->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x100;
		bt->cache.smc_tb = NULL;
		return;
	}
	for (i = 1; i < tb->ninsn; i++)
		if (tb->imap[i].host == off)
			break;
	if (i == tb->ninsn)
		return; /* inside a rewritten sequence: keep stepping */
	bt->cache.smc_tb = NULL;
	bt_sync_from_context(bt, uc, NULL, NULL);
	bt_leave_from_context(bt, uc, BT_EXIT_RESUME);
}

int bt_signals_install(struct bt *bt)
{
	struct sigaction sa;

	sig_bt = bt;
	memset(&sa, 0, sizeof(sa));
	/* SA_ONSTACK: a stack-pointer loop runs with RSP in guest memory (bt_rsp.h) */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	/*
	 * Every other signal waits while these run: a kick landing in a handler would
	 * see a PC outside the cache and not unlink it, and a loop without callouts
	 * would then never look at exit_request. Deferred, it lands in the cache.
	 */
	sigfillset(&sa.sa_mask);
	sa.sa_sigaction = on_segv;
	if (sigaction(SIGSEGV, &sa, NULL) || sigaction(SIGBUS, &sa, NULL))
		return -1;
	sa.sa_sigaction = on_fpe;
	if (sigaction(SIGFPE, &sa, NULL) || sigaction(SIGILL, &sa, NULL))
		return -1;
	sa.sa_sigaction = on_trap;
	if (sigaction(SIGTRAP, &sa, NULL))
		return -1;
	return 0;
}

void bt_signals_remove(struct bt *bt)
{
	(void)bt;
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGTRAP, SIG_DFL);
	sig_bt = NULL;
}
