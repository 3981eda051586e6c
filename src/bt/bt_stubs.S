/*
 * bt_stubs.S: the fixed code around translated blocks. Position-independent:
 * bt_cache copies bt_stubs_start..bt_stubs_end to the head of the translation
 * cache, so translated code reaches it with rel32 and a signal landing in it
 * counts as "in the cache". Only r14-relative data is used.
 */
#include "bt_asm.h"

	.intel_syntax noprefix
	.text
	.globl bt_stubs_start, bt_stubs_end, bt_stub_enter, bt_stub_exit
	.globl bt_stub_exit_saved, bt_stub_callout, bt_stub_miss, bt_stub_probe

/* The guest's registers and flags between the host registers and struct bt_cpu. */
.macro SAVE_GUEST
	mov [r14 + 0], eax
	mov [r14 + 4], ecx
	mov [r14 + 8], edx
	mov [r14 + 12], ebx
	mov [r14 + 16], r15d
	mov [r14 + 20], ebp
	mov [r14 + 24], esi
	mov [r14 + 28], edi
	pushfq
	pop rax
	mov [r14 + CPU_HFLAGS], eax
.endm

.macro LOAD_GUEST
	mov eax, [r14 + CPU_HFLAGS]
	and eax, BT_ASM_FLAGS_MASK
	mov ecx, eax /* df_step = DF ? -1 : 1 */
	shr ecx, 9
	and ecx, 2
	neg rcx
	inc rcx
	mov [r14 + CPU_DFSTEP], rcx
	push rax
	popfq
	mov eax, [r14 + 0]
	mov ecx, [r14 + 4]
	mov edx, [r14 + 8]
	mov ebx, [r14 + 12]
	mov r15d, [r14 + 16]
	mov ebp, [r14 + 20]
	mov esi, [r14 + 24]
	mov edi, [r14 + 28]
	mov r8, [r14 + CPU_VBASE]
.endm

/*
 * A flag-free jump-cache probe: key (a register holding the guest eip, upper half
 * zero) += [r14 + key_off]; r11 = the table at [r14 + table_off], idx = the entry's
 * index * 2 (16-byte entries); at a hit it jumps to hit with the guest's ECX in r10
 * (the hit swaps it back: xchg r10, rcx), else falls through with rcx intact.
 */
.macro JC_PROBE key, idx, key_off, table_off, hit
	mov r10, [r14 + \key_off]
	lea \key, [\key + r10]
	movzx \idx\()d, \key\()w
	mov r11, [r14 + \table_off]
	lea \idx, [\idx + \idx]
	mov r10, [r11 + \idx*8]
	not r10
	lea r10, [r10 + \key]
	not r10 /* entry - key */
	xchg r10, rcx
	jrcxz \hit
	xchg r10, rcx
.endm

bt_stubs_start:

/* int bt_stub_enter(struct bt_cpu *cpu [rdi], void *code [rsi]): returns cpu->exit_reason. */
bt_stub_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	sub rsp, 8
	mov [rdi + CPU_HOST_RSP], rsp
	mov r14, rdi
	mov r13, rsi
	/* A kick that came before this point is seen here; one after it unlinks the cache. */
	cmp qword ptr [r14 + CPU_EXIT_REQ], 0
	jne 1f
	LOAD_GUEST
	jmp r13
1:	mov dword ptr [r14 + CPU_EXIT_REASON], BT_ASM_EXIT_KICK
	jmp bt_stub_exit_saved

/* From translated code: guest state in registers; eip, exit_reason, exit_tb stored. */
bt_stub_exit:
	SAVE_GUEST
/* Guest state already in cpu (also the signal handlers' way out). */
bt_stub_exit_saved:
	mov rsp, [r14 + CPU_HOST_RSP]
	cld
	mov eax, [r14 + CPU_EXIT_REASON]
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

/*
 * call from translated code with cpu->co_site set. Saves the guest state, calls
 * the C callout (rdi = cpu): 0 means go on after the call (registers reloaded
 * from cpu, which C may have changed), BT_ASM_CO_JUMP means go on at cpu->jump
 * (another block: a system call delivered without leaving the cache), anything
 * else is an exit reason.
 */
bt_stub_callout:
	SAVE_GUEST
	cld
	mov r13, rsp
	and rsp, -16
	mov rdi, r14
	call [r14 + CPU_C_CALLOUT]
	mov rsp, r13
	test eax, eax
	jz 4f
	cmp eax, BT_ASM_CO_JUMP
	jne 2f
4:	/* A kick while C ran was only flagged: honour it here, before going back. */
	cmp qword ptr [r14 + CPU_EXIT_REQ], 0
	jne 3f
	test eax, eax
	jz 5f
	/* CO_JUMP: go on in the block at cpu->jump instead of after the call. */
	pop r12
	push qword ptr [r14 + CPU_JUMP]
5:	LOAD_GUEST
	ret
2:	mov [r14 + CPU_EXIT_REASON], eax
	jmp bt_stub_exit_saved
3:	mov dword ptr [r14 + CPU_EXIT_REASON], BT_ASM_EXIT_KICK
	jmp bt_stub_exit_saved

/* An indirect branch missed the jump cache: r13d is the guest target. */
bt_stub_miss:
	/*
	 * A second chance before the dispatcher, flag-free like the probes: the global
	 * jump cache, keyed by (eip, cpu->gjc_key), holds CPL 0-2 blocks on global pages
	 * and survives CR3 loads (tc_jc_fill). r13d is the guest target.
	 */
	mov r12d, r13d
	JC_PROBE r12, r9, CPU_GJC_KEY, CPU_GJC, 2f
	mov [r14 + CPU_EIP], r13d
	mov dword ptr [r14 + CPU_EXIT_REASON], BT_ASM_EXIT_MISS
	mov qword ptr [r14 + CPU_EXIT_TB], 0
	jmp bt_stub_exit
2:	xchg r10, rcx
	jmp [r11 + r9*8 + 8]

/*
 * A direct branch whose target depends on a segment its block does not check:
 * r13d (upper half zero) is the guest target; probe the jump cache as translated
 * indirect branches do (flag-free), else the miss stub.
 */
bt_stub_probe:
	JC_PROBE r13, r12, CPU_JC_KEY, CPU_JC, 1f
	jmp bt_stub_miss
1:	xchg r10, rcx
	jmp [r11 + r12*8 + 8]

bt_stubs_end:
	.section .note.GNU-stack, "", @progbits
