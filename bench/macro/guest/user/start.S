/* start.S: minios init's ring 3 entry: the registers proc_create set become user_main's
 * arguments; its return value is init's exit status (which ends the guest). */
	.text
	.globl user_start
	.type user_start, @function
user_start:
	pushl %ecx
	pushl %ebx
	pushl %eax
	call user_main
	movl %eax, %ebx
	movl $1, %eax		/* MSYS_exit */
	int $0x80
1:	jmp 1b
	.size user_start, . - user_start
