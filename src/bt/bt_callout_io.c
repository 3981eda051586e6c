/*
 * bt_callout_io.c: port I/O. The access leaves the cache as an exit record for
 * the core (the same dispatcher and devices as the KVM engine); an IN or INS is
 * completed with the data when the core runs the engine again.
 */
#include <string.h>

#include "bt_callout.h"
#include "monitor.h"

#define EFL_DF 0x400u

/*
 * CPL <= IOPL, or every bit of the access clear in the TSS I/O permission bitmap
 * (two bytes are always read: the map must reach port / 8 + 1). 0 allowed, -1 with
 * #GP(0) or a #PF reading the TSS raised.
 */
static int io_check(struct co *k, uint16_t port, unsigned size)
{
	struct bt_cpu *c = k->c;
	uint16_t base = 0, bits = 0xffff;
	uint32_t off;

	if (c->cpl <= ((c->vflags >> 12) & 3))
		return 0;
	if (c->tr_limit < 0x67 || mmu_read(k->bt, c->tr_base + 0x66, &base, 2, false))
		goto deny;
	off = (uint32_t)base + port / 8;
	if (off + 1 > c->tr_limit || mmu_read(k->bt, c->tr_base + off, &bits, 2, false))
		goto deny;
	if (!((bits >> (port & 7)) & ((1u << size) - 1)))
		return 0;
deny:
	if (c->exc.vector < 0)
		bt_raise(k->bt, EXC_GP, true, 0);
	return -1;
}

static void io_record(struct co *k, uint16_t port, uint8_t size, bool write, uint32_t count)
{
	struct exit_record *ex = &k->c->core_exit;

	memset(ex, 0, sizeof(*ex));
	ex->reason = EXIT_IO;
	ex->eip = k->site->eip;
	ex->io.port = port;
	ex->io.size = size;
	ex->io.is_write = write;
	ex->io.count = count;
	ex->io.data = k->c->io_buf;
}

/*
 * in/out without leaving the cache: the exit record goes straight to the core's
 * dispatcher (the same device models as every engine) and the guest goes on,
 * unless the access ended the guest (the debug-exit port).
 */
int co_io(struct co *k)
{
	const struct bt_site *s = k->site;
	struct bt_cpu *c = k->c;
	uint16_t port = s->io_dx ? (uint16_t)c->gpr[2] : s->io_port;
	uint32_t mask = s->io_size == 4 ? ~0u : (1u << (s->io_size * 8)) - 1, v = 0;

	if (io_check(k, port, s->io_size))
		return co_pending(k);
	io_record(k, port, s->io_size, !s->io_in, 1);
	if (!s->io_in)
		memcpy(c->io_buf, &c->gpr[0], s->io_size);
	if (monitor_dispatch(k->bt->mon, &c->core_exit) != 0 || monitor_stopping(k->bt->mon)) {
		/* Let the core see it: it checks the exit port after a (no-op) kick. */
		c->core_exit.reason = EXIT_KICK;
		c->eip = k->next;
		return BT_EXIT_CORE;
	}
	if (s->io_in) {
		memcpy(&v, c->io_buf, s->io_size);
		c->gpr[0] = (c->gpr[0] & ~mask) | (v & mask);
	}
	/* The access may have unmasked or raised an interrupt the guest can take now. */
	if ((c->vflags & 0x200) && monitor_irq_pending(k->bt->mon)) {
		c->eip = k->next;
		return BT_EXIT_RESUME;
	}
	return CO_NEXT;
}

int co_iostr(struct co *k)
{
	struct bt_cpu *c = k->c;
	bool in = k->in.mnemonic == ZYDIS_MNEMONIC_INSB || k->in.mnemonic == ZYDIS_MNEMONIC_INSW ||
		  k->in.mnemonic == ZYDIS_MNEMONIC_INSD;
	bool rep = k->in.attributes & ZYDIS_ATTRIB_HAS_REP;
	uint8_t size = (uint8_t)(k->in.operand_width / 8);
	int8_t step = (int8_t)((c->hflags & EFL_DF) ? -size : size);
	uint32_t count = rep ? c->gpr[1] : 1, i;
	int sseg = co_str_src_seg(k);

	if (k->in.mnemonic == ZYDIS_MNEMONIC_INSB || k->in.mnemonic == ZYDIS_MNEMONIC_OUTSB)
		size = 1, step = (int8_t)((c->hflags & EFL_DF) ? -1 : 1);
	if (io_check(k, (uint16_t)c->gpr[2], size))
		return co_pending(k);
	if (k->in.address_width != 32)
		return co_unsupported(k, "16-bit addressing in");
	if (count == 0)
		return CO_NEXT;
	if (count > sizeof(c->io_buf) / size)
		count = sizeof(c->io_buf) / size;
	if (in) {
		io_record(k, (uint16_t)c->gpr[2], size, false, count);
		c->ins = (typeof(c->ins)){ true, rep, size, step, count, k->site->eip, k->next };
		return BT_EXIT_CORE;
	}
	for (i = 0; i < count; i++)
		if (mmu_read(k->bt, bt_lin(c->seg, sseg, c->gpr[6] + (uint32_t)(step * (int32_t)i)),
			     c->io_buf + i * size,
			     size, c->cpl == 3))
			break;
	if (i == 0)
		return co_pending(k);
	c->exc.vector = -1; /* a fault past the first element is taken on the restart */
	io_record(k, (uint16_t)c->gpr[2], size, true, i);
	c->gpr[6] += (uint32_t)(step * (int32_t)i);
	if (rep)
		c->gpr[1] -= i;
	c->eip = (rep && c->gpr[1]) ? k->site->eip : k->next;
	return BT_EXIT_CORE;
}

/* Called before the guest runs again: hand an IN's or INS's data to the guest. */
void bt_io_complete(struct bt *bt)
{
	struct bt_cpu *c = &bt->cpu;
	uint32_t i;

	if (c->io_pending_in) {
		uint32_t v = 0, mask = c->io_in_size == 4 ? ~0u : (1u << (c->io_in_size * 8)) - 1;

		memcpy(&v, c->io_buf, c->io_in_size);
		c->gpr[0] = (c->gpr[0] & ~mask) | (v & mask);
		c->io_pending_in = false;
	}
	if (!c->ins.pending)
		return;
	c->ins.pending = false;
	for (i = 0; i < c->ins.count; i++)
		if (mmu_write(bt, bt_lin(c->seg, SEG_ES, c->gpr[7] + (uint32_t)(c->ins.step * (int32_t)i)),
			      c->io_buf + i * c->ins.size, c->ins.size, c->cpl == 3))
			break;
	c->gpr[7] += (uint32_t)(c->ins.step * (int32_t)i);
	if (c->ins.rep)
		c->gpr[1] -= i;
	if (i < c->ins.count) {
		c->eip = c->ins.eip; /* the #PF is delivered at the instruction */
		return;
	}
	c->eip = (c->ins.rep && c->gpr[1]) ? c->ins.eip : c->ins.next;
}
