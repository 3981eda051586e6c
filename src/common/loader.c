/* loader.c: Multiboot v1 ELF32 i386 kernels into guest RAM (libelf), plus the info block. */
#include "loader.h"

#include <errno.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader_linux.h"
#include "loader_mbi.h"
#include "log.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the info block is written with host byte order; the guest is little-endian"
#endif

#define LOADER_MAX_FILE (256u << 20)
#define LOADER_MAX_SEGMENTS 64 /* keeps the pairwise overlap check cheap */
#define MB_HEADER_LEN 12       /* magic, flags, checksum */

/* Multiboot header flags (spec 0.6.96, 3.1.2): bits 0-15 are features the kernel requires. */
#define MB_PAGE_ALIGN (1u << 0)  /* modules page-aligned: they always are */
#define MB_MEMORY_INFO (1u << 1) /* mem_lower/upper and mmap: always supplied */
#define MB_VIDEO_MODE (1u << 2)  /* ignored, with a warning: text console only */
#define MB_REQUIRED_MASK 0xffffu
#define MB_SUPPORTED (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

struct image {
	const char *path;
	uint8_t *buf; /* the whole file */
	size_t size;
	Elf *elf;
	const Elf32_Ehdr *eh;
	Elf32_Phdr *ph; /* our aligned copy of the table */
	size_t phnum;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(const struct image *img, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!img->err || img->errlen == 0)
		return -1;
	n = snprintf(img->err, img->errlen, "%s: ", img->path);
	if (n >= 0 && (size_t)n < img->errlen) {
		va_start(ap, fmt);
		vsnprintf(img->err + n, img->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static unsigned int rd16(const uint8_t *p, int big)
{
	return big ? (unsigned int)p[0] << 8 | p[1] : (unsigned int)p[1] << 8 | p[0];
}

/* Reads to EOF rather than trusting st_size, so a pipe or /dev/stdin works too. */
static int read_fd(struct image *img, int fd)
{
	struct stat st;
	size_t cap, done = 0;
	uint8_t *nbuf;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return fail(img, "cannot stat: %s", strerror(errno));
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
	for (;;) {
		if (cap > LOADER_MAX_FILE + 1)
			cap = LOADER_MAX_FILE + 1;
		nbuf = realloc(img->buf, cap);
		if (!nbuf)
			return fail(img, "out of memory reading %zu bytes", cap);
		img->buf = nbuf;
		while (done < cap) {
			n = read(fd, img->buf + done, cap - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return fail(img, "cannot read: %s", strerror(errno));
			if (n == 0) {
				img->size = done;
				return 0;
			}
			done += (size_t)n;
		}
		if (done > LOADER_MAX_FILE)
			return fail(img, "file too large (more than %u MiB)",
			            LOADER_MAX_FILE >> 20);
		cap *= 2;
	}
}

static int read_file(struct image *img)
{
	int fd, rc;

	fd = open(img->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(img, "cannot open: %s", strerror(errno));
	rc = read_fd(img, fd);
	close(fd);
	return rc;
}

/*
 * Checked on the raw bytes before libelf sees them, so a wrong class is reported
 * with its machine: e_type and e_machine sit at offsets 16 and 18 in ELF32 and ELF64.
 */
static int check_ident(struct image *img)
{
	const uint8_t *b = img->buf;
	unsigned int cls, data, type, mach;
	int big;

	if (img->size < SELFMAG || memcmp(b, ELFMAG, SELFMAG) != 0)
		return fail(img, "not an ELF file");
	if (img->size < 20)
		return fail(img, "truncated ELF header (%zu bytes)", img->size);
	cls = b[EI_CLASS];
	data = b[EI_DATA];
	big = data == ELFDATA2MSB;
	type = rd16(b + 16, big);
	mach = rd16(b + 18, big);
	if (cls != ELFCLASS32 || data != ELFDATA2LSB || type != ET_EXEC || mach != EM_386)
		return fail(img,
		            "not an ELF32 i386 executable (class %u, data %u, type %u, machine %u; "
		            "want 1, 1, 2, 3)",
		            cls, data, type, mach);
	if (img->size < sizeof(Elf32_Ehdr))
		return fail(img, "truncated ELF header (%zu bytes, need %zu)", img->size,
		            sizeof(Elf32_Ehdr));
	return 0;
}

/* Bounds are checked here because elf_getphdrnum() silently clamps a count that overruns. */
static int check_phdr_table(struct image *img)
{
	const Elf32_Ehdr *eh = img->eh;
	size_t room;

	if (eh->e_phnum == 0 || eh->e_phoff == 0)
		return fail(img, "no PT_LOAD segments (no program header table)");
	if (eh->e_phnum == PN_XNUM)
		return fail(img, "extended program header count (e_phnum 0x%x) not supported",
		            eh->e_phnum);
	if (eh->e_phentsize != sizeof(Elf32_Phdr))
		return fail(img, "bad program header entry size %u (want %zu)", eh->e_phentsize,
		            sizeof(Elf32_Phdr));
	room = eh->e_phoff < img->size ? (img->size - eh->e_phoff) / sizeof(Elf32_Phdr) : 0;
	if (eh->e_phnum > room)
		return fail(img,
		            "program header table (%u entries at offset 0x%x) runs past the end "
		            "of the file (%zu bytes)",
		            eh->e_phnum, eh->e_phoff, img->size);
	return 0;
}

static int open_elf(struct image *img)
{
	const Elf32_Phdr *ph;
	size_t phnum;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(img, "libelf: %s", elf_errmsg(-1));
	img->elf = elf_memory((char *)img->buf, img->size);
	if (!img->elf)
		return fail(img, "bad ELF file: %s", elf_errmsg(-1));
	if (elf_kind(img->elf) != ELF_K_ELF)
		return fail(img, "not an ELF file (ident version %u)", img->buf[EI_VERSION]);
	img->eh = elf32_getehdr(img->elf);
	if (!img->eh)
		return fail(img, "bad ELF header: %s", elf_errmsg(-1));
	if (check_phdr_table(img))
		return -1;
	if (elf_getphdrnum(img->elf, &phnum) != 0 || phnum != img->eh->e_phnum)
		return fail(img, "bad program header count %u: %s", img->eh->e_phnum,
		            elf_errmsg(-1));
	ph = elf32_getphdr(img->elf);
	if (!ph)
		return fail(img, "bad program headers: %s", elf_errmsg(-1));
	/* On x86 libelf points into our buffer even at an odd e_phoff: copy to align. */
	img->ph = malloc(phnum * sizeof(*ph));
	if (!img->ph)
		return fail(img, "out of memory for %zu program headers", phnum);
	memcpy(img->ph, ph, phnum * sizeof(*ph));
	img->phnum = phnum;
	return 0;
}

/*
 * The header is 4-byte aligned and wholly inside the first 8192 bytes of the file.
 * Like GRUB and QEMU, a magic whose checksum fails is skipped and the scan goes on.
 */
static int find_mb_header(struct image *img, uint32_t *flags)
{
	size_t lim = img->size < MULTIBOOT_SEARCH ? img->size : MULTIBOOT_SEARCH;
	size_t off, bad_off = SIZE_MAX;
	uint32_t bad_sum = 0;

	for (off = 0; off + MB_HEADER_LEN <= lim; off += 4) {
		const uint8_t *h = img->buf + off;
		uint32_t sum = rd32(h) + rd32(h + 4) + rd32(h + 8);

		if (rd32(h) != MULTIBOOT_HEADER_MAGIC)
			continue;
		if (sum == 0) {
			*flags = rd32(h + 4);
			return 0;
		}
		if (bad_off == SIZE_MAX) {
			bad_off = off;
			bad_sum = sum;
		}
	}
	if (bad_off != SIZE_MAX)
		return fail(img,
		            "Multiboot header at offset 0x%zx has a bad checksum "
		            "(magic + flags + checksum = 0x%08x, not 0)",
		            bad_off, bad_sum);
	return fail(img, "no Multiboot header in the first %u bytes", MULTIBOOT_SEARCH);
}

/*
 * Bit 16 (a.out kludge: load addresses in the header) is not honoured: we always load
 * the ELF program headers. QEMU prefers the kludge fields when present, but for our
 * ELF guests the two agree. Bits 17-31 are optional by the spec and ignored.
 */
static int check_mb_flags(const struct image *img, uint32_t flags)
{
	uint32_t bad = flags & MB_REQUIRED_MASK & ~MB_SUPPORTED;

	if (bad)
		return fail(img,
		            "Multiboot header flags 0x%08x require unsupported features 0x%04x",
		            flags, bad);
	if (flags & MB_VIDEO_MODE)
		log_warn("%s: Multiboot video mode request ignored (text console only)", img->path);
	return 0;
}

static int is_loadable(const Elf32_Phdr *p)
{
	return p->p_type == PT_LOAD && p->p_memsz > 0;
}

static int check_segment(const struct image *img, const struct vm *vm, size_t i)
{
	const Elf32_Phdr *p = &img->ph[i];
	uint64_t end = (uint64_t)p->p_paddr + p->p_memsz;
	uint64_t ram = vm->ram_size;

	if (p->p_filesz > p->p_memsz)
		return fail(img, "segment %zu: file size 0x%x exceeds memory size 0x%x", i,
		            p->p_filesz, p->p_memsz);
	if ((uint64_t)p->p_offset + p->p_filesz > img->size)
		return fail(img,
		            "segment %zu is truncated: bytes 0x%x..0x%llx are past the end of "
		            "the file (%zu bytes)",
		            i, p->p_offset, (unsigned long long)p->p_offset + p->p_filesz,
		            img->size);
	if (!vm_gpa(vm, p->p_paddr, p->p_memsz))
		return fail(img, "segment %zu at 0x%x (size 0x%x) is outside guest RAM (%llu %s)",
		            i, p->p_paddr, p->p_memsz,
		            (unsigned long long)(ram & 0xfffff ? ram >> 10 : ram >> 20),
		            ram & 0xfffff ? "KiB" : "MiB");
	(void)end;
	return 0;
}

static int check_overlaps(const struct image *img)
{
	const Elf32_Phdr *a, *b;
	size_t i, j;

	for (i = 0; i < img->phnum; i++) {
		a = &img->ph[i];
		for (j = 0; j < i && is_loadable(a); j++) {
			b = &img->ph[j];
			if (!is_loadable(b))
				continue;
			if ((uint64_t)a->p_paddr < (uint64_t)b->p_paddr + b->p_memsz &&
			    (uint64_t)b->p_paddr < (uint64_t)a->p_paddr + a->p_memsz)
				return fail(img,
				            "segments %zu at 0x%x (size 0x%x) and %zu at 0x%x "
				            "(size 0x%x) overlap",
				            j, b->p_paddr, b->p_memsz, i, a->p_paddr, a->p_memsz);
		}
	}
	return 0;
}

static int check_segments(const struct image *img, const struct vm *vm)
{
	size_t i, n = 0;

	for (i = 0; i < img->phnum; i++) {
		if (!is_loadable(&img->ph[i]))
			continue;
		if (++n > LOADER_MAX_SEGMENTS)
			return fail(img, "too many PT_LOAD segments (more than %d)",
			            LOADER_MAX_SEGMENTS);
		if (check_segment(img, vm, i))
			return -1;
	}
	if (n == 0)
		return fail(img, "no PT_LOAD segments (%zu program headers)", img->phnum);
	return check_overlaps(img);
}

/*
 * The guest starts with paging off, so the entry must be physical. Identity-linked
 * guests have e_entry in a segment's physical range; a higher-half kernel has it in
 * a virtual range, and it is moved by that segment's p_vaddr -> p_paddr offset.
 */
static int find_entry(const struct image *img, uint32_t *entry)
{
	uint32_t e = img->eh->e_entry;
	const Elf32_Phdr *p;
	size_t i;

	for (i = 0; i < img->phnum; i++) {
		p = &img->ph[i];
		if (is_loadable(p) && e >= p->p_paddr && e - p->p_paddr < p->p_memsz) {
			*entry = e;
			return 0;
		}
	}
	for (i = 0; i < img->phnum; i++) {
		p = &img->ph[i];
		if (is_loadable(p) && e >= p->p_vaddr && e - p->p_vaddr < p->p_memsz) {
			*entry = e - p->p_vaddr + p->p_paddr;
			return 0;
		}
	}
	return fail(img, "entry point 0x%x is not inside any loaded segment", e);
}

static int check_cmdline(const struct image *img, const char *cmdline)
{
	size_t len = strlen(cmdline), room = mbi_cmdline_room();

	if (len > room)
		return fail(img,
		            "command line too long (%zu bytes; at most %zu fit in the info block)",
		            len, room);
	return 0;
}

/* Only called once every segment has been checked: nothing is written on failure. */
static void load_segments(const struct image *img, struct vm *vm, struct boot_info *bi)
{
	const Elf32_Phdr *p;
	uint8_t *dst;
	size_t i;

	bi->load_lo = UINT32_MAX;
	bi->load_hi = 0;
	for (i = 0; i < img->phnum; i++) {
		p = &img->ph[i];
		if (!is_loadable(p))
			continue;
		dst = vm_gpa(vm, p->p_paddr, p->p_memsz);
		memcpy(dst, img->buf + p->p_offset, p->p_filesz);
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
		if (p->p_paddr < bi->load_lo)
			bi->load_lo = p->p_paddr;
		if (p->p_paddr + p->p_memsz > bi->load_hi)
			bi->load_hi = p->p_paddr + p->p_memsz;
	}
}

/* The modules' files, read whole; their strings ("path args", as QEMU writes them). */
struct modules {
	struct image img[LOADER_MAX_MODULES];
	struct mbi_module m[LOADER_MAX_MODULES];
	char *str[LOADER_MAX_MODULES];
	int n;
};

static int read_modules(struct image *kernel, const struct loader_module *mods, int n,
                        struct modules *out)
{
	if (n < 0 || n > LOADER_MAX_MODULES)
		return fail(kernel, "too many modules (%d; at most %d)", n, LOADER_MAX_MODULES);
	for (out->n = 0; out->n < n; out->n++) {
		struct image *img = &out->img[out->n];
		const struct loader_module *lm = &mods[out->n];
		size_t len = strlen(lm->path) + (lm->cmdline ? strlen(lm->cmdline) + 1 : 0) + 1;

		*img =
		    (struct image){.path = lm->path, .err = kernel->err, .errlen = kernel->errlen};
		out->str[out->n] = NULL;
		if (read_file(img) || !(out->str[out->n] = malloc(len))) {
			free(img->buf); /* not yet counted in out->n: free_modules would miss it */
			img->buf = NULL;
			return img->err && !*img->err ? fail(img, "out of memory") : -1;
		}
		snprintf(out->str[out->n], len, "%s%s%s", lm->path, lm->cmdline ? " " : "",
		         lm->cmdline ? lm->cmdline : "");
		out->m[out->n] = (struct mbi_module){img->buf, img->size, out->str[out->n]};
	}
	return 0;
}

static void free_modules(struct modules *mods)
{
	for (int i = 0; i < mods->n; i++) {
		free(mods->img[i].buf);
		free(mods->str[i]);
	}
}

/* Where the info block and modules go: above every segment (end = the image's top). */
static int plan_mbi(struct image *img, const struct vm *vm, struct modules *mods,
                    struct mbi_layout *l)
{
	uint32_t hi = 0;
	size_t i;

	for (i = 0; i < img->phnum; i++)
		if (is_loadable(&img->ph[i]) && img->ph[i].p_paddr + img->ph[i].p_memsz > hi)
			hi = img->ph[i].p_paddr + img->ph[i].p_memsz;
	if (mbi_plan(vm, hi, mods->m, mods->n, l, img->err, img->errlen)) {
		char why[200];

		snprintf(why, sizeof(why), "%s", img->err);
		return fail(img, "%s", why);
	}
	return 0;
}

int loader_load(struct vm *vm, const char *path, const char *cmdline,
                const struct loader_module *mods, int nmods, struct boot_info *bi, char *err,
                size_t errlen)
{
	struct image img = {.path = path, .err = err, .errlen = errlen};
	struct boot_info out = {0};
	struct modules *m = calloc(1, sizeof(*m));
	struct mbi_layout l;
	int rc = -1;

	if (err && errlen)
		err[0] = '\0';
	if (!cmdline)
		cmdline = "";
	if (read_file(&img) || check_ident(&img) || open_elf(&img) ||
	    find_mb_header(&img, &out.mb_flags) || check_mb_flags(&img, out.mb_flags) ||
	    check_segments(&img, vm) || find_entry(&img, &out.entry) ||
	    check_cmdline(&img, cmdline) || !m || read_modules(&img, mods, nmods, m) ||
	    plan_mbi(&img, vm, m, &l))
		goto out;
	load_segments(&img, vm, &out);
	mbi_write(vm, &l, cmdline, m->m, m->n);
	out.mbi = l.mbi;
	out.mods_count = (uint32_t)m->n;
	out.end = l.end;
	*bi = out;
	log_info("%s: loaded 0x%x-0x%x, entry 0x%x, Multiboot flags 0x%08x", path, out.load_lo,
	         out.load_hi, out.entry, out.mb_flags);
	rc = 0;
out:
	if (m) {
		free_modules(m);
		free(m);
	}
	if (img.elf)
		elf_end(img.elf);
	free(img.ph);
	free(img.buf);
	return rc;
}

bool loader_is_bzimage(const char *path)
{
	uint8_t head[0x240];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return false;
	/* Only a regular file is peeked at: a pipe's bytes would be gone for the loader. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	n = read(fd, head, sizeof(head));
	close(fd);
	return n == (ssize_t)sizeof(head) && linux_is_bzimage(head, sizeof(head));
}

int loader_load_linux(struct vm *vm, const char *path, const char *cmdline, const char *initrd,
                      struct boot_info *bi, char *err, size_t errlen)
{
	struct image k = {.path = path, .err = err, .errlen = errlen};
	struct image rd = {.path = initrd, .err = err, .errlen = errlen};
	struct linux_boot lb;
	int rc = -1;

	if (read_file(&k) || (initrd && read_file(&rd)) ||
	    linux_load(vm, path, k.buf, k.size, cmdline ? cmdline : "", rd.buf, rd.size, &lb, err,
	               errlen))
		goto out;
	*bi = (struct boot_info){.entry = lb.entry,
	                         .load_lo = LINUX_KERNEL_ADDR,
	                         .load_hi = lb.kernel_end,
	                         .end = lb.kernel_end,
	                         .is_linux = true,
	                         .boot_params = lb.boot_params,
	                         .gdt = lb.gdt,
	                         .gdt_limit = lb.gdt_limit};
	log_info(
	    "%s: Linux boot protocol %u.%02u, kernel 0x%x-0x%x, entry 0x%x, initrd 0x%x (%u bytes)",
	    path, lb.version >> 8, lb.version & 0xff, LINUX_KERNEL_ADDR, lb.kernel_end, lb.entry,
	    lb.initrd, lb.initrd_size);
	rc = 0;
out:
	free(k.buf);
	free(rd.buf);
	return rc;
}
