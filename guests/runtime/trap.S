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
/* int rt_enter_user(int (*fn)(uint32_t), uint32_t arg, void *user_stack_top, uint32_t eflags)
 * The one ring 3 entry of the guests. Saves the callee-saved registers and the TSS esp0,
 * points esp0 just below them (ring 3 traps land there) and irets to fn(arg) in ring 3
 * with EFLAGS = eflags | 2 and user_return as its return address. Back to ring 0 either
 * through user_return's RT_USER_EXIT_VEC gate (fn returned) or user_exit_to_kernel
 * (SYS_exit); both unwind here and return the status. */
	.globl rt_enter_user
	.type rt_enter_user, @function
rt_enter_user:
	movl 4(%esp), %ecx	/* fn */
	movl 12(%esp), %edx	/* user stack top */
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	pushl rt_tss + 4	/* the old tss.esp0, restored on the way back */
	movl 28(%esp), %eax	/* arg */
	subl $8, %edx
	movl $user_return, (%edx)	/* fn's return address on the user stack */
	movl %eax, 4(%edx)	/* and its argument */
	movl 36(%esp), %eax	/* eflags */
	orl $0x002, %eax	/* reserved bit 1 */
	movl %esp, user_kernel_esp
	movl %esp, rt_tss + 4	/* tss.esp0 */
	pushl $SEL_UDATA	/* ss */
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
	.size rt_enter_user, . - rt_enter_user

/* Ring 3: fn returned; its value is the status. The gate needs no C handler, so it works
 * whatever a guest installed on int 0x80. */
user_return:
	movl %eax, %ebx
	int $RT_USER_EXIT_VEC
user_return_done:
	jmp user_return

/* The RT_USER_EXIT_VEC gate (DPL 3): from user_return, EBX = status: drop the trap frame
 * and unwind. Any other `int 0x81` (a guest's own code) is an ordinary trap: the common
 * path with vector 0x81, whose handler a guest may set (default: fatal). */
	.globl rt_user_exit_gate
	.type rt_user_exit_gate, @function
rt_user_exit_gate:
	cmpl $user_return_done, (%esp)	/* the EIP the int pushed */
	jne 1f
	cmpl $0, user_kernel_esp
	je 1f
	movl %ebx, %eax
	jmp unwind_user
1:	pushl $0
	pushl $RT_USER_EXIT_VEC
	jmp trap_common
	.size rt_user_exit_gate, . - rt_user_exit_gate

/* void user_exit_to_kernel(int status): from the ring 0 SYS_exit handler, drop the
 * trap frame and return from rt_enter_user with status (IF stays 0). */
	.globl user_exit_to_kernel
	.type user_exit_to_kernel, @function
user_exit_to_kernel:
	movl 4(%esp), %eax
unwind_user:
	movl user_kernel_esp, %esp
	movl $0, user_kernel_esp
	movw $SEL_KDATA, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	popl rt_tss + 4
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
