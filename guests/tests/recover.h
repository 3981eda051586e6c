/*
 * recover.h: a #PF handler for attack guests (ptx.c, shx.c): try_store() arms it, a
 * or try_load() arms it, a
 * fault there records vector, error code and CR2 in f_* and resumes after the store;
 * any other trap prints "<RECOVER_NAME>: unexpected trap ..." and fails the guest.
 * Include after rt.h with RECOVER_NAME defined; install with trap_set_handler(14,
 * on_fault).
 */
#ifndef TANDEM_GUESTS_RECOVER_H
#define TANDEM_GUESTS_RECOVER_H

static volatile uint32_t f_vec, f_err, f_cr2, recover_eip;

/*
 * The #PF handler (trap_set_handler(14, on_fault)): records tf's vector, error code
 * and CR2 in f_*; resumes at recover_eip when a try_* armed it, else prints the trap
 * and stops the guest with EXIT_FAIL.
 */
static inline void on_fault(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_err = tf->err;
	f_cr2 = read_cr2();
	if (!recover_eip) {
		printf(RECOVER_NAME ": unexpected trap %u at 0x%08x cr2 0x%08x\n",
		       (unsigned)tf->vector, (unsigned)tf->eip, (unsigned)f_cr2);
		guest_exit(EXIT_FAIL);
	}
	tf->eip = recover_eip;
	recover_eip = 0;
}

/* The 4-byte word at va (a volatile load; a fault there is unexpected: on_fault). */
static inline uint32_t rd(uint32_t va)
{
	return *(volatile uint32_t *)va;
}

/* A 4-byte store at va; 0 or the vector it took (#PF: err and CR2 in f_*). */
static inline uint32_t try_store(uint32_t va, uint32_t v)
{
	f_vec = 0;
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "movl %1, (%0)\n"
	                 "1:\tmovl $0, recover_eip" ::"r"(va),
	                 "r"(v)
	                 : "memory");
	return f_vec;
}

/* A 4-byte load at va: its value, or fail when it faulted (vector and error in f_*). */
static inline uint32_t try_load(uint32_t va, uint32_t fail)
{
	uint32_t v = 0;

	f_vec = 0;
	__asm__ volatile("movl $1f, recover_eip\n\t"
	                 "movl (%1), %0\n"
	                 "1:\tmovl $0, recover_eip"
	                 : "+r"(v)
	                 : "r"(va)
	                 : "memory");
	return f_vec ? fail : v;
}

#endif
