/* syscall.c: minios's int 0x80 dispatcher (numbers in user/sysnum.h), the #PF hook. */
#include "minios.h"

static void sys_sbrk(struct trapframe *tf)
{
	uint32_t old = cur->brk, new = old + tf->ebx;

	if (((int32_t)tf->ebx > 0 && new < old) || ((int32_t)tf->ebx < 0 && new > old) ||
	    new < HEAP_BASE || new > HEAP_MAX) {
		tf->eax = (uint32_t)-1;
		return;
	}
	if (new < old)
		vm_unmap_range(new, old);
	cur->brk = new;
	tf->eax = old;
}

static void syscall(struct trapframe *tf)
{
	switch (tf->eax) {
	case MSYS_exit:
		proc_exit((int)tf->ebx);
	case MSYS_fork:
		tf->eax = (uint32_t)proc_fork(tf);
		break;
	case MSYS_wait:
		tf->eax = (uint32_t)proc_wait(tf->ebx);
		break;
	case MSYS_yield:
		tf->eax = 0;
		schedule();
		break;
	case MSYS_pipe:
		tf->eax = (uint32_t)pipe_open(tf->ebx);
		break;
	case MSYS_read:
		tf->eax = (uint32_t)fd_read((int)tf->ebx, tf->ecx, tf->edx);
		break;
	case MSYS_write:
		tf->eax = (uint32_t)fd_write((int)tf->ebx, tf->ecx, tf->edx);
		break;
	case MSYS_close:
		tf->eax = (uint32_t)fd_close((int)tf->ebx);
		break;
	case MSYS_sbrk:
		sys_sbrk(tf);
		break;
	case MSYS_getpid:
		tf->eax = (uint32_t)cur->pid;
		break;
	case MSYS_nswitch:
		tf->eax = ctx_switches;
		break;
	case MSYS_nfree:
		tf->eax = frames_free();
		break;
	default:
		tf->eax = (uint32_t)-1;
		break;
	}
}

void syscall_install(void)
{
	trap_set_handler(SYSCALL_VEC, syscall);
	trap_set_handler(14, vm_fault);
}
