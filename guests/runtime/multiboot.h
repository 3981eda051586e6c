/* multiboot.h: the Multiboot v1 header constants and the boot information block. */
#ifndef TANDEM_GUEST_MULTIBOOT_H
#define TANDEM_GUEST_MULTIBOOT_H

#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003 /* page-align modules, want mem_* fields */
#define MB_BOOT_MAGIC 0x2BADB002   /* in EAX at entry */

#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP (1u << 6)
#define MBI_FLAG_LOADER_NAME (1u << 9)

#ifndef __ASSEMBLER__
#include <stdint.h>

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 640 KiB */
	uint32_t mem_upper; /* KiB above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

/* One memory map entry; `size` does not count itself. */
struct __attribute__((packed)) multiboot_mmap {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type; /* 1 = available RAM */
};
#endif

#endif
