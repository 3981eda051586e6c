/*
 * loader_mbi.c: the Multiboot info block (spec 0.6.96, 3.3) and modules, placed
 * above the kernel image: the info, memory map, loader name and command line in
 * one page; module descriptors and strings in the next; modules page-aligned.
 */
#include "loader_mbi.h"

#include <stdio.h>
#include <string.h>

#define PAGE 0x1000u
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

#define MB_MMAP_RAM 1u
#define MB_MMAP_RESERVED 2u
#define MB_MMAP_ENTRIES 6
/* QEMU keeps the top 128 KiB of RAM for ACPI tables; we report it reserved too. */
#define MB_TOP_RESERVED 0x20000u
#define MB_BIOS_ROM 0xfffc0000u
#define LOW_RAM_END 0x9fc00u /* the EBDA and the legacy hole above it */
#define HIGH_RAM 0x100000u

/* The info structure as the 0.6.96 spec lays it out: 88 bytes, no padding. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB below 640 KiB, KiB above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};
_Static_assert(sizeof(struct mb_info) == 88, "Multiboot 0.6.96 info layout");

/* A memory-map entry: size counts the 20 bytes after it, so base sits at +4. */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t base, length;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "Multiboot mmap entry layout");

/* A module descriptor (3.3): start, end (exclusive), string, reserved. */
struct mb_module {
	uint32_t mod_start, mod_end, string, reserved;
};

static const char loader_name[] = "tandem";

#define MBI_MMAP_OFF sizeof(struct mb_info)
#define MBI_NAME_OFF (MBI_MMAP_OFF + MB_MMAP_ENTRIES * sizeof(struct mb_mmap_entry))
#define MBI_CMDLINE_OFF (MBI_NAME_OFF + sizeof(loader_name))
_Static_assert(MBI_CMDLINE_OFF < PAGE, "info block too small");

size_t mbi_cmdline_room(void)
{
	return PAGE - MBI_CMDLINE_OFF - 1;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

int mbi_plan(const struct vm *vm, uint32_t load_hi, const struct mbi_module *m, int n,
             struct mbi_layout *out, char *err, size_t errlen)
{
	uint64_t need = PAGE, at = page_up(load_hi), top = vm->ram_size - MB_TOP_RESERVED;
	size_t strings = 0;
	int i;

	memset(out, 0, sizeof(*out));
	if (n > (int)(sizeof(out->mod_start) / sizeof(out->mod_start[0])))
		return snprintf(err, errlen, "too many modules (%d; at most 16)", n), -1;
	for (i = 0; i < n; i++) {
		strings += strlen(m[i].string) + 1;
		need += page_up(m[i].size);
	}
	if (n) {
		if (n * sizeof(struct mb_module) + strings > PAGE)
			return snprintf(err, errlen,
			                "module strings too long (%zu bytes; at most %zu "
			                "with %d modules)",
			                strings, PAGE - n * sizeof(struct mb_module), n),
			       -1;
		need += PAGE;
	}
	if (at < HIGH_RAM && at + need > LOW_RAM_END)
		at = HIGH_RAM;
	if (at + need > top)
		return snprintf(err, errlen,
		                "no room above the image (ends at 0x%x) for the "
		                "Multiboot info%s: %llu KiB needed below 0x%llx",
		                load_hi, n ? " and modules" : "", (unsigned long long)(need >> 10),
		                (unsigned long long)top),
		       -1;
	out->mbi = (uint32_t)at;
	at += PAGE + (n ? PAGE : 0);
	for (i = 0; i < n; i++) {
		out->mod_start[i] = (uint32_t)at;
		at += page_up(m[i].size);
	}
	out->end = (uint32_t)at;
	return 0;
}

static struct mb_mmap_entry mmap_entry(uint64_t base, uint64_t end, uint32_t type)
{
	return (struct mb_mmap_entry){.size = 20, .base = base, .length = end - base, .type = type};
}

/* The module page: descriptors, then their strings. */
static void write_modules(struct vm *vm, const struct mbi_layout *l, const struct mbi_module *m,
                          int n)
{
	uint32_t page = l->mbi + PAGE, str = page + (uint32_t)(n * sizeof(struct mb_module));
	uint8_t *blk = vm_gpa(vm, page, PAGE);

	memset(blk, 0, PAGE);
	for (int i = 0; i < n; i++) {
		struct mb_module d = {l->mod_start[i], l->mod_start[i] + (uint32_t)m[i].size, str,
		                      0};
		size_t len = strlen(m[i].string) + 1;

		memcpy(blk + i * sizeof(d), &d, sizeof(d));
		memcpy(blk + (str - page), m[i].string, len);
		str += (uint32_t)len;
		memcpy(vm_gpa(vm, l->mod_start[i], m[i].size ? m[i].size : 1), m[i].data,
		       m[i].size);
	}
}

/*
 * What QEMU's i386 PC reports, so a guest prints the same under both: 639 KiB
 * of low RAM with the top KiB (the EBDA) reserved, the BIOS area reserved, RAM
 * from 1 MiB up to 128 KiB below the top (QEMU's ACPI tables), and the BIOS ROM
 * below 4 GiB. mem_upper counts the usable RAM above 1 MiB.
 */
void mbi_write(struct vm *vm, const struct mbi_layout *l, const char *cmdline,
               const struct mbi_module *m, int n)
{
	uint8_t *blk = vm_gpa(vm, l->mbi, PAGE);
	struct mb_mmap_entry map[MB_MMAP_ENTRIES] = {
	    mmap_entry(0, LOW_RAM_END, MB_MMAP_RAM),
	    mmap_entry(LOW_RAM_END, 0xa0000, MB_MMAP_RESERVED),
	    mmap_entry(0xf0000, HIGH_RAM, MB_MMAP_RESERVED),
	    mmap_entry(HIGH_RAM, vm->ram_size - MB_TOP_RESERVED, MB_MMAP_RAM),
	    mmap_entry(vm->ram_size - MB_TOP_RESERVED, vm->ram_size, MB_MMAP_RESERVED),
	    mmap_entry(MB_BIOS_ROM, 0x100000000ULL, MB_MMAP_RESERVED),
	};
	struct mb_info mbi = {
	    .flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME | (n ? MBI_MODS : 0),
	    .mem_lower = 639,
	    .mem_upper = (uint32_t)((vm->ram_size - HIGH_RAM - MB_TOP_RESERVED) >> 10),
	    .cmdline = l->mbi + (uint32_t)MBI_CMDLINE_OFF,
	    .mods_count = (uint32_t)n,
	    .mods_addr = n ? l->mbi + PAGE : 0,
	    .mmap_length = sizeof(map),
	    .mmap_addr = l->mbi + (uint32_t)MBI_MMAP_OFF,
	    .boot_loader_name = l->mbi + (uint32_t)MBI_NAME_OFF,
	};

	memset(blk, 0, PAGE);
	memcpy(blk, &mbi, sizeof(mbi));
	memcpy(blk + MBI_MMAP_OFF, map, sizeof(map));
	memcpy(blk + MBI_NAME_OFF, loader_name, sizeof(loader_name));
	memcpy(blk + MBI_CMDLINE_OFF, cmdline, strlen(cmdline) + 1);
	if (n)
		write_modules(vm, l, m, n);
}
