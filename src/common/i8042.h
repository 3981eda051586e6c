/*
 * i8042.h: the PC keyboard controller at 0x60/0x64 as far as kernels probe it
 * (QEMU's pckbd as the reference): the status and data registers, the command
 * byte (0x20/0x60), the self-tests (0xAA -> 0x55, 0xAB/0xA9 -> 0x00), enabling
 * and disabling both ports, the output port (0xD0/0xD1), echoing a byte through
 * the keyboard or the aux port (0xD2/0xD3), a keyboard that answers reset (0xFF:
 * 0xFA 0xAA), identify (0xF2: 0xFA 0xAB 0x83) and acknowledges the rest, and IRQ1
 * and IRQ12 per the command byte. No keys are ever pressed and no mouse is there
 * (0xD4 writes to the mouse get no answer, as with a missing device). A reset
 * pulse (command 0xFE, or 0xD1 with bit 0 clear) calls the reset hook: the
 * monitor ends the run then, as QEMU's -no-reboot does.
 */
#ifndef TANDEM_I8042_H
#define TANDEM_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "pic8259.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_QUEUE 16

struct i8042 {
	uint8_t status, ctr, outport;
	uint8_t pending_cmd;         /* the command whose data byte 0x60 expects, or 0 */
	uint8_t queue[I8042_QUEUE];  /* bytes the guest reads at 0x60, oldest first */
	bool queue_aux[I8042_QUEUE]; /* ... and whether each came from the aux port */
	int qlen;
	struct pic *pic;
	void (*reset)(void *opaque); /* the guest pulsed the reset line */
	void *reset_opaque;
	uint64_t resets;
};

/* Reset state; reset (NULL: ignored) is called on a reset pulse. */
void i8042_init(struct i8042 *k, struct pic *pic, void (*reset)(void *opaque), void *opaque);
/* Ports 0x60 and 0x64. 0 or -errno. */
int i8042_register(struct i8042 *k, struct bus *ports);

#endif
