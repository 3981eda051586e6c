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
	bool thr_irq; /* THR-empty interrupt latched (cleared by an IIR read or a THR write) */
	int out_fd;   /* transmitted bytes go here; -1 drops them */
	struct pic *pic;
	int irq;
	uint64_t tx_bytes;
	uint64_t dropped;  /* bytes never written: a broken output, or dropped at --timeout */
	volatile int stop; /* set (from a signal handler) once --timeout has passed: a
	                    * write blocked on a stalled reader then gives up */
	unsigned outlen;
	char outbuf[UART_OUTBUF]; /* flushed at each newline, when full, and by uart_flush */
};

/* Reset state (16550A after power-on); output goes to out_fd, interrupts to pic irq. */
void uart_init(struct uart *u, int out_fd, struct pic *pic, int irq);
/* Claim the 8 ports at base (0x3F8 for COM1). 0, or bus_register's -EEXIST/-ENOSPC. */
int uart_register(struct uart *u, struct bus *ports, uint16_t base);
/*
 * uart_flush: write out whatever is buffered, waiting for a slow reader; a write
 * interrupted by a signal after u->stop was set drops the rest (counted in
 * dropped). A write error drops all further output (one warning). Never fails.
 */
void uart_flush(struct uart *u);
/*
 * uart_flush_nowait: write what the output takes without blocking (poll, then
 * chunks of at most PIPE_BUF), drop the rest. For the exit paths of --timeout and
 * the watchdog, where a stalled reader must not keep tandem alive.
 */
void uart_flush_nowait(struct uart *u);

#endif
