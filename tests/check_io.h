/* check_io.h: port access helpers for the device suites, asserting a device claimed the port. */
#ifndef TANDEM_CHECK_IO_H
#define TANDEM_CHECK_IO_H

#include <check.h>
#include <stdint.h>

#include "bus.h"

/* Defines static outb()/inb() on the suite's bus variable. */
#define CHECK_PORT_HELPERS(bus_var)                                                    \
	static void outb(uint16_t port, uint8_t v)                                     \
	{                                                                              \
		uint64_t val = v;                                                      \
		ck_assert_int_eq(bus_access(&(bus_var), port, 1, true, &val), 0);      \
	}                                                                              \
	static uint8_t inb(uint16_t port)                                              \
	{                                                                              \
		uint64_t val = 0;                                                      \
		ck_assert_int_eq(bus_access(&(bus_var), port, 1, false, &val), 0);     \
		return (uint8_t)val;                                                   \
	}

#endif
