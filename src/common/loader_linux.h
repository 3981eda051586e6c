/*
 * loader_linux.h: Linux/x86 kernels (bzImage) by the 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel at 1 MiB, the
 * zero page (boot_params) with the setup header copied from the image and
 * filled in (loader type, command line, initrd, e820 map), a GDT with the
 * protocol's __BOOT_CS (0x10) and __BOOT_DS (0x18), entry at code32_start with
 * ESI = boot_params, EBX = EBP = EDI = 0, interrupts off, paging off.
 */
#ifndef TANDEM_LOADER_LINUX_H
#define TANDEM_LOADER_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* Where the loader puts its pieces (QEMU's linuxboot uses the same low area). */
#define LINUX_GDT_ADDR 0x5000u
#define LINUX_BOOT_PARAMS 0x10000u
#define LINUX_CMDLINE 0x20000u
#define LINUX_KERNEL_ADDR 0x100000u
#define LINUX_BOOT_CS 0x10
#define LINUX_BOOT_DS 0x18

struct linux_boot {
	uint32_t entry;       /* code32_start */
	uint32_t boot_params; /* the zero page, for ESI */
	uint32_t gdt, gdt_limit;
	uint32_t kernel_end; /* 1 MiB + the protected-mode kernel's size */
	uint32_t initrd, initrd_size;
	uint16_t version; /* the image's boot protocol version, e.g. 0x020f */
};

/* Is the file's start a bzImage (0xAA55 at 0x1fe, "HdrS" at 0x202)? buf: len bytes. */
bool linux_is_bzimage(const uint8_t *buf, size_t len);

/*
 * linux_load: load the bzImage in buf (len bytes, named path for messages) into vm
 * with the command line (as given: no kernel path in front, as QEMU's -append) and
 * an initrd (NULL/0 for none), and fill lb. Returns 0, or -1 with a one-line reason
 * in err: not a bzImage, boot protocol older than 2.02 (no cmd_line_ptr), a
 * 16-bit-only image (not LOADED_HIGH), a kernel or initrd that does not fit RAM
 * (or the initrd above initrd_addr_max), a command line over cmdline_size.
 */
int linux_load(struct vm *vm, const char *path, const uint8_t *buf, size_t len, const char *cmdline,
               const uint8_t *initrd, size_t initrd_len, struct linux_boot *lb, char *err,
               size_t errlen);

#endif
