/*
 * bt_mmio.c: MMIO from translated code. The shadow never maps a device's page
 * (open bus, with no device, is the page of ones: see mmu_fill), so an access
 * there faults; when the guest instruction was
 * translated into that single host mov, it becomes an MMIO exit record for the
 * core and the guest resumes after it. Other forms stop with a clear message.
 */
#include <Zydis/Zydis.h>
#include <string.h>

#include "bt_mmio.h"
#include "log.h"
#include "monitor.h"

static int host_gpr(ZydisRegister r, int *size)
{
	static const ZydisRegister r32[] = { ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_ECX,
		ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EBX, ZYDIS_REGISTER_R15D, ZYDIS_REGISTER_EBP,
		ZYDIS_REGISTER_ESI, ZYDIS_REGISTER_EDI };
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

/* An access of len bytes at pa through the core's devices. Nonzero: the guest stopped. */
static int mmio_now(struct bt *bt, uint32_t pa, uint8_t len, bool write, uint8_t *data)
{
	struct exit_record ex;

	memset(&ex, 0, sizeof(ex));
	ex.reason = EXIT_MMIO;
	ex.eip = bt->cpu.eip;
	ex.mmio.addr = pa;
	ex.mmio.len = len;
	ex.mmio.is_write = write;
	ex.mmio.data = data;
	return monitor_dispatch(bt->mon, &ex) != 0 || monitor_stopping(bt->mon);
}

/*
 * Any other instruction (add [m], r; cmp; push [m]; bts; x87 ...): read the device
 * first if it reads, map the scratch page (page 1 of the open-bus memfd) holding
 * that data writable at the page, and single-step the host instruction; on the trap
 * bt_mmio_step_end sends what it wrote to the device. 0, or -1: not such a form.
 */
static int mmio_step_begin(struct bt *bt, ucontext_t *uc, int view, uint32_t va, uint32_t pa,
			   const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op)
{
	uint8_t *data = bt->openbus + 4096 + (pa & 0xfff);
	unsigned size = 0, i;
	bool rd = false, wr = false;

	for (i = 0; i < in->operand_count; i++)
		if (op[i].type == ZYDIS_OPERAND_TYPE_MEMORY && op[i].mem.type == ZYDIS_MEMOP_TYPE_MEM) {
			size = op[i].size / 8;
			rd = op[i].actions & ZYDIS_OPERAND_ACTION_MASK_READ;
			wr = op[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
			break;
		}
	if (!size || size > 8 || (pa & 0xfff) + size > 4096 || (!rd && !wr))
		return -1;
	memset(bt->openbus + 4096, 0, 4096);
	if (rd && mmio_now(bt, pa, (uint8_t)size, false, data)) {
		bt->cpu.core_exit.reason = EXIT_KICK; /* the guest stopped: let the core see */
		bt_leave_from_context(bt, uc, BT_EXIT_CORE);
		return 0;
	}
	if (mmu_devpage_map(bt, view, va))
		return -1;
	bt->mmio_step = (typeof(bt->mmio_step)){ true, wr, view, va, pa, (uint8_t)size };
	bt->mmio_emulated++;
	uc->uc_mcontext.gregs[REG_EFL] |= 0x100;
	return 0;
}

void bt_mmio_step_end(struct bt *bt, bool completed)
{
	typeof(bt->mmio_step) *s = &bt->mmio_step;

	s->active = false;
	mmu_devpage_unmap(bt, s->view, s->va);
	/* A write may have sent an NMI IPI or stopped the guest: leave at the block's end. */
	if (completed && s->write &&
	    (mmio_now(bt, s->pa, s->size, true, bt->openbus + 4096 + (s->pa & 0xfff)) ||
	     monitor_nmi_pending(bt->mon))) {
		bt->cpu.exit_request = 1;
		tc_unlink_all_async(bt);
	}
}

void bt_mmio_fault(struct bt *bt, ucontext_t *uc, int view, uint32_t va, uint32_t pa)
{
	struct bt_cpu *c = &bt->cpu;
	struct exit_record *ex = &c->core_exit;
	uint8_t *pc = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	struct tb *tb;
	int i, reg = -1, size = 0, rsz = 0;
	bool write;

	if (bt_sync_from_context(bt, uc, &tb, &i) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(bt->dec64, pc, 15, &in, op)))
		goto unsupported;
	/* The guest instruction must be exactly this host instruction. */
	if ((uint32_t)(pc - tb->code) + in.length != tb->imap[i + 1].host || tb->imap[i].spill != 0xff)
		goto step;
	write = op[0].type == ZYDIS_OPERAND_TYPE_MEMORY;
	size = op[write ? 0 : 1].size / 8;
	memset(ex, 0, sizeof(*ex));
	if (write && in.mnemonic == ZYDIS_MNEMONIC_MOV) {
		uint32_t v;

		if (op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			v = (uint32_t)op[1].imm.value.u;
		} else {
			reg = host_gpr(op[1].reg.value, &rsz);
			if (reg < 0)
				goto unsupported;
			v = c->gpr[reg];
		}
		memcpy(c->io_buf, &v, 4);
	} else if (!write && (in.mnemonic == ZYDIS_MNEMONIC_MOV || in.mnemonic == ZYDIS_MNEMONIC_MOVZX ||
			      in.mnemonic == ZYDIS_MNEMONIC_MOVSX)) {
		reg = host_gpr(op[0].reg.value, &rsz);
		if (reg < 0)
			goto unsupported;
		c->mmio = (typeof(c->mmio)){ true, (uint8_t)reg, (uint8_t)size, (uint8_t)rsz,
					     in.mnemonic == ZYDIS_MNEMONIC_MOVSX };
	} else {
		goto step;
	}
	ex->reason = EXIT_MMIO;
	ex->eip = c->eip;
	ex->mmio.addr = pa;
	ex->mmio.len = (uint8_t)size;
	ex->mmio.is_write = write;
	ex->mmio.data = c->io_buf;
	bt_adapt_fault(bt, c->eip, ADAPT_MMIO);
	c->eip = tb->eip + tb->imap[i + 1].guest;
	bt->mmio_emulated++;
	bt_leave_from_context(bt, uc, BT_EXIT_CORE);
	return;
step:
	if (mmio_step_begin(bt, uc, view, va, pa, &in, op) == 0)
		return;
unsupported:
	bt_unsupported(bt, c->eip, "MMIO access at 0x%x (guest address 0x%x) by an instruction "
		       "the translator cannot emulate", pa, va);
	bt_leave_from_context(bt, uc, BT_EXIT_CORE);
}

void bt_mmio_complete(struct bt *bt)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t v = 0, mask;

	if (!c->mmio.pending)
		return;
	c->mmio.pending = false;
	memcpy(&v, c->io_buf, c->mmio.size);
	if (c->mmio.sign && c->mmio.size < 4)
		v = c->mmio.size == 1 ? (uint32_t)(int32_t)(int8_t)v : (uint32_t)(int32_t)(int16_t)v;
	mask = c->mmio.rsize >= 4 ? ~0u : (1u << (c->mmio.rsize * 8)) - 1;
	c->gpr[c->mmio.reg] = (c->gpr[c->mmio.reg] & ~mask) | (v & mask);
}
