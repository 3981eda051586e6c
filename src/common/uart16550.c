/* uart16550.c: a 16550A whose transmitter is instant and whose receiver never gets a byte. */
#include "uart16550.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Register offsets from the base port. */
enum {
	UART_RBR_THR = 0, /* DLL when DLAB */
	UART_IER = 1,     /* DLM when DLAB */
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define UART_IER_THRI 0x02
#define UART_IIR_NONE 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_FIFO 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_LCR_DLAB 0x80
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_IDLE 0x60 /* THRE | TEMT, no data ready */
/* With nothing attached, the lines a null-modem host port would show: DCD, DSR, CTS. */
#define UART_MSR_IDLE 0xb0

static bool uart_irq_pending(const struct uart *u)
{
	return u->thr_irq && (u->ier & UART_IER_THRI);
}

/* Recompute IIR and the ISA line; OUT2 gates the 16550's INTR onto the bus on a PC. */
static void uart_update(struct uart *u)
{
	bool pending = uart_irq_pending(u);

	u->iir_pending = pending ? UART_IIR_THRI : UART_IIR_NONE;
	if (u->pic)
		pic_set_irq(u->pic, u->irq, pending && (u->mcr & UART_MCR_OUT2));
}

void uart_init(struct uart *u, int out_fd, struct pic *pic, int irq)
{
	memset(u, 0, sizeof(*u));
	u->out_fd = out_fd;
	u->pic = pic;
	u->irq = irq;
	u->iir_pending = UART_IIR_NONE;
	u->lsr = UART_LSR_IDLE;
	u->msr = UART_MSR_IDLE;
	u->dll = 0x01; /* 115200 baud */
}

static int uart_wait_writable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};

	return poll(&p, 1, 1000) == 1 ? 0 : -EAGAIN;
}

void uart_flush(struct uart *u)
{
	unsigned done = 0;

	while (u->out_fd >= 0 && done < u->outlen) {
		ssize_t n = write(u->out_fd, u->outbuf + done, u->outlen - done);

		if (n > 0) {
			done += (unsigned)n;
			continue;
		}
		if (n < 0 && errno == EINTR && !u->stop)
			continue;
		if (n < 0 && errno == EINTR)
			break; /* --timeout passed while the reader stalled */
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    uart_wait_writable(u->out_fd) == 0)
			continue;
		/* A broken output must not take the guest down: drop from here on. */
		log_warn("uart: write to fd %d failed (%s); dropping further output", u->out_fd,
		         n < 0 ? strerror(errno) : "no progress");
		u->out_fd = -1;
	}
	u->dropped += u->outlen - done;
	u->outlen = 0;
}

void uart_flush_nowait(struct uart *u)
{
	unsigned done = 0;

	while (u->out_fd >= 0 && done < u->outlen) {
		struct pollfd p = {.fd = u->out_fd, .events = POLLOUT};
		unsigned chunk = u->outlen - done < PIPE_BUF ? u->outlen - done : PIPE_BUF;
		ssize_t n;

		if (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT))
			break;
		n = write(u->out_fd, u->outbuf + done, chunk);
		if (n <= 0)
			break;
		done += (unsigned)n;
	}
	u->dropped += u->outlen - done;
	u->outlen = 0;
}

static void uart_transmit(struct uart *u, uint8_t c)
{
	/* Loopback disconnects the transmitter from the line; there is no receiver to feed. */
	if (!(u->mcr & UART_MCR_LOOP)) {
		u->outbuf[u->outlen++] = (char)c;
		u->tx_bytes++;
		if (c == '\n' || u->outlen == UART_OUTBUF)
			uart_flush(u);
	}
	/* The shift register empties at once, so THR is empty again: THRE fires anew. */
	u->thr_irq = true;
}

static void uart_write(struct uart *u, unsigned reg, uint8_t val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t old;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = val;
		else
			uart_transmit(u, val);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = val;
			break;
		}
		old = u->ier;
		u->ier = val & 0x0f;
		/* Enabling THRE with THR empty (always) raises it at once (8250 datasheet). */
		if (!(old & UART_IER_THRI) && (u->ier & UART_IER_THRI))
			u->thr_irq = true;
		break;
	case UART_IIR_FCR:
		/* Bits 1-2 reset FIFOs (empty anyway) and self-clear. */
		u->fcr = val & 0xc9;
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & 0x1f;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only (factory test writes on real parts) */
	default:
		u->scr = val;
		break;
	}
}

/* In loopback MSR's line bits echo MCR: CTS=RTS, DSR=DTR, RI=OUT1, DCD=OUT2. */
static uint8_t uart_msr(const struct uart *u)
{
	uint8_t m = u->mcr;

	if (!(m & UART_MCR_LOOP))
		return u->msr;
	return (uint8_t)(((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
	                 ((m & 0x08) << 4));
}

static uint8_t uart_read(struct uart *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t v;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? u->dll : 0;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		v = uart_irq_pending(u) ? UART_IIR_THRI : UART_IIR_NONE;
		/* Reading IIR while it reports THRE is what clears THRE. */
		if (v == UART_IIR_THRI)
			u->thr_irq = false;
		return v | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return u->lsr;
	case UART_MSR:
		return uart_msr(u);
	default:
		return u->scr;
	}
}

static void uart_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct uart *u = opaque;
	uint64_t out = 0;
	unsigned i;

	/* A wide access is consecutive byte accesses on the ISA bus. */
	for (i = 0; i < size; i++) {
		uint64_t reg = offset + i;
		uint8_t b = 0xff;

		if (reg < 8) {
			if (is_write)
				uart_write(u, (unsigned)reg, (uint8_t)(*val >> (8 * i)));
			else
				b = uart_read(u, (unsigned)reg);
			uart_update(u);
		}
		out |= (uint64_t)b << (8 * i);
	}
	if (!is_write)
		*val = out;
}

int uart_register(struct uart *u, struct bus *ports, uint16_t base)
{
	return bus_register(ports, base, 8, uart_io, u, "uart16550");
}
