/* uart16550.h: COM1 as a 16550A; transmit goes to a host fd, receive is idle. */
#ifndef TANDEM_UART16550_H
#define TANDEM_UART16550_H

#include <stdint.h>

#include "bus.h"
#include "pic8259.h"

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_OUTBUF 4096

struct uart {
	uint8_t ier, iir_pending, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thr_irq;            /* THR-empty interrupt latched (cleared by an IIR read or a THR write) */
	int out_fd;              /* transmitted bytes go here; -1 drops them */
	struct pic *pic;
	int irq;
	uint64_t tx_bytes;
	unsigned outlen;
	char outbuf[UART_OUTBUF]; /* flushed at each newline, when full, and by uart_flush */
};

void uart_init(struct uart *u, int out_fd, struct pic *pic, int irq);
int uart_register(struct uart *u, struct bus *ports, uint16_t base);
/* Write out whatever is buffered. */
void uart_flush(struct uart *u);

#endif
