/* entry.S: Multiboot v1 header, the boot entry stub and the GDT/segment reload. */
#include "multiboot.h"
#include "x86.h"

#define BOOT_STACK_SIZE 16384

	.section .multiboot, "a"
	.balign 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
/* Multiboot entry: EAX = magic, EBX = info block, flat CS/DS, PG = 0, IF = 0. The
 * GDTR may be stale, so no segment register is touched before gdt_init. */
	.globl _start
	.type _start, @function
_start:
	movl $boot_stack_top, %esp	/* Multiboot leaves ESP undefined */
	pushl $0		/* clear DF/IF/AC and friends */
	popfl
	movl %eax, %esi		/* esi, ebx survive the bss clear and the C calls */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl		/* the loader should have zeroed .bss; be sure */
	xorl %ebp, %ebp
	pushl %ebx
	pushl %esi
	call rt_init
	addl $8, %esp
	pushl %ebx
	pushl %esi
	call kmain
	addl $8, %esp
	pushl %eax
	call guest_exit
1:	cli
	hlt
	jmp 1b
	.size _start, . - _start

/* void gdt_load(const struct dtr *d): lgdt, then reload CS with a far jump and the
 * data segments with SEL_KDATA. */
	.globl gdt_load
	.type gdt_load, @function
gdt_load:
	movl 4(%esp), %eax
	lgdt (%eax)
	ljmp $SEL_KCODE, $1f
1:	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	ret
	.size gdt_load, . - gdt_load

	.bss
	.balign 16
	.globl boot_stack_top
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:
