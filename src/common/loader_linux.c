/* loader_linux.c: the Linux/x86 32-bit boot protocol: bzImage, zero page, e820, initrd, GDT. */
#include "loader_linux.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Setup header fields, as offsets in the image and in boot_params (boot.rst). */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define E820_RAM 1
#define E820_RESERVED 2
/* QEMU keeps the top 128 KiB of RAM for ACPI tables; the map reports it reserved. */
#define TOP_RESERVED 0x20000u

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

bool linux_is_bzimage(const uint8_t *buf, size_t len)
{
	return len >= 0x240 && rd16(buf + HDR_BOOT_FLAG) == 0xaa55 &&
	       !memcmp(buf + HDR_MAGIC, "HdrS", 4);
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t len, const char *path,
                                                      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !len)
		return -1;
	n = snprintf(err, len, "%s: ", path);
	if (n >= 0 && (size_t)n < len) {
		va_start(ap, fmt);
		vsnprintf(err + n, len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The same map the Multiboot loader reports (and QEMU's firmware gives): 20-byte entries. */
static int e820(uint8_t *bp, uint64_t ram)
{
	const uint64_t map[][3] = {
	    {0, 0x9fc00, E820_RAM},
	    {0x9fc00, 0xa0000 - 0x9fc00, E820_RESERVED},
	    {0xf0000, 0x10000, E820_RESERVED},
	    {0x100000, ram - TOP_RESERVED - 0x100000, E820_RAM},
	    {ram - TOP_RESERVED, TOP_RESERVED, E820_RESERVED},
	    {0xfffc0000u, 0x40000, E820_RESERVED},
	};
	int n = (int)(sizeof(map) / sizeof(map[0]));

	for (int i = 0; i < n; i++) {
		uint8_t *e = bp + BP_E820_TABLE + 20 * i;
		uint32_t type = (uint32_t)map[i][2];

		memcpy(e, &map[i][0], 8);
		memcpy(e + 8, &map[i][1], 8);
		memcpy(e + 16, &type, 4);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;
	return n;
}

/* null, null, then __BOOT_CS and __BOOT_DS: flat 4 GiB, 32-bit (boot.rst, 32-bit protocol). */
static void write_gdt(struct vm *vm, struct linux_boot *lb)
{
	const uint64_t gdt[4] = {0, 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL};

	memcpy(vm_gpa(vm, LINUX_GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
	lb->gdt = LINUX_GDT_ADDR;
	lb->gdt_limit = sizeof(gdt) - 1;
}

int linux_load(struct vm *vm, const char *path, const uint8_t *buf, size_t len, const char *cmdline,
               const uint8_t *initrd, size_t initrd_len, struct linux_boot *lb, char *err,
               size_t errlen)
{
	unsigned setup_sects;
	size_t setup_len, hdr_end, kernel_len, cmd_len = strlen(cmdline);
	uint64_t ram = vm->ram_size, top = ram - TOP_RESERVED, initrd_max;
	uint32_t cmdline_size = 255;
	uint64_t need_end = LINUX_KERNEL_ADDR + len; /* before 2.10: the image itself */
	uint8_t *bp;

	memset(lb, 0, sizeof(*lb));
	if (!linux_is_bzimage(buf, len))
		return fail(err, errlen, path,
		            "not a Linux bzImage (no 0xAA55 at 0x1fe and HdrS at 0x202)");
	lb->version = rd16(buf + HDR_VERSION);
	if (lb->version < 0x0202)
		return fail(err, errlen, path,
		            "boot protocol %u.%02u is older than 2.02 (no cmd_line_ptr)",
		            lb->version >> 8, lb->version & 0xff);
	if (!(buf[HDR_LOADFLAGS] & LOADED_HIGH))
		return fail(err, errlen, path,
		            "a zImage (not LOADED_HIGH): only bzImages load at 1 MiB");
	setup_sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
	setup_len = (size_t)(setup_sects + 1) * 512;
	hdr_end = 0x202 + buf[HDR_JUMP + 1];
	if (setup_len >= len || hdr_end > 0x1000 || hdr_end > setup_len)
		return fail(err, errlen, path, "truncated: %zu bytes, setup takes %zu", len,
		            setup_len);
	kernel_len = len - setup_len;
	if (LINUX_KERNEL_ADDR + kernel_len > top)
		return fail(err, errlen, path,
		            "the kernel (%zu KiB) does not fit in guest RAM (%llu MiB)",
		            kernel_len >> 10, (unsigned long long)(ram >> 20));
	if (lb->version >= 0x0206)
		cmdline_size = rd32(buf + HDR_CMDLINE_SIZE);
	if (cmd_len > cmdline_size || cmd_len >= LINUX_BOOT_PARAMS)
		return fail(err, errlen, path,
		            "command line too long (%zu bytes; the kernel takes %u)", cmd_len,
		            cmdline_size);
	/* Where the kernel runs and how much it needs there (2.10: pref_address, init_size). */
	if (lb->version >= 0x020a) {
		uint64_t pref = rd32(buf + HDR_PREF_ADDRESS),
		         align = rd32(buf + HDR_KERNEL_ALIGNMENT);
		uint64_t start = pref > LINUX_KERNEL_ADDR ? pref : LINUX_KERNEL_ADDR;

		if (buf[HDR_RELOCATABLE] && align && !(align & (align - 1)))
			start = (start + align - 1) & ~(align - 1);
		need_end = start + rd32(buf + HDR_INIT_SIZE);
		if (need_end > top)
			return fail(
			    err, errlen, path,
			    "the kernel needs %llu MiB from 0x%llx (init_size): "
			    "give it more than %llu MiB of RAM",
			    (unsigned long long)((need_end - start) >> 20),
			    (unsigned long long)start,
			    (unsigned long long)((need_end + TOP_RESERVED + 0xfffff) >> 20));
	}
	initrd_max = lb->version >= 0x0203 ? rd32(buf + HDR_INITRD_ADDR_MAX) : 0x37ffffff;
	if (initrd_max > top - 1)
		initrd_max = top - 1;
	if (initrd_len) {
		uint64_t at = (initrd_max + 1 - initrd_len) & ~0xfffULL;

		if (initrd_len > initrd_max + 1 || at < need_end)
			return fail(err, errlen, path,
			            "the initrd (%zu KiB) does not fit below "
			            "initrd_addr_max 0x%llx above the kernel's area (up to 0x%llx)",
			            initrd_len >> 10, (unsigned long long)initrd_max,
			            (unsigned long long)need_end);
		lb->initrd = (uint32_t)at;
		lb->initrd_size = (uint32_t)initrd_len;
		memcpy(vm_gpa(vm, at, initrd_len), initrd, initrd_len);
	}
	memcpy(vm_gpa(vm, LINUX_KERNEL_ADDR, kernel_len), buf + setup_len, kernel_len);
	memcpy(vm_gpa(vm, LINUX_CMDLINE, cmd_len + 1), cmdline, cmd_len + 1);

	bp = vm_gpa(vm, LINUX_BOOT_PARAMS, 4096);
	if (!bp)
		return fail(err, errlen, path, "guest RAM too small for the zero page");
	memset(bp, 0, 4096);
	memcpy(bp + HDR_SETUP_SECTS, buf + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	bp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined boot loader */
	bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	wr16(bp + HDR_HEAP_END_PTR, 0xfe00);
	wr32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE);
	wr32(bp + HDR_RAMDISK_IMAGE, lb->initrd);
	wr32(bp + HDR_RAMDISK_SIZE, lb->initrd_size);
	e820(bp, ram);
	write_gdt(vm, lb);
	lb->entry = rd32(buf + HDR_CODE32_START);
	lb->boot_params = LINUX_BOOT_PARAMS;
	lb->kernel_end = (uint32_t)(LINUX_KERNEL_ADDR + kernel_len);
	return 0;
}
