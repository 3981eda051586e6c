/* trap.S: IDT entry stubs, the common trap path, and the ring 3 entry/exit. */
#include "x86.h"

/* Vectors where the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC. */
.macro STUB n
	.globl trap_vec_\n
trap_vec_\n:
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17)
	.else
	pushl $0
	.endif
	pushl $\n
	jmp trap_common
.endm

	.text
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	STUB \n
	.endr
	.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,128
	STUB \n
	.endr

/* Build a struct trapframe on the stack, call trap_dispatch(tf), unwind, iret. */
trap_common:
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	pushal
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	cld
	pushl %esp
	call trap_dispatch
	addl $4, %esp
	.globl trap_return
trap_return:
	popal
	popl %gs
	popl %fs
	popl %es
	popl %ds
	addl $8, %esp		/* vector, error code */
	iret

/* Stub addresses for idt_init: vectors 0..47, then 0x80. */
	.section .rodata
	.balign 4
	.globl trap_vectors
trap_vectors:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_vec_\n
	.endr
	.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,128
	.long trap_vec_\n
	.endr

	.text
/* int enter_user(int (*fn)(void), void *user_stack_top, int irq_on)
 * Saves the callee-saved registers and ESP (also the TSS esp0, so ring 3 traps land
 * just below), then irets to fn in ring 3 with user_return as its return address.
 * user_exit_to_kernel(status) unwinds back here and returns status. */
	.globl enter_user
	.type enter_user, @function
enter_user:
	movl 4(%esp), %ecx	/* fn */
	movl 8(%esp), %edx	/* user stack top */
	movl 12(%esp), %eax	/* irq_on */
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, user_kernel_esp
	movl %esp, rt_tss + 4	/* tss.esp0 */
	subl $4, %edx
	movl $user_return, (%edx)	/* fn's return address on the user stack */
	testl %eax, %eax
	movl $0x002, %eax	/* EFLAGS: reserved bit 1, IOPL 0 */
	jz 1f
	orl $EFLAGS_IF, %eax
1:	pushl $SEL_UDATA	/* ss */
	pushl %edx		/* esp */
	pushl %eax		/* eflags */
	pushl $SEL_UCODE	/* cs */
	pushl %ecx		/* eip */
	movw $SEL_UDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	iret
	.size enter_user, . - enter_user

/* Ring 3: fn returned; its value becomes the SYS_exit status. */
user_return:
	movl %eax, %ebx
	movl $1, %eax		/* SYS_exit */
	int $0x80
	jmp user_return

/* void user_exit_to_kernel(int status): from the ring 0 SYS_exit handler, drop the
 * trap frame and return from enter_user with status (IF stays 0). */
	.globl user_exit_to_kernel
	.type user_exit_to_kernel, @function
user_exit_to_kernel:
	movl 4(%esp), %eax
	movl user_kernel_esp, %esp
	movl $0, user_kernel_esp
	movw $SEL_KDATA, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size user_exit_to_kernel, . - user_exit_to_kernel

	.bss
	.balign 4
	.globl user_kernel_esp
user_kernel_esp:
	.long 0
