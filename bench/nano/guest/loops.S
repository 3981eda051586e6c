/* loops.S: the nano-benchmark loops (one timed body each), their minimal handlers, ring 3 entry/exit. */
#include "x86.h"
#include "nb.h"

/* Every loop is `void nb_loop_X(uint32_t n)`: save the callee-saved registers, set
 * up, then n times { BODY; decl %ebx; jnz }. The empty loop is the same skeleton with
 * no body; its per-iteration cost is subtracted from every other row. */
.macro NB_BEGIN name
	.globl \name
	.type \name, @function
	.balign 16
\name:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl 20(%esp), %ebx	/* n */
.endm
.macro NB_LOOP
	.balign 16
1:
.endm
.macro NB_END name
	decl %ebx
	jnz 1b
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size \name, . - \name
.endm

	.text
/* empty: the loop overhead alone. */
NB_BEGIN nb_loop_empty
NB_LOOP
NB_END nb_loop_empty

/* syscall (ring 3): int $0x80 through a DPL 3 interrupt gate whose handler is a
 * bare iret (nb_int80_entry). CPL 3 -> 0 (stack switch to TSS esp0) -> 3. */
NB_BEGIN nb_loop_syscall
NB_LOOP
	int $SYSCALL_VEC
NB_END nb_loop_syscall

/* sysenter (ring 3): the caller loads the return EIP (EDX) and ESP (ECX), as a
 * vDSO does; nb_sysenter_entry only sysexits. */
NB_BEGIN nb_loop_sysenter
NB_LOOP
	movl $2f, %edx
	movl %esp, %ecx
	sysenter
2:
NB_END nb_loop_sysenter

/* in: one byte from the POST port 0x80, ring 0. */
NB_BEGIN nb_loop_in
NB_LOOP
	inb $0x80, %al
NB_END nb_loop_in

/* cr8wr: a 32-bit store to the local APIC TPR (MMIO 0xFEE00080), ring 0. The value
 * alternates 0x10, 0x00, 0x10, ... (ends at 0 for even n). Neither write can unmask
 * a pending interrupt: none is ever pending (IF = 0, every PIC line masked, the
 * LAPIC has nothing in IRR) and priority class 1 holds only vectors 0x10-0x1F,
 * which a LAPIC never delivers. */
NB_BEGIN nb_loop_cr8wr
	movl $NB_LAPIC_TPR, %edi
	xorl %eax, %eax
NB_LOOP
	xorl $NB_TPR_TOGGLE, %eax
	movl %eax, (%edi)
NB_END nb_loop_cr8wr

/* callret: call a subroutine that only returns. */
NB_BEGIN nb_loop_callret
NB_LOOP
	call nb_ret
NB_END nb_loop_callret

	.balign 16
nb_ret:
	ret

/* pgfault: a 4-byte read of NB_PF_VA, whose PTE (in the live identity page table)
 * is not present, from ring 0: a true #PF every iteration (error code 0: read,
 * not present, supervisor). nb_pf_entry skips the 2-byte `movl (%esi), %eax`. */
NB_BEGIN nb_loop_pgfault
	movl $NB_PF_VA, %esi
NB_LOOP
nb_pf_insn:
	movl (%esi), %eax	/* 8B 06 */
nb_pf_insn_end:
NB_END nb_loop_pgfault
	.if nb_pf_insn_end - nb_pf_insn - 2
	.error "pgfault: the faulting instruction must be 2 bytes"
	.endif

/* divzero: divl by ECX = 0 from ring 0: #DE every iteration; nb_de_entry skips the
 * 2-byte `divl %ecx`. */
NB_BEGIN nb_loop_divzero
	xorl %ecx, %ecx
	xorl %eax, %eax
	xorl %edx, %edx
NB_LOOP
nb_de_insn:
	divl %ecx		/* F7 F1 */
nb_de_insn_end:
NB_END nb_loop_divzero
	.if nb_de_insn_end - nb_de_insn - 2
	.error "divzero: the faulting instruction must be 2 bytes"
	.endif

/* ptemod: a 32-bit store to the PTE of NB_PTE_VA in the active page table (the
 * runtime's identity page table for 0-4 MiB, which also maps this code and its
 * stack), ring 0. The value alternates between the original PTE (frame 0x3FF000)
 * and the same PTE with frame 0x3FE000, P|W|U kept; no invlpg, and NB_PTE_VA is
 * never accessed. Even n leaves the original value. */
NB_BEGIN nb_loop_ptemod
	movl nb_pte_ptr, %edi
	movl nb_pte_val, %eax
	movl $NB_PTE_ALT, %edx
NB_LOOP
	xorl %edx, %eax
	movl %eax, (%edi)
NB_END nb_loop_ptemod

/* ---- minimal handlers: no C, no register saves ---- */
	.balign 16
	.globl nb_int80_entry
nb_int80_entry:
	iret

	.balign 16
	.globl nb_sysenter_entry
nb_sysenter_entry:
	sysexit			/* EIP = EDX, ESP = ECX, CS/SS = SYSENTER_CS + 16/24, RPL 3 */

	.balign 16
	.globl nb_pf_entry
nb_pf_entry:
	addl $2, 4(%esp)	/* [esp] = error code, [esp + 4] = eip */
	addl $4, %esp
	iret

	.balign 16
	.globl nb_de_entry
nb_de_entry:
	addl $2, (%esp)
	iret

	.bss
	.balign 16
	.globl nb_user_stack_top
nb_user_stack:
	.skip 4096
nb_user_stack_top:
