/* check_loader.c: the Multiboot ELF loader on images assembled byte by byte here. */
#include <check.h>
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"
#include "log.h"
#include "vm.h"

#define RAM (64ULL << 20)
#define IMG_MAX 0x4000
#define MB_OFF 0x80     /* Multiboot header: after the ELF and program headers */
#define TEXT_OFF 0x1000 /* segment 0: code, all in the file */
#define TEXT_PADDR 0x100000u
#define TEXT_SIZE 0x200u
#define DATA_OFF 0x1200 /* segment 1: a little data, then BSS */
#define DATA_PADDR 0x101000u
#define DATA_FILESZ 0x40u
#define DATA_MEMSZ 0x2000u
#define ENTRY (TEXT_PADDR + 0x10)

struct img {
	uint8_t b[IMG_MAX];
	size_t len;
};

static struct vm vm;
static char err[512];
static struct boot_info bi;

static void setup(void)
{
	ck_assert_int_eq(vm_init(&vm, RAM), 0);
	memset(err, 0, sizeof(err));
	memset(&bi, 0, sizeof(bi));
	log_threshold = LOG_ERR; /* the video-mode case warns; keep the output clean */
}

static void teardown(void)
{
	vm_destroy(&vm);
}

static Elf32_Ehdr *ehdr(struct img *im)
{
	return (Elf32_Ehdr *)im->b;
}

static Elf32_Phdr *phdr(struct img *im, int i)
{
	return (Elf32_Phdr *)(im->b + sizeof(Elf32_Ehdr)) + i;
}

static void set_mb_header(struct img *im, size_t off, uint32_t flags)
{
	uint32_t h[3] = {MULTIBOOT_HEADER_MAGIC, flags, -(MULTIBOOT_HEADER_MAGIC + flags)};

	memcpy(im->b + off, h, sizeof(h));
}

/* A minimal kernel: two PT_LOADs (text; data + BSS), identity-linked. */
static void build(struct img *im)
{
	Elf32_Ehdr *eh = ehdr(im);
	Elf32_Phdr *p0 = phdr(im, 0), *p1 = phdr(im, 1);
	size_t i;

	memset(im, 0, sizeof(*im));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_version = EV_CURRENT;
	eh->e_entry = ENTRY;
	eh->e_phoff = sizeof(Elf32_Ehdr);
	eh->e_ehsize = sizeof(Elf32_Ehdr);
	eh->e_phentsize = sizeof(Elf32_Phdr);
	eh->e_phnum = 2;
	*p0 = (Elf32_Phdr){.p_type = PT_LOAD,
	                   .p_offset = TEXT_OFF,
	                   .p_vaddr = TEXT_PADDR,
	                   .p_paddr = TEXT_PADDR,
	                   .p_filesz = TEXT_SIZE,
	                   .p_memsz = TEXT_SIZE,
	                   .p_flags = PF_R | PF_X,
	                   .p_align = 0x1000};
	*p1 = (Elf32_Phdr){.p_type = PT_LOAD,
	                   .p_offset = DATA_OFF,
	                   .p_vaddr = DATA_PADDR,
	                   .p_paddr = DATA_PADDR,
	                   .p_filesz = DATA_FILESZ,
	                   .p_memsz = DATA_MEMSZ,
	                   .p_flags = PF_R | PF_W,
	                   .p_align = 0x1000};
	set_mb_header(im, MB_OFF, 0x3);
	for (i = 0; i < TEXT_SIZE + DATA_FILESZ; i++)
		im->b[TEXT_OFF + i] = (uint8_t)(i * 7 + 1);
	im->len = DATA_OFF + DATA_FILESZ;
}

static const struct loader_module *mods; /* the modules load_bytes_cmd passes */
static int nmods;

/* The page above the test image's highest segment: where the info block goes. */
#define MBI_AT ((DATA_PADDR + DATA_MEMSZ + 0xfffu) & ~0xfffu)

static int load_bytes_cmd(const void *bytes, size_t len, const char *cmdline)
{
	char path[] = "/tmp/tandem-loader-XXXXXX";
	int fd, rc;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	rc = loader_load(&vm, path, cmdline, mods, nmods, &bi, err, sizeof(err));
	unlink(path);
	if (rc != 0)
		ck_assert_msg(strlen(err) > 0 && !strchr(err, '\n'), "one-line error: '%s'", err);
	return rc;
}

static int load(struct img *im)
{
	return load_bytes_cmd(im->b, im->len, "console=com1");
}

#define ck_assert_load_fails(im, substr)                                                           \
	do {                                                                                       \
		ck_assert_int_eq(load(im), -1);                                                    \
		ck_assert_msg(strstr(err, (substr)), "err '%s' lacks '%s'", err, (substr));        \
	} while (0)

static uint32_t ram32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, vm_gpa(&vm, gpa, 4), 4);
	return v;
}

static uint64_t ram64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, vm_gpa(&vm, gpa, 8), 8);
	return v;
}

/* ---- a valid image ---- */

START_TEST(test_valid_loads_segments)
{
	struct img im;
	uint8_t *bss;
	size_t i;

	build(&im);
	memset(vm_gpa(&vm, DATA_PADDR, DATA_MEMSZ), 0xaa, DATA_MEMSZ); /* dirty the BSS */
	ck_assert_int_eq(load(&im), 0);
	ck_assert_mem_eq(vm_gpa(&vm, TEXT_PADDR, TEXT_SIZE), im.b + TEXT_OFF, TEXT_SIZE);
	ck_assert_mem_eq(vm_gpa(&vm, DATA_PADDR, DATA_FILESZ), im.b + DATA_OFF, DATA_FILESZ);
	bss = vm_gpa(&vm, DATA_PADDR + DATA_FILESZ, DATA_MEMSZ - DATA_FILESZ);
	for (i = 0; i < DATA_MEMSZ - DATA_FILESZ; i++)
		ck_assert_uint_eq(bss[i], 0);
	ck_assert_uint_eq(bi.entry, ENTRY);
	ck_assert_uint_eq(bi.mbi, MBI_AT);
	ck_assert_uint_eq(bi.end, MBI_AT + LOADER_MBI_SIZE);
	ck_assert_uint_eq(bi.mods_count, 0);
	ck_assert_uint_eq(bi.load_lo, TEXT_PADDR);
	ck_assert_uint_eq(bi.load_hi, DATA_PADDR + DATA_MEMSZ);
	ck_assert_uint_eq(bi.mb_flags, 0x3);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_mbi_fields)
{
	struct img im;

	build(&im);
	ck_assert_int_eq(load(&im), 0);
	/* mem (0), cmdline (2), mmap (6), boot_loader_name (9) */
	ck_assert_uint_eq(ram32(bi.mbi + 0), (1u << 0) | (1u << 2) | (1u << 6) | (1u << 9));
	ck_assert_uint_eq(ram32(bi.mbi + 4), 639);
	ck_assert_uint_eq(ram32(bi.mbi + 8), (RAM - (1 << 20) - (128 << 10)) / 1024); /* as QEMU */
	ck_assert_str_eq(vm_gpa(&vm, ram32(bi.mbi + 16), 1), "console=com1");
	ck_assert_str_eq(vm_gpa(&vm, ram32(bi.mbi + 64), 1), "tandem");
}
END_TEST

START_TEST(test_mbi_mmap)
{
	static const uint64_t want[][3] = {
	    {0, 0x9fc00, 1},
	    {0x9fc00, 0x400, 2},
	    {0xf0000, 0x10000, 2},
	    {0x100000, RAM - 0x100000 - 0x20000, 1},
	    {RAM - 0x20000, 0x20000, 2},
	    {0xfffc0000, 0x40000, 2},
	};
	struct img im;
	uint32_t addr, len, end, n = 0;

	build(&im);
	ck_assert_int_eq(load(&im), 0);
	len = ram32(bi.mbi + 44);
	addr = ram32(bi.mbi + 48);
	ck_assert_uint_ge(addr, bi.mbi);
	ck_assert_uint_le(addr + len, bi.mbi + LOADER_MBI_SIZE);
	/* Walk it as a guest does: each 'size' counts the bytes after itself. */
	for (end = addr + len; addr < end; addr += ram32(addr) + 4, n++) {
		ck_assert_uint_lt(n, 6);
		ck_assert_uint_eq(ram32(addr), 20);
		ck_assert_uint_eq(ram64(addr + 4), want[n][0]);
		ck_assert_uint_eq(ram64(addr + 12), want[n][1]);
		ck_assert_uint_eq(ram32(addr + 20), want[n][2]);
	}
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(want[4][0] + want[4][1], RAM);
}
END_TEST

START_TEST(test_null_cmdline_is_empty)
{
	struct img im;

	build(&im);
	ck_assert_int_eq(load_bytes_cmd(im.b, im.len, NULL), 0);
	ck_assert_str_eq(vm_gpa(&vm, ram32(bi.mbi + 16), 1), "");
}
END_TEST

START_TEST(test_longest_cmdline_fits)
{
	struct img im;
	char *cmd;
	size_t n;

	build(&im);
	/* Find the limit from the error, then a line of exactly that length loads. */
	cmd = malloc(LOADER_MBI_SIZE + 1);
	memset(cmd, 'x', LOADER_MBI_SIZE);
	cmd[LOADER_MBI_SIZE] = '\0';
	ck_assert_int_eq(load_bytes_cmd(im.b, im.len, cmd), -1);
	ck_assert_msg(strstr(err, "command line too long"), "err '%s'", err);
	ck_assert_int_eq(sscanf(strstr(err, "at most "), "at most %zu", &n), 1);
	ck_assert_uint_gt(n, 3000);
	cmd[n] = '\0';
	ck_assert_int_eq(load_bytes_cmd(im.b, im.len, cmd), 0);
	ck_assert_str_eq(vm_gpa(&vm, ram32(bi.mbi + 16), 1), cmd);
	ck_assert_uint_le(ram32(bi.mbi + 16) + n + 1, bi.mbi + LOADER_MBI_SIZE);
	free(cmd);
}
END_TEST

START_TEST(test_higher_half_entry_translated)
{
	struct img im;

	build(&im);
	phdr(&im, 0)->p_vaddr = 0xc0000000u + TEXT_PADDR;
	phdr(&im, 1)->p_vaddr = 0xc0000000u + DATA_PADDR;
	ehdr(&im)->e_entry = 0xc0000000u + ENTRY;
	ck_assert_int_eq(load(&im), 0);
	ck_assert_uint_eq(bi.entry, ENTRY);
}
END_TEST

START_TEST(test_video_flag_ignored)
{
	struct img im;

	build(&im);
	set_mb_header(&im, MB_OFF, 0x7 | (1u << 16));
	ck_assert_int_eq(load(&im), 0);
	ck_assert_uint_eq(bi.mb_flags, 0x10007);
}
END_TEST

START_TEST(test_skips_bad_checksum_header)
{
	struct img im;

	build(&im);
	set_mb_header(&im, MB_OFF + 0x10, 0x3);
	im.b[MB_OFF + 8] ^= 1; /* the first one is broken; the second is good */
	ck_assert_int_eq(load(&im), 0);
}
END_TEST

START_TEST(test_failure_leaves_ram_alone)
{
	struct img im;

	build(&im);
	phdr(&im, 1)->p_paddr = 0xfff000; /* fine */
	phdr(&im, 1)->p_offset = 0x3000;  /* truncated: checked before anything is copied */
	ck_assert_load_fails(&im, "truncated");
	ck_assert_uint_eq(*(uint8_t *)vm_gpa(&vm, TEXT_PADDR, 1), 0);
	ck_assert_uint_eq(ram32(MBI_AT), 0);
}
END_TEST

/* ---- the file ---- */

START_TEST(test_missing_file)
{
	ck_assert_int_eq(loader_load(&vm, "/nonexistent/k.elf", "", NULL, 0, &bi, err, sizeof(err)),
	                 -1);
	ck_assert_str_eq(err, "/nonexistent/k.elf: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_directory)
{
	ck_assert_int_eq(loader_load(&vm, "/tmp", "", NULL, 0, &bi, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/tmp: cannot read: Is a directory");
}
END_TEST

START_TEST(test_dev_null)
{
	ck_assert_int_eq(loader_load(&vm, "/dev/null", "", NULL, 0, &bi, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/dev/null: not an ELF file");
}
END_TEST

START_TEST(test_empty_file)
{
	ck_assert_int_eq(load_bytes_cmd("", 0, ""), -1);
	ck_assert_msg(strstr(err, ": not an ELF file"), "err '%s'", err);
	ck_assert_msg(strncmp(err, "/tmp/tandem-loader-", 19) == 0, "err names the file: '%s'",
	              err);
}
END_TEST

START_TEST(test_not_elf)
{
	static const char text[] = "#!/bin/sh\necho not a kernel\n";

	ck_assert_int_eq(load_bytes_cmd(text, sizeof(text) - 1, ""), -1);
	ck_assert_msg(strstr(err, "not an ELF file"), "err '%s'", err);
}
END_TEST

START_TEST(test_tiny_error_buffer)
{
	char small[8];

	memset(small, 'z', sizeof(small));
	ck_assert_int_eq(loader_load(&vm, "/nonexistent", "", NULL, 0, &bi, small, sizeof(small)),
	                 -1);
	ck_assert_str_eq(small, "/nonexi");
	ck_assert_int_eq(loader_load(&vm, "/nonexistent", "", NULL, 0, &bi, NULL, 0), -1);
}
END_TEST

/* ---- the ELF header ---- */

START_TEST(test_elf64)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_ident[EI_CLASS] = ELFCLASS64;
	ehdr(&im)->e_machine = EM_X86_64;
	ck_assert_load_fails(&im,
	                     "not an ELF32 i386 executable (class 2, data 1, type 2, machine 62");
}
END_TEST

START_TEST(test_wrong_machine)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_machine = EM_ARM;
	ck_assert_load_fails(&im, "machine 40");
}
END_TEST

START_TEST(test_big_endian)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_ident[EI_DATA] = ELFDATA2MSB;
	ck_assert_load_fails(&im, "data 2");
}
END_TEST

START_TEST(test_not_exec)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_type = ET_DYN;
	ck_assert_load_fails(&im, "type 3");
}
END_TEST

START_TEST(test_truncated_ehdr)
{
	struct img im;

	build(&im);
	im.len = 40;
	ck_assert_load_fails(&im, "truncated ELF header (40 bytes");
}
END_TEST

START_TEST(test_phoff_past_eof)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_phoff = 0x7ffffff0;
	ck_assert_load_fails(&im, "program header table");
}
END_TEST

START_TEST(test_huge_phnum)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_phnum = 0xfffe;
	ck_assert_load_fails(&im, "runs past the end");
	ehdr(&im)->e_phnum = PN_XNUM;
	ck_assert_load_fails(&im, "e_phnum 0xffff");
}
END_TEST

START_TEST(test_bad_phentsize)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_phentsize = 56;
	ck_assert_load_fails(&im, "entry size 56");
}
END_TEST

/* ---- the Multiboot header ---- */

START_TEST(test_no_multiboot_header)
{
	struct img im;

	build(&im);
	memset(im.b + MB_OFF, 0, 12);
	ck_assert_load_fails(&im, "no Multiboot header in the first 8192 bytes");
}
END_TEST

START_TEST(test_multiboot_header_too_late)
{
	struct img im;

	build(&im);
	memset(im.b + MB_OFF, 0, 12);
	set_mb_header(&im, 8192 - 8, 0x3); /* straddles the limit */
	set_mb_header(&im, 8192, 0x3);     /* past it */
	im.len = 8192 + 12;
	ck_assert_load_fails(&im, "no Multiboot header");
}
END_TEST

START_TEST(test_multiboot_header_unaligned)
{
	struct img im;

	build(&im);
	memset(im.b + MB_OFF, 0, 12);
	set_mb_header(&im, MB_OFF + 2, 0x3);
	ck_assert_load_fails(&im, "no Multiboot header");
}
END_TEST

START_TEST(test_bad_checksum)
{
	struct img im;

	build(&im);
	im.b[MB_OFF + 8] += 1;
	ck_assert_load_fails(&im, "Multiboot header at offset 0x80 has a bad checksum");
}
END_TEST

START_TEST(test_unsupported_flag)
{
	struct img im;

	build(&im);
	set_mb_header(&im, MB_OFF, 0x3 | (1u << 3));
	ck_assert_load_fails(&im, "flags 0x0000000b require unsupported features 0x0008");
	set_mb_header(&im, MB_OFF, 1u << 15);
	ck_assert_load_fails(&im, "unsupported features 0x8000");
}
END_TEST

/* ---- program headers ---- */

START_TEST(test_no_pt_load)
{
	struct img im;

	build(&im);
	phdr(&im, 0)->p_type = PT_NOTE;
	phdr(&im, 1)->p_type = PT_GNU_STACK;
	ck_assert_load_fails(&im, "no PT_LOAD");
	ehdr(&im)->e_phnum = 0;
	ck_assert_load_fails(&im, "no PT_LOAD");
}
END_TEST

START_TEST(test_filesz_gt_memsz)
{
	struct img im;

	build(&im);
	phdr(&im, 1)->p_memsz = DATA_FILESZ - 1;
	ck_assert_load_fails(&im, "segment 1: file size 0x40 exceeds memory size 0x3f");
}
END_TEST

START_TEST(test_truncated_segment)
{
	struct img im;

	build(&im);
	im.len -= 1;
	ck_assert_load_fails(&im, "segment 1 is truncated");
	build(&im);
	phdr(&im, 0)->p_offset = 0xfffffff0; /* offset + size wraps 32 bits */
	ck_assert_load_fails(&im, "segment 0 is truncated");
}
END_TEST

START_TEST(test_outside_ram)
{
	struct img im;

	build(&im);
	phdr(&im, 1)->p_paddr = (uint32_t)RAM - 0x1000; /* BSS runs off the end */
	ck_assert_load_fails(&im,
	                     "segment 1 at 0x3fff000 (size 0x2000) is outside guest RAM (64 MiB)");
	phdr(&im, 1)->p_paddr = 0xfffff000; /* paddr + memsz wraps 32 bits */
	ck_assert_load_fails(&im, "outside guest RAM");
	/* The last bytes below QEMU's reserved 128 KiB and one page for the info block: fine. */
	phdr(&im, 1)->p_paddr = (uint32_t)RAM - 0x21000 - DATA_MEMSZ;
	ck_assert_int_eq(load(&im), 0);
	ck_assert_uint_eq(bi.load_hi, RAM - 0x21000);
	ck_assert_uint_eq(bi.end, RAM - 0x20000);
}
END_TEST

START_TEST(test_overlap)
{
	struct img im;

	build(&im);
	phdr(&im, 1)->p_paddr = TEXT_PADDR + TEXT_SIZE - 1;
	ck_assert_load_fails(&im, "segments 0 at 0x100000 (size 0x200) and 1 at 0x1001ff");
	ck_assert_msg(strstr(err, "overlap"), "err '%s'", err);
	phdr(&im, 1)->p_paddr = TEXT_PADDR + TEXT_SIZE; /* adjacent is fine */
	ck_assert_int_eq(load(&im), 0);
}
END_TEST

/* A segment in low memory (a kernel at 0x8000): the info block goes above the image. */
START_TEST(test_mbi_above_image)
{
	struct img im;

	build(&im);
	phdr(&im, 1)->p_paddr = 0x8000;
	ck_assert_int_eq(load(&im), 0);
	ck_assert_uint_eq(bi.mbi, ((TEXT_PADDR + TEXT_SIZE + 0xfffu) & ~0xfffu));
	ck_assert_uint_eq(ram32(bi.mbi + 4), 639);
	ck_assert_uint_eq(ram32(0x8000 + DATA_FILESZ), 0); /* the BSS is not the block */
}
END_TEST

START_TEST(test_mbi_no_room)
{
	struct img im;

	build(&im);
	phdr(&im, 1)->p_paddr = RAM - DATA_MEMSZ; /* the image reaches RAM's end */
	ck_assert_load_fails(&im, "no room above the image");
}
END_TEST

static char *temp_file(const char *text, size_t len)
{
	char *path = strdup("/tmp/tandem-module-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_modules)
{
	char *a = temp_file("first module", 12), *b = temp_file("", 0), want[64];
	struct loader_module m[2] = {{a, "arg1 arg2"}, {b, NULL}};
	uint32_t d, s;
	struct img im;

	build(&im);
	mods = m;
	nmods = 2;
	ck_assert_int_eq(load(&im), 0);
	ck_assert_uint_eq(bi.mods_count, 2);
	ck_assert_uint_eq(ram32(bi.mbi + 0) & (1u << 3), 1u << 3);
	ck_assert_uint_eq(ram32(bi.mbi + 20), 2);
	d = ram32(bi.mbi + 24); /* mods_addr: the page after the block */
	ck_assert_uint_eq(d, bi.mbi + LOADER_MBI_SIZE);
	s = ram32(d); /* module 0: page-aligned, above the descriptors, its bytes */
	ck_assert_uint_eq(s & 0xfff, 0);
	ck_assert_uint_gt(s, d);
	ck_assert_uint_eq(ram32(d + 4), s + 12);
	ck_assert_mem_eq(vm_gpa(&vm, s, 12), "first module", 12);
	snprintf(want, sizeof(want), "%s arg1 arg2", a); /* "path args", as QEMU writes it */
	ck_assert_str_eq(vm_gpa(&vm, ram32(d + 8), 1), want);
	ck_assert_str_eq(vm_gpa(&vm, ram32(d + 16 + 8), 1), b);
	ck_assert_uint_eq(ram32(d + 16 + 4), ram32(d + 16)); /* empty: end == start */
	ck_assert_uint_ge(bi.end, ram32(d + 16));
	m[1].path = "/nonexistent/module";
	ck_assert_load_fails(&im, "/nonexistent/module: cannot open");
	mods = NULL;
	nmods = 0;
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_entry_outside)
{
	struct img im;

	build(&im);
	ehdr(&im)->e_entry = DATA_PADDR + DATA_MEMSZ;
	ck_assert_load_fails(&im, "entry point 0x103000 is not inside any loaded segment");
}
END_TEST

START_TEST(test_empty_segments_skipped)
{
	struct img im;

	build(&im);
	/* A zero-sized PT_LOAD is skipped, even with nonsense in it. */
	phdr(&im, 1)->p_memsz = 0;
	phdr(&im, 1)->p_paddr = 0xfffffff0;
	ck_assert_int_eq(load(&im), 0);
	ck_assert_uint_eq(bi.load_hi, TEXT_PADDR + TEXT_SIZE);
}
END_TEST

/* ---- malformed input never crashes ---- */

static uint32_t rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

START_TEST(test_fuzz_truncations)
{
	struct img im;
	size_t n;

	build(&im);
	for (n = 0; n < im.len; n += (n < 0x100 ? 1 : 0x40))
		ck_assert_int_eq(load_bytes_cmd(im.b, n, ""), -1);
}
END_TEST

START_TEST(test_fuzz_mutations)
{
	struct img im, good;
	uint32_t s = 0x2badb002u, r;
	int iter, k, ok = 0;
	size_t off;

	build(&good);
	for (iter = 0; iter < 1500; iter++) {
		im = good;
		for (k = 0; k < 1 + (int)(rng(&s) % 4); k++) {
			r = rng(&s);
			/* Mostly the headers, where the parsing is. */
			off = r & 1 ? r % 0x90 : r % im.len;
			if (rng(&s) & 1)
				im.b[off] = (uint8_t)rng(&s);
			else if (off + 4 <= im.len)
				memcpy(im.b + off, &r, 4);
		}
		if (load(&im) == 0)
			ok++;
	}
	ck_assert_int_gt(ok, 0);
}
END_TEST

Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *ok = tcase_create("valid");
	TCase *file = tcase_create("file");
	TCase *elf = tcase_create("elf");
	TCase *mb = tcase_create("multiboot");
	TCase *seg = tcase_create("segments");
	TCase *fuzz = tcase_create("fuzz");
	TCase *all[] = {ok, file, elf, mb, seg, fuzz};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		tcase_add_checked_fixture(all[i], setup, teardown);
		suite_add_tcase(s, all[i]);
	}
	tcase_add_test(ok, test_valid_loads_segments);
	tcase_add_test(ok, test_mbi_fields);
	tcase_add_test(ok, test_mbi_mmap);
	tcase_add_test(ok, test_null_cmdline_is_empty);
	tcase_add_test(ok, test_longest_cmdline_fits);
	tcase_add_test(ok, test_higher_half_entry_translated);
	tcase_add_test(ok, test_video_flag_ignored);
	tcase_add_test(ok, test_skips_bad_checksum_header);
	tcase_add_test(ok, test_failure_leaves_ram_alone);
	tcase_add_test(file, test_missing_file);
	tcase_add_test(file, test_directory);
	tcase_add_test(file, test_empty_file);
	tcase_add_test(file, test_dev_null);
	tcase_add_test(file, test_not_elf);
	tcase_add_test(file, test_tiny_error_buffer);
	tcase_add_test(elf, test_elf64);
	tcase_add_test(elf, test_wrong_machine);
	tcase_add_test(elf, test_big_endian);
	tcase_add_test(elf, test_not_exec);
	tcase_add_test(elf, test_truncated_ehdr);
	tcase_add_test(elf, test_phoff_past_eof);
	tcase_add_test(elf, test_huge_phnum);
	tcase_add_test(elf, test_bad_phentsize);
	tcase_add_test(mb, test_no_multiboot_header);
	tcase_add_test(mb, test_multiboot_header_too_late);
	tcase_add_test(mb, test_multiboot_header_unaligned);
	tcase_add_test(mb, test_bad_checksum);
	tcase_add_test(mb, test_unsupported_flag);
	tcase_add_test(seg, test_no_pt_load);
	tcase_add_test(seg, test_filesz_gt_memsz);
	tcase_add_test(seg, test_truncated_segment);
	tcase_add_test(seg, test_outside_ram);
	tcase_add_test(seg, test_overlap);
	tcase_add_test(seg, test_mbi_above_image);
	tcase_add_test(seg, test_mbi_no_room);
	tcase_add_test(seg, test_modules);
	tcase_add_test(seg, test_entry_outside);
	tcase_add_test(seg, test_empty_segments_skipped);
	tcase_add_test(fuzz, test_fuzz_truncations);
	tcase_add_test(fuzz, test_fuzz_mutations);
	tcase_set_timeout(fuzz, 60);
	return s;
}
