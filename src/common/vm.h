/* vm.h: guest physical memory, one memfd shared by every engine. */
#ifndef TANDEM_VM_H
#define TANDEM_VM_H

#include <stddef.h>
#include <stdint.h>

#define VM_DEFAULT_MEM (64ULL << 20)
#define VM_MIN_MEM (2ULL << 20)
#define VM_MAX_MEM (3ULL << 30) /* below the i386 MMIO hole at 0xC0000000 */

struct vm {
	int memfd;    /* backs guest RAM; engines map it again as they need */
	uint8_t *ram; /* the monitor's own mapping of all of RAM */
	uint64_t ram_size;
};

/*
 * Create guest RAM of ram_size bytes (a multiple of 4 KiB, VM_MIN_MEM..VM_MAX_MEM).
 * Returns 0, or a negative errno with nothing left allocated.
 */
int vm_init(struct vm *vm, uint64_t ram_size);
void vm_destroy(struct vm *vm); /* unmap and close; safe twice and after a failed vm_init */

/*
 * The one checked guest-physical translate: a host pointer to [gpa, gpa+len)
 * when the whole range lies in RAM, else NULL. Every guest-supplied address
 * goes through here (or through an engine's own MMU built on it).
 */
static inline void *vm_gpa(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa > vm->ram_size || len > vm->ram_size - gpa)
		return NULL;
	return vm->ram + gpa;
}

#endif
