/*
 * dt_tramp.S: run one difftest case (i386; shared by the -m32 host runner and the
 * Multiboot guest). Everything goes through the control block at the fixed
 * address DT_CTL, so this works in a PIE host process and in the guest alike.
 *
 * int dt_run(void): save the callee-saved registers and ESP, load EFLAGS (the
 * caller's IF kept: ring 0 must not turn interrupts on, ring 3 cannot) and all
 * eight registers from DT_CTL_IN, jump to DT_CTL_CODE. The case ends with
 * `jmp *DT_CTL_EXIT` = dt_epilogue, which stores all eight registers and EFLAGS
 * in DT_CTL_OUT and returns 0. A trap handler that cannot let the case go on
 * resumes at dt_abort, which returns 1.
 */
#include "difftest.h"

#define IN(n) (DT_CTL + DT_CTL_IN + 4 * (n))
#define OUT(n) (DT_CTL + DT_CTL_OUT + 4 * (n))

	.text
	.globl dt_run
	.type dt_run, @function
dt_run:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, DT_CTL + DT_CTL_HOSTESP
	pushfl
	popl %eax
	andl $0x200, %eax		/* IF stays as it is */
	orl IN(8), %eax
	pushl %eax
	/* from here on, nothing may change the flags */
	movl IN(0), %eax
	movl IN(1), %ecx
	movl IN(2), %edx
	movl IN(3), %ebx
	movl IN(5), %ebp
	movl IN(6), %esi
	movl IN(7), %edi
	popfl
	movl IN(4), %esp
	jmp *DT_CTL + DT_CTL_CODE
	.size dt_run, . - dt_run

	.globl dt_epilogue
	.type dt_epilogue, @function
dt_epilogue:
	movl %eax, OUT(0)
	movl %ecx, OUT(1)
	movl %edx, OUT(2)
	movl %ebx, OUT(3)
	movl %esp, OUT(4)
	movl %ebp, OUT(5)
	movl %esi, OUT(6)
	movl %edi, OUT(7)
	movl DT_CTL + DT_CTL_HOSTESP, %esp
	pushfl
	popl OUT(8)
	cld
	xorl %eax, %eax
	jmp 1f
	.size dt_epilogue, . - dt_epilogue

	.globl dt_abort
	.type dt_abort, @function
dt_abort:
	movl DT_CTL + DT_CTL_HOSTESP, %esp
	cld
	movl $1, %eax
1:	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size dt_abort, . - dt_abort

	.section .note.GNU-stack, "", @progbits
