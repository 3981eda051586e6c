/* loader_mbi.h: the Multiboot info block and modules (private to the loader). */
#ifndef TANDEM_LOADER_MBI_H
#define TANDEM_LOADER_MBI_H

#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* A module read into memory, with its Multiboot string. */
struct mbi_module {
	const uint8_t *data;
	size_t size;
	const char *string;
};

/* Where the info block goes (mbi) and the end of it and the modules (end). */
struct mbi_layout {
	uint32_t mbi, end;
	uint32_t mod_start[16];
};

/*
 * mbi_plan: lay out the info block (and a descriptor page and the modules, when
 * n > 0) at the first page boundary at or above load_hi, moved to 1 MiB when it
 * would reach into the 640 KiB-1 MiB hole, below the RAM QEMU reserves at the top.
 * 0, or -1 with a one-line reason in err (no room; the module strings too long).
 */
int mbi_plan(const struct vm *vm, uint32_t load_hi, const struct mbi_module *m, int n,
             struct mbi_layout *out, char *err, size_t errlen);

/* mbi_write: write the planned block (and modules). cmdline fits (checked before). */
void mbi_write(struct vm *vm, const struct mbi_layout *l, const char *cmdline,
               const struct mbi_module *m, int n);

/* The room for the kernel's command line in the info block, without its NUL. */
size_t mbi_cmdline_room(void);

#endif
