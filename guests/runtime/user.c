/* user.c: the int 0x80 system call handler for ring 3 code started by enter_user. */
#include "rt.h"

void user_exit_to_kernel(int status) RT_NORETURN;
void syscall_init(void);
extern uint32_t user_kernel_esp; /* nonzero while enter_user is active */

static void syscall_handler(struct trapframe *tf)
{
	switch (tf->eax) {
	case SYS_exit:
		if (!user_kernel_esp) {
			printf("syscall: SYS_exit(%d) outside enter_user\n", (int)tf->ebx);
			guest_exit(EXIT_FAIL);
		}
		user_exit_to_kernel((int)tf->ebx); /* IF = 0 here: interrupt gate */
	case SYS_write:
		/* Flat segments, and every mapped page is user-visible in the identity map:
		 * a bad pointer faults here as a ring 0 #PF, which is fatal. */
		console_write((const char *)tf->ebx, tf->ecx);
		tf->eax = tf->ecx;
		break;
	case SYS_getticks:
		tf->eax = timer_ticks;
		break;
	case SYS_inc:
		tf->eax = tf->ebx + 1;
		break;
	default:
		tf->eax = (uint32_t)-1;
		break;
	}
}

int enter_user(int (*fn)(void), void *user_stack_top, int irq_on)
{
	/* fn ignores the argument rt_enter_user pushes: the cdecl caller owns the stack */
	return rt_enter_user((int (*)(uint32_t))(void *)fn, 0, user_stack_top,
	                     irq_on ? EFLAGS_IF : 0);
}

void syscall_init(void)
{
	trap_set_handler(SYSCALL_VEC, syscall_handler);
}
