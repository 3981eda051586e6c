/* loader.h: Multiboot v1 ELF32 kernels into guest RAM, plus the Multiboot info block. */
#ifndef TANDEM_LOADER_H
#define TANDEM_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define MULTIBOOT_HEADER_MAGIC 0x1badb002u
#define MULTIBOOT_SEARCH 8192
/* Where the info block, command line and memory map go: below the 640 KiB hole. */
#define LOADER_MBI_ADDR 0x9000u
#define LOADER_MBI_SIZE 0x1000u

struct boot_info {
	uint32_t entry;           /* ELF e_entry */
	uint32_t mbi;             /* guest-physical address of the Multiboot info */
	uint32_t load_lo, load_hi;/* lowest and highest+1 physical byte loaded */
	uint32_t mb_flags;        /* the Multiboot header's flags */
};

/*
 * Load the Multiboot ELF32 i386 kernel at path into vm's RAM (PT_LOAD segments at
 * their physical addresses, BSS zeroed) and write the info block (mem_lower/upper,
 * cmdline, mmap, boot loader name) at LOADER_MBI_ADDR.
 * Returns 0, or -1 with a one-line reason in err (no "tandem:" prefix, names the
 * file and the offending value): missing file, not ELF, not ELF32 i386 EXEC, no
 * Multiboot header or bad checksum, unsupported header flags, a segment outside
 * guest RAM, overlapping or truncated segments, a segment over the info block.
 */
int loader_load(struct vm *vm, const char *path, const char *cmdline, struct boot_info *bi,
		char *err, size_t errlen);

#endif
