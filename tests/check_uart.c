/* check_uart.c: COM1 transmit path, registers and the THRE interrupt. */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "check_suites.h"
#include "pic8259.h"
#include "uart16550.h"
#include "check_io.h"

#define COM1 UART_COM1_BASE

static struct bus ports;
static struct pic pic;
static struct uart uart;
static int pipefd[2];

CHECK_PORT_HELPERS(ports)

static void setup(void)
{
	bus_init(&ports, "port");
	pic_init(&pic);
	ck_assert_int_eq(pic_register(&pic, &ports), 0);
	ck_assert_int_eq(pipe2(pipefd, O_NONBLOCK), 0);
	uart_init(&uart, pipefd[1], &pic, UART_COM1_IRQ);
	ck_assert_int_eq(uart_register(&uart, &ports, COM1), 0);
	CHECK_PIC_REMAP();
}

static void teardown(void)
{
	close(pipefd[0]);
	close(pipefd[1]);
}

static ssize_t drain(char *buf, size_t len)
{
	ssize_t n = read(pipefd[0], buf, len);

	return n < 0 ? 0 : n;
}

START_TEST(test_transmit_line)
{
	char buf[16] = {0};

	outb(COM1, 'h');
	outb(COM1, 'i');
	/* Buffered until the newline. */
	ck_assert_int_eq(drain(buf, sizeof(buf)), 0);
	ck_assert_uint_eq(uart.outlen, 2);
	outb(COM1, '\n');
	ck_assert_uint_eq(uart.outlen, 0);
	ck_assert_int_eq(drain(buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "hi\n");
	ck_assert_uint_eq(uart.tx_bytes, 3);

	/* uart_flush pushes a partial line. */
	memset(buf, 0, sizeof(buf));
	outb(COM1, 'o');
	outb(COM1, 'k');
	uart_flush(&uart);
	ck_assert_int_eq(drain(buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ok");
	ck_assert_uint_eq(uart.tx_bytes, 5);
}
END_TEST

START_TEST(test_flush_when_full)
{
	static char buf[UART_OUTBUF + 16];
	unsigned i;

	for (i = 0; i < UART_OUTBUF + 3; i++)
		outb(COM1, 'x');
	ck_assert_int_eq(drain(buf, sizeof(buf)), UART_OUTBUF);
	ck_assert_uint_eq(uart.outlen, 3);
	ck_assert_uint_eq(uart.tx_bytes, UART_OUTBUF + 3);
}
END_TEST

START_TEST(test_dropped_output)
{
	uart.out_fd = -1;
	outb(COM1, 'a');
	outb(COM1, '\n');
	ck_assert_uint_eq(uart.tx_bytes, 2);
	ck_assert_uint_eq(uart.outlen, 0);
	/* Loopback: the byte never reaches the line. */
	uart.out_fd = pipefd[1];
	outb(COM1 + 4, 0x10);
	outb(COM1, '\n');
	ck_assert_uint_eq(uart.tx_bytes, 2);
	ck_assert_uint_eq(uart.outlen, 0);
}
END_TEST

/* A blocking pipe nobody reads: uart_flush_nowait writes what fits and returns. */
START_TEST(test_flush_nowait_stalled)
{
	int p[2], cap;
	unsigned i;

	ck_assert_int_eq(pipe(p), 0);
	cap = fcntl(p[1], F_SETPIPE_SZ, 4096);
	ck_assert_int_ge(cap, 4096);
	uart.out_fd = p[1];
	for (i = 0; i < (unsigned)cap; i++) /* fill the pipe: the last byte flushes */
		uart.outbuf[uart.outlen++] = 'x';
	uart_flush(&uart);
	ck_assert_uint_eq(uart.dropped, 0);
	for (i = 0; i < 100; i++)
		uart.outbuf[uart.outlen++] = 'y';
	uart_flush_nowait(&uart); /* would block forever as a plain write */
	ck_assert_uint_eq(uart.outlen, 0);
	ck_assert_uint_eq(uart.dropped, 100);
	close(p[0]);
	close(p[1]);
	uart.out_fd = pipefd[1];
}
END_TEST

START_TEST(test_divisor_latch)
{
	outb(COM1 + 1, 0x05); /* IER */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x0c);
	outb(COM1 + 1, 0x00);
	ck_assert_uint_eq(inb(COM1 + 0), 0x0c);
	ck_assert_uint_eq(inb(COM1 + 1), 0x00);
	outb(COM1 + 1, 0x12);
	ck_assert_uint_eq(inb(COM1 + 1), 0x12);
	outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	ck_assert_uint_eq(inb(COM1 + 3), 0x03);
	ck_assert_uint_eq(uart.dll, 0x0c);
	ck_assert_uint_eq(uart.dlm, 0x12);
	/* The same offsets are IER and RBR again; nothing was transmitted. */
	ck_assert_uint_eq(inb(COM1 + 1), 0x05);
	ck_assert_uint_eq(inb(COM1 + 0), 0x00);
	ck_assert_uint_eq(uart.tx_bytes, 0);
}
END_TEST

START_TEST(test_registers)
{
	ck_assert_uint_eq(inb(COM1 + 5), 0x60);
	outb(COM1, 'z');
	ck_assert_uint_eq(inb(COM1 + 5), 0x60);
	outb(COM1 + 7, 0xa5);
	ck_assert_uint_eq(inb(COM1 + 7), 0xa5);
	ck_assert_uint_eq(inb(COM1 + 2), 0x01);
	outb(COM1 + 2, 0x07); /* FIFO on and reset */
	ck_assert_uint_eq(inb(COM1 + 2), 0xc1);
	outb(COM1 + 4, 0x0b);
	ck_assert_uint_eq(inb(COM1 + 4), 0x0b);
	ck_assert_uint_eq(inb(COM1 + 6) & 0xf0, 0xb0);
	/* Loopback echoes MCR into MSR: Linux's 8250 probe expects 0x90 for 0x1a. */
	outb(COM1 + 4, 0x1a);
	ck_assert_uint_eq(inb(COM1 + 6) & 0xf0, 0x90);
	outb(COM1 + 4, 0x1f);
	ck_assert_uint_eq(inb(COM1 + 6) & 0xf0, 0xf0);
}
END_TEST

START_TEST(test_thre_interrupt)
{
	/* IER without OUT2: the interrupt is pending in IIR but not on the bus. */
	outb(COM1 + 1, 0x02);
	ck_assert(!pic_pending(&pic));
	ck_assert_uint_eq(inb(COM1 + 2), 0x02);
	ck_assert_uint_eq(inb(COM1 + 2), 0x01); /* the read cleared it */

	outb(COM1 + 4, 0x08); /* OUT2 */
	outb(COM1, 'a');
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x20 + UART_COM1_IRQ);
	ck_assert_uint_eq(inb(COM1 + 2), 0x02);
	ck_assert_uint_eq(inb(COM1 + 2), 0x01);
	outb(0x20, 0x20);
	ck_assert(!pic_pending(&pic));

	/* Each THR write raises a fresh edge once the line has dropped. */
	outb(COM1, 'b');
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(pic_ack(&pic), 0x24);
	ck_assert_uint_eq(inb(COM1 + 2), 0x02);
	outb(0x20, 0x20);

	/* IER 1->0->1 with THR empty raises it again, with FIFO bits once enabled. */
	outb(COM1 + 2, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + 1, 0x02);
	ck_assert(pic_pending(&pic));
	ck_assert_uint_eq(inb(COM1 + 2), 0xc2);
	ck_assert_uint_eq(inb(COM1 + 2), 0xc1);

	/* Clearing OUT2 lowers the line even with THRE pending. */
	outb(COM1, 'c');
	outb(COM1 + 4, 0x00);
	ck_assert_uint_eq(pic.chip[0].last_level & (1u << UART_COM1_IRQ), 0);
	ck_assert_uint_eq(uart.tx_bytes, 3);
}
END_TEST

Suite *uart_suite(void)
{
	Suite *s = suite_create("uart");
	TCase *tc = tcase_create("com1");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_transmit_line);
	tcase_add_test(tc, test_flush_nowait_stalled);
	tcase_add_test(tc, test_flush_when_full);
	tcase_add_test(tc, test_dropped_output);
	tcase_add_test(tc, test_divisor_latch);
	tcase_add_test(tc, test_registers);
	tcase_add_test(tc, test_thre_interrupt);
	suite_add_tcase(s, tc);
	return s;
}
