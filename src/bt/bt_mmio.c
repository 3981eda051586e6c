/*
 * bt_mmio.c: MMIO from translated code. The shadow never maps a device's page
 * (open bus, with no device, is the page of ones: see mmu_fill), so an access
 * there faults; the fault handler builds the MMIO record and the devices take it
 * at once (monitor_access), as a callout's port access does. When the guest
 * instruction was translated into that single host mov, the load's data goes into
 * its register and the guest resumes after it; other forms are single-stepped on a
 * scratch page; what cannot be stops with a clear message.
 */
#include <Zydis/Zydis.h>
#include <string.h>

#include "bt_mmio.h"
#include "log.h"
#include "monitor.h"

static int host_gpr(ZydisRegister r, int *size)
{
	static const ZydisRegister r32[] = {
	    ZYDIS_REGISTER_EAX,  ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EBX,
	    ZYDIS_REGISTER_R15D, ZYDIS_REGISTER_EBP, ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_EDI};
	ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	int i;

	*size = ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r) / 8;
	if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH)
		return -1;
	for (i = 0; i < 8; i++)
		if (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r32[i]) == big)
			return i;
	return -1;
}

/* An access of len bytes at pa, at the devices now. */
static enum mon_action mmio_now(struct bt *bt, uint32_t pa, uint8_t len, bool write, uint8_t *data)
{
	struct exit_record ex;

	exit_make_mmio(&ex, bt->cpu.eip, bt->cpu.vflags & 0x200, pa, len, write, data);
	return monitor_access(bt->mon, &ex);
}

/* The access ended the run: leave the cache with an EXIT_STOP record for the core. */
static void stop_from_context(struct bt *bt, ucontext_t *uc)
{
	exit_make(&bt->core_exit, EXIT_STOP, bt->cpu.eip, bt->cpu.vflags & 0x200);
	bt_leave_from_context(bt, uc, BT_EXIT_CORE);
}

/*
 * Any other instruction (add [m], r; cmp; push [m]; bts; x87 ...): read the device
 * first if it reads, map the scratch page (page 1 of the open-bus memfd) holding
 * that data writable at the page, and single-step the host instruction; on the trap
 * bt_mmio_step_end sends what it wrote to the device. 0, or -1: not such a form.
 */
/* Is guest page va RAM for this access (no fault, no device)? Leaves no exception pending. */
static bool page_is_ram(struct bt *bt, uint32_t va, bool write)
{
	typeof(bt->cpu.exc) exc = bt->cpu.exc;
	uint32_t pa;
	bool ram =
	    mmu_translate(bt, va, write ? ACC_WRITE : ACC_READ, bt->cpu.cpl == 3, &pa, NULL) == 0 &&
	    pa < bt->mon->vm.ram_size;

	bt->cpu.exc = exc;
	return ram;
}

static bool access_start(const ucontext_t *uc, const ZydisDecodedOperand *m, uint32_t *gva);

static int mmio_step_begin(struct bt *bt, ucontext_t *uc, int view, uint32_t va, uint32_t pa,
                           const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op)
{
	uint8_t *data = bt->mmu.openbus + 4096 + (pa & 0xfff);
	unsigned size = 0, i;
	uint32_t gva;
	bool rd = false, wr = false;

	for (i = 0; i < in->operand_count; i++)
		if (op[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    op[i].mem.type == ZYDIS_MEMOP_TYPE_MEM) {
			size = op[i].size / 8;
			rd = op[i].actions & ZYDIS_OPERAND_ACTION_MASK_READ;
			wr = op[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
			break;
		}
	if (!size || size > 8 || (!rd && !wr))
		return -1;
	if (access_start(uc, &op[i], &gva) && gva != va && va - gva < size)
		size -= va - gva; /* begun in the page before (RAM): the device's part only */
	if ((pa & 0xfff) + size > 4096) { /* device, then the next page: the device's part only */
		if (!page_is_ram(bt, (va & ~0xfffu) + 0x1000, wr))
			return -1; /* two device pages (or a fault in the next): not emulated */
		size = 4096 - (pa & 0xfff);
	}
	memset(bt->mmu.openbus + 4096, 0, 4096);
	if (rd && mmio_now(bt, pa, (uint8_t)size, false, data) == MON_STOP) {
		stop_from_context(bt, uc);
		return 0;
	}
	if (mmu_devpage_map(bt, view, va))
		return -1;
	bt->mmu.mmio_step = (typeof(bt->mmu.mmio_step)){true, wr, view, va, pa, (uint8_t)size};
	bt->stats.mmio_emulated++;
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
	return 0;
}

void bt_mmio_step_end(struct bt *bt, bool completed)
{
	typeof(bt->mmu.mmio_step) *s = &bt->mmu.mmio_step;

	s->active = false;
	mmu_devpage_unmap(bt, s->view, s->va);
	/* A write may have stopped the guest or sent an NMI IPI: leave at the block's end. */
	if (!completed || !s->write)
		return;
	if (mmio_now(bt, s->pa, s->size, true, bt->mmu.openbus + 4096 + (s->pa & 0xfff)) ==
	    MON_STOP)
		bt->mmu.stop_request = true; /* the run loop returns EXIT_STOP */
	if (bt->mmu.stop_request || monitor_nmi_pending(bt->mon)) {
		bt->cpu.exit_request = 1;
		tc_unlink_all_async(bt);
	}
}

/* A host register's value in the fault's context (64-bit view), or false if not one of the 16. */
static bool ctx_reg(const ucontext_t *uc, ZydisRegister r, uint64_t *v)
{
	static const ZydisRegister r64[] = {
	    ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
	    ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
	    ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
	    ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15};
	static const int greg[] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
	                           REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
	                           REG_R12, REG_R13, REG_R14, REG_R15};
	ZydisRegister big;
	int i;

	if (r == ZYDIS_REGISTER_NONE) {
		*v = 0;
		return true;
	}
	big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	for (i = 0; i < 16; i++)
		if (r64[i] == big) {
			*v = (uint64_t)uc->uc_mcontext.gregs[greg[i]];
			return true;
		}
	return false;
}

/* The guest address where the host access m begins: its address minus the view base r8. */
static bool access_start(const ucontext_t *uc, const ZydisDecodedOperand *m, uint32_t *gva)
{
	uint64_t base, index, r8;

	if (m->type != ZYDIS_OPERAND_TYPE_MEMORY || !ctx_reg(uc, m->mem.base, &base) ||
	    !ctx_reg(uc, m->mem.index, &index) || !ctx_reg(uc, ZYDIS_REGISTER_R8, &r8))
		return false;
	*gva = (uint32_t)(base + index * m->mem.scale + (uint64_t)m->mem.disp.value - r8);
	return true;
}

/*
 * Does the faulting access begin at guest address va and stay in its page? A dword
 * that straddles RAM and a device page faults at the device page's first byte (or
 * begins in the device page and ends in RAM): the handler must not complete it as one
 * device access (the RAM part would be lost).
 */
static bool access_is_one_page(const ucontext_t *uc, const ZydisDecodedOperand *m, uint32_t va,
                               unsigned size)
{
	uint32_t gva;

	if (!access_start(uc, m, &gva) || gva != va)
		return false;
	return (va & 0xfff) + size <= 4096;
}

void bt_mmio_fault(struct bt *bt, ucontext_t *uc, int view, uint32_t va, uint32_t pa)
{
	struct bt_cpu *c = &bt->cpu;
	uint8_t *pc = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	struct tb *tb;
	int i, reg = -1, size = 0, rsz = 0;
	bool write, sign = false;
	uint32_t v = 0, mask;

	if (bt_sync_from_context(bt, uc, &tb, &i) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(bt->dec64, pc, 15, &in, op)))
		goto unsupported;
	/* The guest instruction must be exactly this host instruction. */
	if ((uint32_t)(pc - tb->code) + in.length != tb->imap[i + 1].host ||
	    tb->imap[i].spill != 0xff)
		goto step;
	write = op[0].type == ZYDIS_OPERAND_TYPE_MEMORY;
	size = op[write ? 0 : 1].size / 8;
	if (!access_is_one_page(uc, &op[write ? 0 : 1], va, (unsigned)size) &&
	    ((va & 0xfff) + (unsigned)size <= 4096 ||
	     page_is_ram(bt, (va & ~0xfffu) + 0x1000, write)))
		goto step; /* straddles RAM and this page: stepped, so the RAM part is done too */
	if (write && in.mnemonic == ZYDIS_MNEMONIC_MOV) {
		if (op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			v = (uint32_t)op[1].imm.value.u;
		} else {
			reg = host_gpr(op[1].reg.value, &rsz);
			if (reg < 0)
				goto unsupported;
			v = c->gpr[reg];
		}
		memcpy(bt->io_buf, &v, 4);
	} else if (!write &&
	           (in.mnemonic == ZYDIS_MNEMONIC_MOV || in.mnemonic == ZYDIS_MNEMONIC_MOVZX ||
	            in.mnemonic == ZYDIS_MNEMONIC_MOVSX)) {
		reg = host_gpr(op[0].reg.value, &rsz);
		if (reg < 0)
			goto unsupported;
		sign = in.mnemonic == ZYDIS_MNEMONIC_MOVSX;
	} else {
		goto step;
	}
	bt_adapt_fault(bt, c->eip, ADAPT_MMIO);
	bt->stats.mmio_emulated++;
	if (mmio_now(bt, pa, (uint8_t)size, write, bt->io_buf) == MON_STOP) {
		c->eip = tb->eip + tb->imap[i + 1].guest;
		stop_from_context(bt, uc);
		return;
	}
	if (!write) { /* the load completes here: its data into the register */
		memcpy(&v, bt->io_buf, (size_t)size);
		if (sign && size < 4)
			v = size == 1 ? (uint32_t)(int32_t)(int8_t)v
			              : (uint32_t)(int32_t)(int16_t)v;
		mask = rsz >= 4 ? ~0u : (1u << (rsz * 8)) - 1;
		c->gpr[reg] = (c->gpr[reg] & ~mask) | (v & mask);
	}
	c->eip = tb->eip + tb->imap[i + 1].guest;
	bt_leave_from_context(bt, uc, BT_EXIT_RESUME);
	return;
step:
	if (mmio_step_begin(bt, uc, view, va, pa, &in, op) == 0)
		return;
unsupported:
	bt_unsupported(bt, c->eip,
	               "MMIO access at 0x%x (guest address 0x%x) by an instruction "
	               "the translator cannot emulate",
	               pa, va);
	bt_leave_from_context(bt, uc, BT_EXIT_CORE);
}
