/* i8042.c: the keyboard controller: status, command byte, self-tests, a quiet keyboard, reset. */
#include "i8042.h"

#include <string.h>

#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08 /* the last write was to the command port */
#define ST_UNLOCKED 0x10
#define ST_AUXDATA 0x20
#define CTR_KBD_INT 0x01
#define CTR_AUX_INT 0x02
#define CTR_KBD_OFF 0x10
#define CTR_AUX_OFF 0x20

void i8042_init(struct i8042 *k, struct pic *pic, void (*reset)(void *opaque), void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->pic = pic;
	k->reset = reset;
	k->reset_opaque = opaque;
	k->status = ST_CMD | ST_UNLOCKED; /* QEMU's reset state */
	k->ctr = CTR_KBD_INT | CTR_AUX_INT;
	k->outport = 0x03; /* no reset, A20 on */
}

/* IRQ1/IRQ12 follow the head of the queue and the command byte's enables. */
static void update(struct i8042 *k)
{
	bool aux = k->qlen && k->queue_aux[0];

	k->status = (uint8_t)((k->status & ~(ST_OBF | ST_AUXDATA)) | (k->qlen ? ST_OBF : 0) |
	                      (aux ? ST_AUXDATA : 0));
	if (!k->pic)
		return;
	pic_set_irq(k->pic, 1, k->qlen && !aux && (k->ctr & CTR_KBD_INT));
	pic_set_irq(k->pic, 12, k->qlen && aux && (k->ctr & CTR_AUX_INT));
}

static void push(struct i8042 *k, uint8_t v, bool aux)
{
	if (k->qlen < I8042_QUEUE) {
		k->queue[k->qlen] = v;
		k->queue_aux[k->qlen++] = aux;
	}
	update(k);
}

static uint8_t pop(struct i8042 *k)
{
	uint8_t v;

	if (!k->qlen)
		return k->queue[0]; /* an empty buffer reads its last byte again, as hardware */
	v = k->queue[0];
	memmove(k->queue, k->queue + 1, (size_t)(k->qlen - 1));
	memmove(k->queue_aux, k->queue_aux + 1, (size_t)(k->qlen - 1) * sizeof(bool));
	k->qlen--;
	k->queue[k->qlen] = v;
	update(k);
	return v;
}

static void pulse_reset(struct i8042 *k)
{
	k->resets++;
	if (k->reset)
		k->reset(k->reset_opaque);
}

/* A byte for the keyboard itself (0x60 with no controller command pending). */
static void keyboard(struct i8042 *k, uint8_t v)
{
	push(k, 0xfa, false); /* ACK */
	if (v == 0xff)
		push(k, 0xaa, false); /* self-test passed */
	else if (v == 0xf2) {
		push(k, 0xab, false); /* an MF2 keyboard */
		push(k, 0x83, false);
	} else if (v == 0xee && k->qlen && k->queue[k->qlen - 1] == 0xfa) {
		k->queue[k->qlen - 1] = 0xee; /* echo answers itself, not ACK */
	}
}

static void command(struct i8042 *k, uint8_t c)
{
	switch (c) {
	case 0x20:
		push(k, k->ctr, false);
		break;
	case 0xa7:
		k->ctr |= CTR_AUX_OFF;
		break;
	case 0xa8:
		k->ctr &= (uint8_t)~CTR_AUX_OFF;
		break;
	case 0xa9:
	case 0xab:
		push(k, 0x00, false);
		break; /* interface tests pass */
	case 0xaa:     /* controller self-test */
		k->status |= ST_SYS;
		push(k, 0x55, false);
		break;
	case 0xad:
		k->ctr |= CTR_KBD_OFF;
		break;
	case 0xae:
		k->ctr &= (uint8_t)~CTR_KBD_OFF;
		break;
	case 0xd0:
		push(k, k->outport, false);
		break;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending_cmd = c;
		break;
	default:
		if (c >= 0xf0 && !(c & 1)) /* pulse output lines; bit 0 low: reset */
			pulse_reset(k);
		break;
	}
}

static void data_write(struct i8042 *k, uint8_t v)
{
	uint8_t c = k->pending_cmd;

	k->pending_cmd = 0;
	switch (c) {
	case 0x60:
		k->ctr = v;
		if (v & ST_SYS)
			k->status |= ST_SYS;
		update(k);
		break;
	case 0xd1:
		k->outport = v;
		if (!(v & 1))
			pulse_reset(k);
		break;
	case 0xd2:
		push(k, v, false);
		break; /* as if the keyboard had sent it */
	case 0xd3:
		push(k, v, true);
		break; /* as if the mouse had sent it */
	case 0xd4:
		break; /* to the mouse: there is none */
	default:
		keyboard(k, v);
		break;
	}
}

static void data_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct i8042 *k = opaque;

	(void)offset;
	(void)size;
	if (!is_write) {
		*val = pop(k);
		return;
	}
	k->status &= (uint8_t)~ST_CMD;
	data_write(k, (uint8_t)*val);
}

static void cmd_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct i8042 *k = opaque;

	(void)offset;
	(void)size;
	if (!is_write) {
		*val = k->status;
		return;
	}
	k->status |= ST_CMD;
	command(k, (uint8_t)*val);
}

int i8042_register(struct i8042 *k, struct bus *ports)
{
	int r = bus_register(ports, I8042_DATA, 1, data_io, k, "i8042");

	return r ? r : bus_register(ports, I8042_CMD, 1, cmd_io, k, "i8042");
}
