/* swtch.S: minios's kernel context switch: save the callee-saved registers on the old
 * kernel stack, store its ESP, load the new one, restore, return on the new stack. */
	.text
/* void swtch(uint32_t *save_esp, uint32_t new_esp) */
	.globl swtch
	.type swtch, @function
swtch:
	movl 4(%esp), %eax
	movl 8(%esp), %edx
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, (%eax)
	movl %edx, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size swtch, . - swtch

/* A new process's first kernel return: the trap frame built by proc.c sits at ESP. */
	.globl proc_first_return
	.type proc_first_return, @function
proc_first_return:
	jmp trap_return
	.size proc_first_return, . - proc_first_return

/* void sched_enter(uint32_t esp): start the first process: load its ESP and unwind as swtch does. */
	.globl sched_enter
	.type sched_enter, @function
sched_enter:
	movl 4(%esp), %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size sched_enter, . - sched_enter
