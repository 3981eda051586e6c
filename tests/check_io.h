/* check_io.h: port access helpers for the device suites, asserting a device claimed the port. */
#ifndef TANDEM_CHECK_IO_H
#define TANDEM_CHECK_IO_H

#include <check.h>
#include <stdint.h>

#include "bus.h"

/* Defines static outb()/inb() on the suite's bus variable. */
#define CHECK_PORT_HELPERS(bus_var)                                                                \
	static void outb(uint16_t port, uint8_t v)                                                 \
	{                                                                                          \
		uint64_t val = v;                                                                  \
		ck_assert_int_eq(bus_access(&(bus_var), port, 1, true, &val), 0);                  \
	}                                                                                          \
	static uint8_t inb(uint16_t port)                                                          \
	{                                                                                          \
		uint64_t val = 0;                                                                  \
		ck_assert_int_eq(bus_access(&(bus_var), port, 1, false, &val), 0);                 \
		return (uint8_t)val;                                                               \
	}

/* With CHECK_PORT_HELPERS: program the 8259 pair the classic way, master at 0x20 and
 * slave at 0x28 (ICW1-ICW4; initialisation leaves every IRQ unmasked). */
#define CHECK_PIC_REMAP()                                                                          \
	do {                                                                                       \
		outb(0x20, 0x11);                                                                  \
		outb(0x21, 0x20);                                                                  \
		outb(0x21, 0x04);                                                                  \
		outb(0x21, 0x01);                                                                  \
		outb(0xa0, 0x11);                                                                  \
		outb(0xa1, 0x28);                                                                  \
		outb(0xa1, 0x02);                                                                  \
		outb(0xa1, 0x01);                                                                  \
	} while (0)

#endif
