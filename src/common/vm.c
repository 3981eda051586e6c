/* vm.c: guest RAM as a memfd mapped once into the monitor. */
#include "vm.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int vm_init(struct vm *vm, uint64_t ram_size)
{
	int err;

	vm->memfd = -1;
	vm->ram = NULL;
	vm->ram_size = 0;
	if (ram_size < VM_MIN_MEM || ram_size > VM_MAX_MEM || (ram_size & 0xfff))
		return -EINVAL;
	vm->memfd = memfd_create("tandem-guest-ram", MFD_CLOEXEC);
	if (vm->memfd < 0)
		return -errno;
	if (ftruncate(vm->memfd, (off_t)ram_size) < 0)
		goto fail;
	vm->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->memfd, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		goto fail;
	}
	vm->ram_size = ram_size;
	return 0;
fail:
	err = -errno;
	close(vm->memfd);
	vm->memfd = -1;
	return err;
}

void vm_destroy(struct vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->memfd >= 0)
		close(vm->memfd);
	vm->ram = NULL;
	vm->memfd = -1;
}
