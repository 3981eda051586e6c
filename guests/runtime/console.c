/* console.c: polled COM1 16550 output and a small printf family. */
#include "rt.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_IER 1
#define UART_DLL 0 /* divisor latch (DLAB=1) */
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20
#define UART_POLL_MAX 100000 /* a broken UART drops output instead of hanging */

void console_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB */
	outb(COM1 + UART_DLL, 1);    /* 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xC7); /* FIFO on, clear both, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS; OUT2 off: no UART interrupts */
}

void console_putc(char c)
{
	for (int i = 0; i < UART_POLL_MAX; i++)
		if (inb(COM1 + UART_LSR) & LSR_THRE)
			break;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		console_putc(s[i]);
}

/* A formatter writes through a sink; the console and snprintf differ only there. */
struct sink {
	char *buf; /* NULL: the console */
	size_t size, len;
};

static void emit(struct sink *sk, char c)
{
	if (!sk->buf)
		console_putc(c);
	else if (sk->len + 1 < sk->size)
		sk->buf[sk->len] = c;
	sk->len++;
}

static void emit_pad(struct sink *sk, const char *s, size_t n, int width, int left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;
	if (!left && pad == '0' && n && (*s == '-')) { /* sign before zeros */
		emit(sk, *s++);
		n--;
	}
	if (!left)
		while (fill-- > 0)
			emit(sk, pad);
	while (n--)
		emit(sk, *s++);
	while (left && fill-- > 0)
		emit(sk, ' ');
}

/* Digits of v in base (10 or 16) into the end of tmp; returns the first digit. */
static char *utoa(char *end, uint64_t v, unsigned base, int upper)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char *p = end;
	do {
		*--p = dig[v % base];
		v /= base;
	} while (v);
	return p;
}

static void format(struct sink *sk, const char *f, va_list ap)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp);
	for (; *f; f++) {
		if (*f != '%') {
			emit(sk, *f);
			continue;
		}
		int left = 0, width = 0, lng = 0;
		char pad = ' ';
		for (f++; *f == '-' || *f == '0'; f++) {
			if (*f == '-')
				left = 1;
			else
				pad = '0';
		}
		for (; *f >= '0' && *f <= '9'; f++)
			width = width * 10 + (*f - '0');
		for (; *f == 'l'; f++)
			lng++;
		uint64_t u;
		const char *s;
		char *p;
		switch (*f) {
		case 'd':
		case 'i': {
			int64_t v = lng >= 2 ? va_arg(ap, int64_t) : (int64_t)va_arg(ap, long);
			p = utoa(end, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, 0);
			if (v < 0)
				*--p = '-';
			emit_pad(sk, p, (size_t)(end - p), width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			u = lng >= 2 ? va_arg(ap, uint64_t) : (uint64_t)va_arg(ap, unsigned long);
			p = utoa(end, u, *f == 'u' ? 10 : 16, *f == 'X');
			emit_pad(sk, p, (size_t)(end - p), width, left, pad);
			break;
		case 'p':
			p = utoa(end, (uintptr_t)va_arg(ap, void *), 16, 0);
			while (end - p < 8)
				*--p = '0';
			emit(sk, '0');
			emit(sk, 'x');
			emit_pad(sk, p, (size_t)(end - p), width - 2, left, ' ');
			break;
		case 's':
			s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			emit_pad(sk, s, strlen(s), width, left, ' ');
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			emit_pad(sk, tmp, 1, width, left, ' ');
			break;
		case '%':
			emit(sk, '%');
			break;
		case '\0':
			return;
		default: /* unknown: print it verbatim */
			emit(sk, '%');
			emit(sk, *f);
			break;
		}
	}
}

int vprintf(const char *fmt, va_list ap)
{
	struct sink sk = {0};
	format(&sk, fmt, ap);
	return (int)sk.len;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	char dummy;
	struct sink sk = {.buf = size ? buf : &dummy, .size = size};
	format(&sk, fmt, ap);
	if (size)
		buf[sk.len < size ? sk.len : size - 1] = '\0';
	return (int)sk.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
