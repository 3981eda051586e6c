/*
 * bt_context.c: a host signal context in translated code, seen as guest state: the
 * block and guest instruction of a host PC, the guest registers it holds, and the
 * way out of the cache from it. Below both signal handlers (bt_signal.c) and device
 * accesses (bt_mmio.c), which share it; it calls only the cache.
 */
#include <signal.h>
#include <ucontext.h>

#include "bt_context.h"

/* The guest instruction of a block that a host PC belongs to. */
static int imap_index(const struct tb *tb, uintptr_t pc)
{
	uint32_t off = (uint32_t)(pc - (uintptr_t)tb->code);
	int i;

	for (i = tb->ninsn - 1; i > 0; i--)
		if (tb->imap[i].host <= off)
			break;
	return i;
}

/* Save the guest state at the faulting instruction into cpu; 0, or -1 if pc is not in a block. */
int bt_sync_from_context(struct bt *bt, ucontext_t *uc, struct tb **tbp, int *idx)
{
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)g[REG_RIP];
	struct tb *tb = tc_find_host(bt, pc);
	struct bt_cpu *c = &bt->cpu;
	int i;

	if (!tb || pc - (uintptr_t)tb->code >= tb->body_len)
		return -1;
	i = imap_index(tb, pc);
	c->gpr[0] = (uint32_t)g[REG_RAX];
	c->gpr[1] = (uint32_t)g[REG_RCX];
	c->gpr[2] = (uint32_t)g[REG_RDX];
	c->gpr[3] = (uint32_t)g[REG_RBX];
	c->gpr[4] = (uint32_t)g[REG_R15];
	c->gpr[5] = (uint32_t)g[REG_RBP];
	c->gpr[6] = (uint32_t)g[REG_RSI];
	c->gpr[7] = (uint32_t)g[REG_RDI];
	if (tb->imap[i].spill != 0xff)
		c->gpr[tb->imap[i].spill] = (uint32_t)g[REG_R13];
	c->hflags = (uint32_t)g[REG_EFL];
	c->eip = tb->eip + tb->imap[i].guest;
	if (tbp)
		*tbp = tb;
	if (idx)
		*idx = i;
	return 0;
}

int bt_eip_of_pc(struct bt *bt, uintptr_t pc, uint32_t *eip)
{
	struct tb *tb = tc_find_host(bt, pc);

	if (!tb || pc - (uintptr_t)tb->code >= tb->body_len)
		return -1;
	*eip = tb->eip + tb->imap[imap_index(tb, pc)].guest;
	return 0;
}

/* Leave the cache from the signal context with reason; the guest state is in cpu. */
void bt_leave_from_context(struct bt *bt, ucontext_t *uc, int reason)
{
	greg_t *g = uc->uc_mcontext.gregs;

	bt->cpu.exit_reason = (uint32_t)reason;
	g[REG_RIP] = (greg_t)(uintptr_t)bt->cache.stub_exit_saved;
	g[REG_R14] = (greg_t)(uintptr_t)&bt->cpu;
	g[REG_EFL] &= ~(greg_t)0x500; /* DF and TF clear for C */
}
