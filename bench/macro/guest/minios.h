/*
 * minios.h: minios, a small multi-process i386 kernel on the guest runtime: processes
 * with their own page directories, a round-robin scheduler on the PIT, fork (eager
 * copy), exit, wait, yield, pipes, sbrk and demand-zero paging. The shared kernel header.
 */
#ifndef TANDEM_MINIOS_H
#define TANDEM_MINIOS_H

#include "rt.h"
#include "user/sysnum.h"

#define NPROC 64 /* process slots (kernel stacks are static) */
#define NFD 8    /* descriptors per process; 0..2 are the console */
#define KSTACK_SIZE 8192
#define PIPE_SIZE 512
#define NPIPE 16
#define SCHED_HZ 100 /* PIT rate: the scheduler's time slice is 10 ms */

/* The user address space: image pages (shared text, private data), heap, stack. */
#define HEAP_BASE 0x40000000u
#define HEAP_MAX 0x50000000u /* sbrk limit */
#define STACK_TOP 0x7FFFF000u
#define STACK_MAX (256u * 1024) /* demand-zero stack below STACK_TOP */
#define KALIAS_LOW 0xC0000000u  /* kernel alias of physical 0..4 MiB (the pristine image) */
#define RAM_MAP_END 0x04000000u /* RAM the kernel maps (64 MiB) and allocates frames from */
#define FRAME_BASE 0x00400000u  /* frames come from 4 MiB up: below is the image */

enum pstate { P_FREE, P_RUNNABLE, P_SLEEPING, P_ZOMBIE };

struct pipe;
struct fd {
	struct pipe *pipe; /* NULL: closed (fd 0..2: the console) */
	int write;         /* the write end */
};

struct proc {
	enum pstate state;
	int pid, parent;  /* parent: its pid */
	int status;       /* exit status, while a zombie */
	const void *chan; /* what it sleeps on */
	uint32_t *pd;     /* page directory (a frame, identity mapped) */
	uint32_t kesp;    /* saved kernel ESP (swtch) */
	uint32_t brk;     /* heap end */
	struct fd fd[NFD];
	uint8_t *kstack; /* KSTACK_SIZE bytes */
};

extern struct proc procs[NPROC];
extern struct proc *cur;
extern uint32_t ctx_switches; /* context switches so far */
extern int have_pge;

/* vm.c */
/* Frames: 4 KiB physical pages from FRAME_BASE to the end of RAM. 0 when none is left. */
uint32_t frame_alloc(void);
/* Give frame pa (from frame_alloc) back; no double-free or range check. */
void frame_free(uint32_t pa);
/* How many frames are free now (MSYS_nfree). */
uint32_t frames_free(void);
/* Build the kernel mappings (0..64 MiB, global where CR4.PGE exists) and turn paging on
 * in the boot address space. Returns 0, or -1 without PSE (it maps RAM with 4 MiB pages). */
int vm_init(uint32_t mem_bytes);
/* A new page directory: the kernel mapped, no user page (image data comes on demand).
 * NULL when out of frames. */
uint32_t *vm_new(void);
/* Copy every user page mapped in src into dst (eager fork copy). 0 or -1 (out of frames). */
int vm_copy(uint32_t *dst, const uint32_t *src);
/* Free every user page and user page table of pd (not pd, nor its low page table). */
void vm_free_user(uint32_t *pd);
/* Free what vm_free_user left: the low page table and pd itself. pd must not be loaded. */
void vm_free_pd(uint32_t *pd);
/* Unmap and free the user pages in [lo, hi) of the current address space. */
void vm_unmap_range(uint32_t lo, uint32_t hi);
/* Is [va, va + len) user memory of cur (writable: not the shared text)? 1 or 0. */
int user_range(uint32_t va, uint32_t len, int writable);
/* The #PF handler: demand-zero heap and stack, image data copied on first touch;
 * anything else kills a ring 3 process and is fatal in ring 0. */
void vm_fault(struct trapframe *tf);

/* sched.c */
/* Start the PIT at SCHED_HZ with the preempting IRQ0 handler (interrupts stay off). */
void sched_init(void);
/* Switch to the next runnable process (round robin); returns when cur runs again.
 * No runnable process at all is a deadlock: reported, the guest exits 1. */
void schedule(void);
/* Block cur until wakeup(chan); other processes run meanwhile (IF = 0 in the kernel, so
 * there is no lost-wakeup race). Every sleeper rechecks its condition. */
void sleep_on(const void *chan);
/* Make every process sleeping on chan runnable. */
void wakeup(const void *chan);
/* First entry into the first process; never returns. */
void sched_start(struct proc *p) RT_NORETURN;
/* swtch.S: save the callee-saved registers and ESP into *save_esp, resume at new_esp. */
void swtch(uint32_t *save_esp, uint32_t new_esp);

/* proc.c */
/* A process running user_entry(a0, a1, a2) in ring 3 on a fresh stack; NULL when full. */
struct proc *proc_create(uint32_t user_entry, uint32_t a0, uint32_t a1, uint32_t a2);
/* fork for cur, whose ring 3 state is tf: the child's pid, or -1 (no slot, no frames). The
 * child gets copies of every user page and descriptor and returns 0 from the same int 0x80. */
int proc_fork(struct trapframe *tf);
/* End cur with status: user memory and descriptors freed, children handed to init, the
 * parent woken. init's exit ends the guest (status 0: debug-exit 0, else 1). */
void proc_exit(int status) RT_NORETURN;
/* Reap a zombie child of cur (sleeping until one exits), its status stored at the user
 * address status_va unless 0. Its pid; -1 with no children or a bad pointer. */
int proc_wait(uint32_t status_va);
/* Processes created and reaped since boot (the workloads report them). */
extern uint32_t procs_created, procs_reaped;

/* pipe.c: the system calls, on cur's descriptors; user pointers are range-checked. */
/* A pipe: its read and write descriptors into the user int[2] at fds_va. 0, or -1
 * (no pipe or descriptor free, bad pointer). */
int pipe_open(uint32_t fds_va);
/* Up to n bytes into buf, sleeping while the pipe is empty and has a writer: the count,
 * 0 at end of file, -1 for a bad descriptor or buffer. */
int fd_read(int fd, uint32_t buf, uint32_t n);
/* All n bytes (sleeping while full); fds 0..2 are the console. The count, or -1 (bad
 * descriptor or buffer, no reader left before anything was written). */
int fd_write(int fd, uint32_t buf, uint32_t n);
/* 0, or -1 for a descriptor that is not open. */
int fd_close(int fd);
/* A new reference to an open end (fork), and drop one (close, exit). */
void fd_dup(struct fd *f);
/* fd_drop: the pipe is freed with its last end and its sleepers woken (readers then see EOF,
 * writers -1), f emptied. Both are no-ops on a closed f. */
void fd_drop(struct fd *f);

/* syscall.c: install the int 0x80 dispatcher and the #PF handler (vm_fault). */
void syscall_install(void);

#endif
