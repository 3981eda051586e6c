/* loader.h: Multiboot v1 ELF32 kernels into guest RAM, plus the Multiboot info block. */
#ifndef TANDEM_LOADER_H
#define TANDEM_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

#define MULTIBOOT_HEADER_MAGIC 0x1badb002u
#define MULTIBOOT_SEARCH 8192
/*
 * The info block (info, memory map, loader name, command line) is one page at the
 * first page boundary above the image's highest segment; with modules, a page of
 * module descriptors and their strings follows, then each module page-aligned (as
 * QEMU's multiboot loader aligns them). All of it below RAM's top 128 KiB (QEMU's
 * ACPI area) and outside the 640 KiB-1 MiB hole, never over a segment.
 */
#define LOADER_MBI_SIZE 0x1000u
#define LOADER_MAX_MODULES 16

struct boot_info {
	uint32_t entry;            /* ELF e_entry */
	uint32_t mbi;              /* guest-physical address of the Multiboot info */
	uint32_t load_lo, load_hi; /* lowest and highest+1 physical byte loaded */
	uint32_t mb_flags;         /* the Multiboot header's flags */
	uint32_t mods_count;       /* modules loaded */
	uint32_t end;              /* highest+1 physical byte of info block and modules */
	bool is_linux;             /* a bzImage by the Linux boot protocol, not Multiboot */
	uint32_t boot_params;      /* Linux: the zero page (ESI at entry) */
	uint32_t gdt, gdt_limit;   /* Linux: the GDT with __BOOT_CS/__BOOT_DS */
};

/* A Multiboot module: the file, and its string (QEMU: "path args"; NULL = the path). */
struct loader_module {
	const char *path;
	const char *cmdline;
};

/*
 * Load the Multiboot ELF32 i386 kernel at path into vm's RAM (PT_LOAD segments at
 * their physical addresses, BSS zeroed), then the nmods modules, and write the
 * info block (mem_lower/upper, cmdline, mods, mmap, boot loader name) above them
 * as described above. nmods 0..LOADER_MAX_MODULES.
 * Returns 0, or -1 with a one-line reason in err (no "tandem:" prefix, names the
 * file and the offending value): missing file, not ELF, not ELF32 i386 EXEC, no
 * Multiboot header or bad checksum, unsupported header flags, a segment outside
 * guest RAM, overlapping or truncated segments, an unreadable module, no room
 * above the image for the info block and modules, too many modules, strings too
 * long. Nothing is written to RAM on failure.
 */
int loader_load(struct vm *vm, const char *path, const char *cmdline,
                const struct loader_module *mods, int nmods, struct boot_info *bi, char *err,
                size_t errlen);

/*
 * Does the file at path start like a Linux bzImage (loader_linux.h)? false if it is
 * unreadable or not a regular file (a pipe is never peeked at: Multiboot only).
 */
bool loader_is_bzimage(const char *path);

/*
 * Load the bzImage at path by the Linux 32-bit boot protocol (loader_linux.h), with
 * cmdline as given and initrd (NULL: none) as its initial RAM disk; fills bi (linux
 * set, entry = code32_start). Returns 0, or -1 with a one-line reason in err
 * (unreadable files, and linux_load's reasons).
 */
int loader_load_linux(struct vm *vm, const char *path, const char *cmdline, const char *initrd,
                      struct boot_info *bi, char *err, size_t errlen);

#endif
