/*
 * proc.c: minios processes: creation, fork (an eager copy of every user page: a
 * forkwait child touches only its stack before exiting, so copy-on-write would trade
 * one copy for a write fault plus the same copy), exit and wait.
 */
#include "minios.h"

struct proc procs[NPROC];
uint32_t procs_created, procs_reaped;
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static int next_pid = 1;

void proc_first_return(void);

/* A free slot with its kernel stack and a fresh address space, or NULL. */
static struct proc *proc_alloc(void)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];

		if (p->state != P_FREE)
			continue;
		memset(p, 0, sizeof(*p));
		p->pd = vm_new();
		if (!p->pd)
			return NULL;
		p->kstack = kstacks[i];
		p->pid = next_pid++;
		p->brk = HEAP_BASE;
		return p;
	}
	return NULL;
}

/* Lay out p's kernel stack so that swtch() to it returns through trap_return with tf. */
static void proc_set_frame(struct proc *p, const struct trapframe *tf)
{
	uint32_t *sp = (uint32_t *)(p->kstack + KSTACK_SIZE - sizeof(*tf));

	memcpy(sp, tf, sizeof(*tf));
	*--sp = (uint32_t)proc_first_return;
	for (int i = 0; i < 4; i++) /* ebp, ebx, esi, edi for swtch's pops */
		*--sp = 0;
	p->kesp = (uint32_t)sp;
	p->state = P_RUNNABLE;
	procs_created++;
}

struct proc *proc_create(uint32_t user_entry, uint32_t a0, uint32_t a1, uint32_t a2)
{
	struct proc *p = proc_alloc();
	struct trapframe tf;

	if (!p)
		return NULL;
	memset(&tf, 0, sizeof(tf));
	tf.eax = a0, tf.ebx = a1, tf.ecx = a2;
	tf.ds = tf.es = tf.fs = tf.gs = tf.ss = SEL_UDATA;
	tf.cs = SEL_UCODE;
	tf.eip = user_entry;
	tf.esp = STACK_TOP;
	tf.eflags = 0x002 | EFLAGS_IF;
	proc_set_frame(p, &tf);
	return p;
}

int proc_fork(struct trapframe *tf)
{
	struct proc *p = proc_alloc();
	struct trapframe child = *tf;

	if (!p)
		return -1;
	if (vm_copy(p->pd, cur->pd)) {
		vm_free_user(p->pd);
		vm_free_pd(p->pd);
		p->state = P_FREE;
		return -1;
	}
	p->parent = cur->pid;
	p->brk = cur->brk;
	for (int i = 0; i < NFD; i++) {
		p->fd[i] = cur->fd[i];
		fd_dup(&p->fd[i]);
	}
	child.eax = 0;
	proc_set_frame(p, &child);
	return p->pid;
}

void proc_exit(int status)
{
	for (int i = 0; i < NFD; i++)
		fd_drop(&cur->fd[i]);
	vm_free_user(cur->pd); /* the low table and the directory go when reaped: still loaded */
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state != P_FREE && procs[i].parent == cur->pid)
			procs[i].parent = 1;
	cur->status = status;
	cur->state = P_ZOMBIE;
	if (cur->pid == 1) /* init is done: its status is the guest's */
		guest_exit(status ? EXIT_FAIL : EXIT_OK);
	for (int i = 0; i < NPROC; i++)
		if (procs[i].pid == cur->parent && procs[i].state != P_FREE)
			wakeup(&procs[i]);
	schedule();
	printf("minios: FAIL a zombie ran\n");
	guest_exit(EXIT_FAIL);
}

int proc_wait(uint32_t status_va)
{
	if (status_va && !user_range(status_va, 4, 1))
		return -1;
	for (;;) {
		int children = 0;

		for (int i = 0; i < NPROC; i++) {
			struct proc *p = &procs[i];

			if (p->state == P_FREE || p->parent != cur->pid)
				continue;
			children++;
			if (p->state != P_ZOMBIE)
				continue;
			int pid = p->pid;

			if (status_va)
				*(volatile int *)status_va =
				    p->status; /* may fault in: demand paging */
			vm_free_pd(p->pd);
			p->state = P_FREE;
			procs_reaped++;
			return pid;
		}
		if (!children)
			return -1;
		sleep_on(cur);
	}
}
