/*
 * native_loops.S: the host analogs of the nano-benchmarks, as timed loops.
 * Each function takes the iteration count (rdi) and returns the rdtsc cycles
 * of the whole loop; the loop shape (body; dec; jnz) is the guest's.
 */
	.intel_syntax noprefix
	.text

.macro TIMED name, body
	.globl \name
	.type \name, @function
\name:
	push rbx
	push r12
	mov r12, rdi
	lfence
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r8, rax
1:	\body
	dec r12
	jnz 1b
	lfence
	rdtsc
	shl rdx, 32
	or rax, rdx
	sub rax, r8
	pop r12
	pop rbx
	ret
	.size \name, . - \name
.endm

/* A function that returns at once: what call/ret calls. */
	.type nat_ret, @function
nat_ret:
	ret

/* The SIGFPE and SIGSEGV handlers skip the faulting 2-byte instruction. */
.macro DIVZERO
	xor ecx, ecx
	mov eax, 1
	xor edx, edx
	div ecx			/* f7 f1: 2 bytes */
.endm
.macro LOADNONE
	mov eax, [rsi]		/* 8b 06: 2 bytes; rsi points at a PROT_NONE page */
.endm
.macro SYSCALL_GETPPID
	mov eax, 110		/* __NR_getppid */
	syscall
.endm

	TIMED nat_loop_empty, nop
	TIMED nat_loop_callret, "call nat_ret"
	TIMED nat_loop_syscall, SYSCALL_GETPPID
	TIMED nat_loop_divzero, DIVZERO
	TIMED nat_loop_segv, LOADNONE

	.section .note.GNU-stack, "", @progbits
