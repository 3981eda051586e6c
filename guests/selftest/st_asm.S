/* st_asm.S: selftest helpers that must be exact machine code: setjmp/longjmp for the
 * runner, ring 3 entry with chosen EFLAGS, the sysenter entry point, self-modifying
 * code, and a private #BP stub for the lidt check. */
#include "x86.h"

	.text
/* int st_setjmp(struct jmpbuf *jb): ebx esi edi ebp esp eip */
	.globl st_setjmp
	.type st_setjmp, @function
st_setjmp:
	movl 4(%esp), %eax
	movl %ebx, 0(%eax)
	movl %esi, 4(%eax)
	movl %edi, 8(%eax)
	movl %ebp, 12(%eax)
	leal 4(%esp), %ecx
	movl %ecx, 16(%eax)
	movl (%esp), %ecx
	movl %ecx, 20(%eax)
	xorl %eax, %eax
	ret
	.size st_setjmp, . - st_setjmp

/* void st_longjmp(struct jmpbuf *jb, int v): from any ring 0 context (a trap handler
 * included: its frame is simply dropped). */
	.globl st_longjmp
	.type st_longjmp, @function
st_longjmp:
	movl 4(%esp), %edx
	movl 8(%esp), %eax
	movl 0(%edx), %ebx
	movl 4(%edx), %esi
	movl 8(%edx), %edi
	movl 12(%edx), %ebp
	movl 16(%edx), %esp
	jmp *20(%edx)
	.size st_longjmp, . - st_longjmp

/* ECX = entry, EDX = esp3 (the two arguments); rt_enter_user's frame (callee-saved
 * registers, the old tss.esp0, which the unwind restores), then the outer SS:ESP of a
 * return to ring 3. */
.macro OUTER_FRAME
	movl 4(%esp), %ecx
	movl 8(%esp), %edx
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	pushl rt_tss + 4
	movl %esp, user_kernel_esp
	movl %esp, rt_tss + 4
	pushl $SEL_UDATA	/* outer ss */
	pushl %edx		/* outer esp */
.endm

/* int st_farret_outer(void (*entry)(void), uint32_t esp3): from ring 0, `lret $8` to
 * entry in ring 3 (CS 0x1B) on SS:ESP 0x23:esp3, DS and ES still the kernel's data
 * segment (DPL 0). The frame is rt_enter_user's, so entry's SYS_exit returns its status
 * from here. */
	.globl st_farret_outer
	.type st_farret_outer, @function
st_farret_outer:
	OUTER_FRAME
	subl $8, %esp		/* the 8 bytes of parameters `lret $8` releases */
	pushl $SEL_UCODE	/* cs */
	pushl %ecx		/* eip */
	lret $8
	.size st_farret_outer, . - st_farret_outer

/* Ring 3, after st_farret_outer: records ESP, DS and ES (through SS: DS may be null). */
	.globl st_farret_entry
st_farret_entry:
	movl %esp, %ss:st_fr_esp
	movw %ds, %ss:st_fr_ds
	movw %es, %ss:st_fr_es
	movl $1, %eax		/* SYS_exit */
	movl $7, %ebx
	int $0x80
1:	jmp 1b

	.data
	.globl st_fr_esp, st_fr_ds, st_fr_es
	.balign 4
st_fr_esp: .long 0
st_fr_ds: .long 0
st_fr_es: .long 0
	.text

/* int st_iret_outer(void (*entry)(void), uint32_t esp3): from ring 0, `iret` to entry in
 * ring 3 (CS 0x1B) on SS:ESP 0x23:esp3, DS and ES the user data segment, FS and GS still
 * the kernel's (DPL 0): the iret nulls FS and GS (SDM Vol. 2 IRET, return to outer
 * privilege level). The frame is rt_enter_user's, so entry's SYS_exit returns from here. */
	.globl st_iret_outer
	.type st_iret_outer, @function
st_iret_outer:
	OUTER_FRAME
	pushl $0x2		/* eflags */
	pushl $SEL_UCODE	/* cs */
	pushl %ecx		/* eip */
	movw $SEL_UDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw $SEL_KDATA, %ax
	movw %ax, %fs
	movw %ax, %gs
	iret
	.size st_iret_outer, . - st_iret_outer

/* Ring 3, after st_iret_outer: records FS and GS, then loads through FS (armed as
 * ST_ARM does: a #GP resumes at 2) and exits with status 7. */
	.globl st_iret_entry
st_iret_entry:
	movw %fs, %ss:st_ir_fs
	movw %gs, %ss:st_ir_gs
	movl $2f, st_resume
	movl $1f, st_at
	xorl %eax, %eax
1:	movl %fs:st_ir_word, %eax
2:	movl $0, st_resume
	movl %eax, st_ir_val
	movl $1, %eax		/* SYS_exit */
	movl $7, %ebx
	int $0x80
3:	jmp 3b

	.data
	.globl st_ir_fs, st_ir_gs, st_ir_val, st_ir_word
	.balign 4
st_ir_fs: .long 0
st_ir_gs: .long 0
st_ir_val: .long 0
st_ir_word: .long 0x5eed1e55
	.text

/* uint32_t st_tss_esp0(void) */
	.globl st_tss_esp0
st_tss_esp0:
	movl rt_tss + 4, %eax
	ret

/* sysenter lands here (CS = MSR 0x174, ESP = MSR 0x175). Records the entry state,
 * returns EAX = EBX + 2 * ESI and sysexits to EDX:ECX. */
	.globl st_sysenter_entry
st_sysenter_entry:
	movl %esp, se_esp
	movw %cs, %ax
	movw %ax, se_cs
	movw %ss, %ax
	movw %ax, se_ss
	pushfl
	popl se_eflags
	incl se_count
	leal (%ebx,%esi,2), %eax
	sysexit

	.data
	.globl se_esp, se_cs, se_ss, se_eflags, se_count
	.balign 4
se_esp:	.long 0
se_eflags: .long 0
se_count: .long 0
se_cs:	.word 0
se_ss:	.word 0

	.text
/* uint32_t smc_get(void): mov $imm32, %eax; ret. The check patches the immediate. */
	.globl smc_get, smc_get_imm
	.balign 16
smc_get:
	.byte 0xB8
smc_get_imm:
	.long 0x11111111
	ret

/* uint32_t smc_loop(uint32_t n): each iteration patches the immediate of the very next
 * instruction with the counter and executes it: returns 1 + 2 + ... + n. */
	.globl smc_loop
	.balign 16
smc_loop:
	movl 4(%esp), %ecx
	xorl %edx, %edx
1:	movl %ecx, 2f + 1
2:	movl $0, %eax
	addl %eax, %edx
	decl %ecx
	jnz 1b
	movl %edx, %eax
	ret

/* uint32_t smc_ahead(void): rewrites the instruction right after its stores (same
 * page, same cache line) from `mov $0xBAD0BAD0, %eax` into `xor %eax, %eax; inc %eax
 * (x3)` before it executes: returns 3. */
	.globl smc_ahead, smc_ahead_insn
	.balign 16
smc_ahead:
	movl $0x4040C031, smc_ahead_insn	/* 31 C0 40 40 */
	movb $0x40, smc_ahead_insn + 4		/* 40 */
smc_ahead_insn:
	movl $0xBAD0BAD0, %eax		/* B8 D0 BA D0 BA */
	ret
	.globl smc_ahead_restore
smc_ahead_restore:
	movl $0xD0BAD0B8, smc_ahead_insn
	movb $0xBA, smc_ahead_insn + 4
	ret

/* #BP stub for the private IDT of the lidt check: counts, iret. */
	.globl st_bp_stub
st_bp_stub:
	incl st_bp_hits
	iret
	.bss
	.globl st_bp_hits
st_bp_hits: .long 0
