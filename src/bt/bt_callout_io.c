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

/* One port access of count elements of size bytes in bt->io_buf, at the devices now. */
static enum mon_action io_now(struct co *k, uint16_t port, uint8_t size, bool write, uint32_t count)
{
	struct exit_record ex;

	exit_make_io(&ex, k->site->eip, k->c->vflags & 0x200, port, size, write, count,
	             k->bt->io_buf);
	return monitor_access(k->bt->mon, &ex);
}

/*
 * in/out without leaving the cache: the exit record goes straight to the core's
 * devices (the same models as every engine) and the guest goes on, unless the
 * access ended the run (the debug-exit port, a reset).
 */
int co_io(struct co *k)
{
	const struct bt_site *s = k->site;
	struct bt_cpu *c = k->c;
	uint16_t port = s->io_dx ? (uint16_t)c->gpr[2] : s->io_port;
	uint32_t mask = s->io_size == 4 ? ~0u : (1u << (s->io_size * 8)) - 1, v = 0;

	if (io_check(k, port, s->io_size))
		return co_pending(k);
	if (!s->io_in)
		memcpy(k->bt->io_buf, &c->gpr[0], s->io_size);
	if (io_now(k, port, s->io_size, !s->io_in, 1) == MON_STOP) {
		c->eip = k->next;
		return co_stop(k, s->eip);
	}
	if (s->io_in) {
		memcpy(&v, k->bt->io_buf, s->io_size);
		c->gpr[0] = (c->gpr[0] & ~mask) | (v & mask);
	}
	/* The access may have unmasked or raised an interrupt the guest can take now. */
	if ((c->vflags & 0x200) && monitor_irq_pending(k->bt->mon)) {
		c->eip = k->next;
		return BT_EXIT_RESUME;
	}
	return CO_NEXT;
}

/*
 * ins/outs (rep or not), in the callout too: up to sizeof(io_buf) bytes per round.
 * outs reads its elements first (a #PF on the first is taken before any access; one
 * later ends the round there and is taken on the restart), then the devices get them;
 * ins gets them from the devices, then stores them (a #PF there is taken at the
 * instruction, with the elements before it stored and counted). A rep that is not done
 * resumes at the instruction: the next round, or an interrupt between two.
 */
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
	uint16_t port = (uint16_t)c->gpr[2];
	enum mon_action act;

	if (k->in.mnemonic == ZYDIS_MNEMONIC_INSB || k->in.mnemonic == ZYDIS_MNEMONIC_OUTSB)
		size = 1, step = (int8_t)((c->hflags & EFL_DF) ? -1 : 1);
	if (io_check(k, port, size))
		return co_pending(k);
	if (k->in.address_width != 32)
		return co_unsupported(k, "16-bit addressing in");
	if (count == 0)
		return CO_NEXT;
	if (count > sizeof(k->bt->io_buf) / size)
		count = sizeof(k->bt->io_buf) / size;
	if (in) {
		/*
		 * The destinations first (i386 and QEMU are restartable: no port is read
		 * for an element whose store faults): only the elements up to the first
		 * fault are read from the device; that fault is taken on the restart.
		 */
		uint32_t n,
		    last = 1; /* the last page found writable (page-aligned, so 1 is none) */

		for (n = 0; n < count; n++) {
			uint32_t a =
			    bt_lin(c->seg, SEG_ES, c->gpr[7] + (uint32_t)(step * (int32_t)n));
			uint32_t e = a + size - 1u, pa;

			if ((a & ~0xfffu) != last) {
				if (mmu_translate(k->bt, a, ACC_WRITE, c->cpl == 3, &pa, NULL))
					break;
				last = a & ~0xfffu;
			}
			if ((e & ~0xfffu) != last) {
				if (mmu_translate(k->bt, e, ACC_WRITE, c->cpl == 3, &pa, NULL))
					break;
				last = e & ~0xfffu;
			}
		}
		if (n == 0)
			return co_pending(k); /* the #PF of the first element, nothing read */
		c->exc.vector = -1;
		count = n;
		act = io_now(k, port, size, false, count);
		for (i = 0; i < count; i++)
			if (mmu_write(
			        k->bt,
			        bt_lin(c->seg, SEG_ES, c->gpr[7] + (uint32_t)(step * (int32_t)i)),
			        k->bt->io_buf + i * size, size, c->cpl == 3))
				break;
		c->gpr[7] += (uint32_t)(step * (int32_t)i);
	} else {
		for (i = 0; i < count; i++)
			if (mmu_read(
			        k->bt,
			        bt_lin(c->seg, sseg, c->gpr[6] + (uint32_t)(step * (int32_t)i)),
			        k->bt->io_buf + i * size, size, c->cpl == 3))
				break;
		if (i == 0)
			return co_pending(k);
		c->exc.vector = -1; /* a fault past the first element is taken on the restart */
		act = io_now(k, port, size, true, i);
		c->gpr[6] += (uint32_t)(step * (int32_t)i);
	}
	if (rep)
		c->gpr[1] -= i;
	if (act == MON_STOP) {
		c->eip = (rep && c->gpr[1]) ? k->site->eip : k->next;
		return co_stop(k, k->site->eip);
	}
	if (in && i < count)
		return co_pending(k); /* the #PF is delivered at the instruction */
	c->eip = (rep && c->gpr[1]) ? k->site->eip : k->next;
	return BT_EXIT_RESUME;
}
