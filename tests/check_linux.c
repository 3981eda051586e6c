/* check_linux.c: the Linux 32-bit boot protocol loader on a synthetic bzImage. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "loader_linux.h"
#include "vm.h"

#define RAM (64ULL << 20)
#define KSIZE 0x3000u
#define IMG (1024 + KSIZE)

static struct vm vm;
static uint8_t img[IMG];
static char err[256];
static struct linux_boot lb;

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static uint32_t ram32(uint32_t a)
{
	uint32_t v;
	memcpy(&v, vm_gpa(&vm, a, 4), 4);
	return v;
}

static void setup(void)
{
	ck_assert_int_eq(vm_init(&vm, RAM), 0);
	memset(img, 0, sizeof(img));
	img[0x1f1] = 1; /* setup_sects: the setup is 2 sectors */
	put16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb; /* jmp short: the header ends at 0x202 + 0x66 */
	img[0x201] = 0x66;
	memcpy(img + 0x202, "HdrS", 4);
	put16(img + 0x206, 0x020f);
	img[0x211] = 0x01;              /* LOADED_HIGH */
	put32(img + 0x214, 0x100000);   /* code32_start */
	put32(img + 0x22c, 0x37ffffff); /* initrd_addr_max */
	put32(img + 0x238, 64);         /* cmdline_size */
	for (unsigned i = 0; i < KSIZE; i++)
		img[1024 + i] = (uint8_t)(i * 13 + 7);
	memset(err, 0, sizeof(err));
}

static void teardown(void)
{
	vm_destroy(&vm);
}

START_TEST(test_loads)
{
	static const uint8_t rd[5000] = {1, 2, 3};
	uint64_t gdt_cs;

	ck_assert(linux_is_bzimage(img, sizeof(img)));
	ck_assert_int_eq(linux_load(&vm, "k", img, sizeof(img), "console=ttyS0", rd, sizeof(rd),
	                            &lb, err, sizeof(err)),
	                 0);
	ck_assert_uint_eq(lb.entry, 0x100000);
	ck_assert_uint_eq(lb.boot_params, LINUX_BOOT_PARAMS);
	ck_assert_mem_eq(vm_gpa(&vm, 0x100000, KSIZE), img + 1024, KSIZE);
	ck_assert_uint_eq(*(uint8_t *)vm_gpa(&vm, LINUX_BOOT_PARAMS + 0x210, 1), 0xff);
	ck_assert_uint_eq(*(uint8_t *)vm_gpa(&vm, LINUX_BOOT_PARAMS + 0x211, 1), 0x81);
	ck_assert_uint_eq(ram32(LINUX_BOOT_PARAMS + 0x202), 0x53726448); /* "HdrS" copied */
	ck_assert_str_eq(vm_gpa(&vm, ram32(LINUX_BOOT_PARAMS + 0x228), 1), "console=ttyS0");
	/* The initrd: page-aligned, as high as fits below the top 128 KiB QEMU reserves. */
	ck_assert_uint_eq(ram32(LINUX_BOOT_PARAMS + 0x218), lb.initrd);
	ck_assert_uint_eq(ram32(LINUX_BOOT_PARAMS + 0x21c), sizeof(rd));
	ck_assert_uint_eq(lb.initrd & 0xfff, 0);
	ck_assert_uint_eq(lb.initrd, (RAM - 0x20000 - sizeof(rd)) & ~0xfffULL);
	ck_assert_uint_eq(*(uint8_t *)vm_gpa(&vm, lb.initrd + 2, 1), 3);
	/* e820: 6 entries, the fourth RAM from 1 MiB */
	ck_assert_uint_eq(*(uint8_t *)vm_gpa(&vm, LINUX_BOOT_PARAMS + 0x1e8, 1), 6);
	ck_assert_uint_eq(ram32(LINUX_BOOT_PARAMS + 0x2d0 + 3 * 20), 0x100000);
	ck_assert_uint_eq(ram32(LINUX_BOOT_PARAMS + 0x2d0 + 3 * 20 + 16), 1);
	/* the GDT: __BOOT_CS at 0x10 is flat 32-bit code */
	memcpy(&gdt_cs, vm_gpa(&vm, lb.gdt + 0x10, 8), 8);
	ck_assert_uint_eq(gdt_cs, 0x00cf9b000000ffffULL);
	ck_assert_uint_eq(lb.gdt_limit, 31);
}
END_TEST

START_TEST(test_errors)
{
	char cmd[100];

	ck_assert_int_eq(linux_load(&vm, "k", img, 0x100, "", NULL, 0, &lb, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "k: not a Linux bzImage"), "%s", err);
	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = 0;
	ck_assert_int_eq(
	    linux_load(&vm, "k", img, sizeof(img), cmd, NULL, 0, &lb, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "command line too long (99 bytes; the kernel takes 64)"), "%s",
	              err);
	put32(img + 0x22c, 0x1000); /* initrd_addr_max below the kernel */
	ck_assert_int_eq(
	    linux_load(&vm, "k", img, sizeof(img), "", img, 8192, &lb, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "initrd"), "%s", err);
	img[0x211] = 0;
	ck_assert_int_eq(linux_load(&vm, "k", img, sizeof(img), "", NULL, 0, &lb, err, sizeof(err)),
	                 -1);
	ck_assert_msg(strstr(err, "not LOADED_HIGH"), "%s", err);
	put16(img + 0x206, 0x0201);
	ck_assert_int_eq(linux_load(&vm, "k", img, sizeof(img), "", NULL, 0, &lb, err, sizeof(err)),
	                 -1);
	ck_assert_msg(strstr(err, "older than 2.02"), "%s", err);
	ck_assert(!strchr(err, '\n'));
}
END_TEST

Suite *linux_suite(void)
{
	Suite *s = suite_create("linux");
	TCase *tc = tcase_create("bzimage");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_loads);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
