/*
 * fwcfg.h: QEMU's firmware configuration interface, the port form of its pc
 * machine (docs/specs/fw_cfg.rst): a 16-bit selector written to 0x510, the
 * selected item read a byte at a time from 0x511. Kernels written for QEMU
 * (kvm-unit-tests among them) size themselves from it: one CPU, the --mem size.
 */
#ifndef TANDEM_FWCFG_H
#define TANDEM_FWCFG_H

#include <stdint.h>

#include "bus.h"

#define FWCFG_PORT_SEL 0x510
#define FWCFG_PORT_DATA 0x511

/* Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h). */
#define FWCFG_SIGNATURE 0x00
#define FWCFG_ID 0x01
#define FWCFG_RAM_SIZE 0x03
#define FWCFG_NB_CPUS 0x05
#define FWCFG_MAX_CPUS 0x0f
#define FWCFG_FILE_DIR 0x19
#define FWCFG_FILE_FIRST 0x20

#define FWCFG_MAX_FILES 4
#define FWCFG_ITEM_MAX 512

struct fwcfg_file {
	char name[56];
	uint8_t data[FWCFG_ITEM_MAX];
	uint32_t size;
};

struct fwcfg {
	uint16_t selector;
	uint32_t offset;   /* next byte of the selected item */
	uint64_t ram_size; /* bytes, FWCFG_RAM_SIZE */
	uint16_t cpus;     /* FWCFG_NB_CPUS and FWCFG_MAX_CPUS */
	int nfiles;
	struct fwcfg_file file[FWCFG_MAX_FILES];
};

/* A machine of ram_size bytes and cpus vCPUs; no files yet. */
void fwcfg_init(struct fwcfg *f, uint64_t ram_size, uint16_t cpus);

/*
 * fwcfg_add_file: a named item in the file directory (selectors from 0x20 on, as
 * QEMU numbers them). Returns 0, -ENOSPC past FWCFG_MAX_FILES, -E2BIG when size >
 * FWCFG_ITEM_MAX or the name does not fit its 55 characters.
 */
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t size);

/* Registers 0x510-0x511 on the port bus. 0 or -errno (bus_register). */
int fwcfg_register(struct fwcfg *f, struct bus *ports);

#endif
