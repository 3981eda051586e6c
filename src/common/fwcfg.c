/* fwcfg.c: QEMU's fw_cfg port interface: signature, ID, RAM size, CPU counts, a file directory. */
#include "fwcfg.h"

#include <errno.h>
#include <string.h>

void fwcfg_init(struct fwcfg *f, uint64_t ram_size, uint16_t cpus)
{
	memset(f, 0, sizeof(*f));
	f->ram_size = ram_size;
	f->cpus = cpus;
}

int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t size)
{
	struct fwcfg_file *e;

	if (f->nfiles >= FWCFG_MAX_FILES)
		return -ENOSPC;
	if (size > FWCFG_ITEM_MAX || strlen(name) >= sizeof(e->name))
		return -E2BIG;
	e = &f->file[f->nfiles++];
	strcpy(e->name, name);
	memcpy(e->data, data, size);
	e->size = size;
	return 0;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Byte off of the selected item; items end in zeros, as QEMU reads past an item's end. */
static uint8_t item_byte(const struct fwcfg *f, uint32_t off)
{
	uint8_t buf[8] = {0};
	uint64_t le = 0;
	int len = 0;

	switch (f->selector) {
	case FWCFG_SIGNATURE:
		return off < 4 ? (uint8_t) "QEMU"[off] : 0;
	case FWCFG_ID:
		le = 1, len = 4; /* bit 0: the traditional interface; no DMA */
		break;
	case FWCFG_RAM_SIZE:
		le = f->ram_size, len = 8;
		break;
	case FWCFG_NB_CPUS:
	case FWCFG_MAX_CPUS:
		le = f->cpus, len = 2;
		break;
	case FWCFG_FILE_DIR: {
		/* Big-endian: count, then per file size(4) select(2) reserved(2) name(56). */
		uint32_t ent;

		if (off < 4) {
			put_be(buf, (uint64_t)f->nfiles, 4);
			return buf[off];
		}
		ent = (off - 4) / 64;
		off = (off - 4) % 64;
		if (ent >= (uint32_t)f->nfiles)
			return 0;
		if (off < 4)
			return put_be(buf, f->file[ent].size, 4), buf[off];
		if (off < 6)
			return put_be(buf, FWCFG_FILE_FIRST + ent, 2), buf[off - 4];
		return off < 8 ? 0 : (uint8_t)f->file[ent].name[off - 8];
	}
	default:
		if (f->selector >= FWCFG_FILE_FIRST && f->selector < FWCFG_FILE_FIRST + f->nfiles) {
			const struct fwcfg_file *e = &f->file[f->selector - FWCFG_FILE_FIRST];

			return off < e->size ? e->data[off] : 0;
		}
		return 0;
	}
	return off < (uint32_t)len ? (uint8_t)(le >> (8 * off)) : 0;
}

static void fwcfg_io(void *opaque, uint64_t offset, unsigned size, bool is_write, uint64_t *val)
{
	struct fwcfg *f = opaque;

	if (offset == 0) { /* 0x510: the selector (16-bit; QEMU takes a byte write too) */
		if (is_write) {
			f->selector = (uint16_t)*val;
			f->offset = 0;
		} else {
			*val = f->selector;
		}
		return;
	}
	/* 0x511: data. Wider reads take consecutive bytes, little-endian, as QEMU does. */
	if (is_write)
		return;
	*val = 0;
	for (unsigned i = 0; i < size; i++)
		*val |= (uint64_t)item_byte(f, f->offset++) << (8 * i);
}

int fwcfg_register(struct fwcfg *f, struct bus *ports)
{
	return bus_register(ports, FWCFG_PORT_SEL, 2, fwcfg_io, f, "fw_cfg");
}
