/*
 * sched.c: minios's round-robin scheduler. The kernel runs with IF = 0 (every gate is
 * an interrupt gate), so the PIT's IRQ0 only arrives in ring 3, where it preempts;
 * in the kernel a process gives up the CPU only by sleeping or yielding. No idle
 * loop: when nothing is runnable nothing can wake up, which is reported as a deadlock.
 */
#include "minios.h"

struct proc *cur;
uint32_t ctx_switches;

void sched_enter(uint32_t esp) RT_NORETURN;

/* Load p's address space and ring 0 stack. */
static void load(struct proc *p)
{
	write_cr3((uint32_t)p->pd);
	tss_set_esp0((uint32_t)p->kstack + KSTACK_SIZE);
}

void schedule(void)
{
	int base = (int)(cur - procs);

	for (int k = 1; k <= NPROC; k++) {
		struct proc *p = &procs[(base + k) % NPROC];

		if (p->state != P_RUNNABLE)
			continue;
		if (p == cur)
			return;
		struct proc *old = cur;

		ctx_switches++;
		cur = p;
		load(p);
		swtch(&old->kesp, p->kesp);
		return;
	}
	printf("minios: FAIL deadlock: no runnable process (pid %d state %d)\n", cur->pid,
	       cur->state);
	guest_exit(EXIT_FAIL);
}

void sleep_on(const void *chan)
{
	cur->chan = chan;
	cur->state = P_SLEEPING;
	schedule();
	cur->chan = NULL;
}

void wakeup(const void *chan)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == P_SLEEPING && procs[i].chan == chan)
			procs[i].state = P_RUNNABLE;
}

/* IRQ0: count the tick; from ring 3, the time slice is over. */
static void sched_tick(struct trapframe *tf)
{
	timer_ticks++;
	pic_eoi(0);
	if ((tf->cs & 3) == 3)
		schedule();
}

void sched_init(void)
{
	timer_start(SCHED_HZ);
	trap_set_handler(IRQ_BASE + 0, sched_tick);
}

void sched_start(struct proc *p)
{
	cur = p;
	load(p);
	sched_enter(p->kesp);
}
