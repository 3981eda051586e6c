/*
 * decode_xcheck.c: every instruction of every function in the given i386 ELF
 * files decodes to the same length under Zydis (the translator's decoder) and
 * Capstone (the listings' decoder). Functions come from the symbol table
 * (STT_FUNC with a size); each is swept linearly from its start.
 * usage: decode_xcheck FILE.elf...   exits 0 when all agree.
 */
#include <Zydis/Zydis.h>
#include <capstone/capstone.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct text {
	const uint8_t *bytes;
	uint64_t addr, size;
};

static long checked, mismatched;

/* Sweep [start, start+len) of text; count instructions and disagreements. */
static void sweep(const ZydisDecoder *zd, csh cs, const struct text *t, uint64_t start,
                  uint64_t len, const char *name, const char *file)
{
	uint64_t off = start - t->addr, end = off + len;
	cs_insn *insn = cs_malloc(cs);

	while (off < end && off < t->size) {
		ZydisDecodedInstruction zi;
		const uint8_t *p = t->bytes + off;
		size_t n = (size_t)(t->size - off);
		uint64_t a = t->addr + off;
		unsigned zlen = 0, clen = 0;

		if (ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(zd, NULL, p, n, &zi)))
			zlen = zi.length;
		if (cs_disasm_iter(cs, &p, &n, &a, insn))
			clen = insn->size;
		checked++;
		if (zlen != clen) {
			mismatched++;
			fprintf(stderr, "%s: %s+0x%llx: Zydis length %u, Capstone length %u\n",
			        file, name, (unsigned long long)(t->addr + off - start), zlen,
			        clen);
		}
		off += zlen ? zlen : (clen ? clen : 1);
	}
	cs_free(insn, 1);
}

static int check_file(const char *file, const ZydisDecoder *zd, csh cs)
{
	Elf *elf;
	Elf_Scn *scn = NULL;
	struct text t = {0};
	int fd = open(file, O_RDONLY), funcs = 0;

	if (fd < 0 || !(elf = elf_begin(fd, ELF_C_READ, NULL))) {
		fprintf(stderr, "%s: cannot read\n", file);
		return -1;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *nm;

		gelf_getshdr(scn, &sh);
		nm = elf_strptr(elf, 0, sh.sh_name);
		if (!nm) {
			size_t shstrndx;

			elf_getshdrstrndx(elf, &shstrndx);
			nm = elf_strptr(elf, shstrndx, sh.sh_name);
		}
		if (nm && !strcmp(nm, ".text")) {
			Elf_Data *d = elf_getdata(scn, NULL);

			t = (struct text){d->d_buf, sh.sh_addr, d->d_size};
		}
	}
	scn = NULL;
	while (t.bytes && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		gelf_getshdr(scn, &sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;

			gelf_getsym(d, (int)i, &sym);
			if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || !sym.st_size ||
			    sym.st_value < t.addr || sym.st_value >= t.addr + t.size)
				continue;
			sweep(zd, cs, &t, sym.st_value, sym.st_size,
			      elf_strptr(elf, sh.sh_link, sym.st_name), file);
			funcs++;
		}
	}
	elf_end(elf);
	close(fd);
	if (!funcs) {
		fprintf(stderr, "%s: no sized functions in .text\n", file);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	ZydisDecoder zd;
	csh cs;
	int i, bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: decode_xcheck FILE.elf...\n");
		return 2;
	}
	elf_version(EV_CURRENT);
	ZydisDecoderInit(&zd, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK)
		return 2;
	for (i = 1; i < argc; i++)
		bad |= check_file(argv[i], &zd, cs) != 0;
	cs_close(&cs);
	printf("decode_xcheck: %ld instructions in %d files\n", checked, argc - 1);
	printf("%ld passed, %ld failed\n", checked - mismatched, mismatched);
	return bad || mismatched ? 1 : 0;
}
