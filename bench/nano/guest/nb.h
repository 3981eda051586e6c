/* nb.h: the nanobench guest: benchmark loops and minimal handlers (loops.S), setup (setup.c). */
#ifndef TANDEM_NANOBENCH_NB_H
#define TANDEM_NANOBENCH_NB_H

/* Fixed addresses, shared with loops.S. The three pages below 4 MiB sit in the
 * runtime's identity page table (the one that maps this kernel), past the kernel
 * image (checked at run time), and are used by nothing else. */
#define NB_PF_VA 0x003FD000u   /* pgfault: PTE cleared, every read of it faults */
#define NB_PTE_VA 0x003FF000u  /* ptemod: its PTE is rewritten by every iteration */
#define NB_PTE_ALT 0x00001000u /* ptemod: PTE frame toggle (0x3FF000 <-> 0x3FE000) */
#define NB_LAPIC_BASE 0xFEE00000u
#define NB_LAPIC_TPR (NB_LAPIC_BASE + 0x80)
#define NB_TPR_TOGGLE 0x10u /* cr8wr writes 0x10, 0x00, 0x10, ...: see loops.S */

#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#ifndef __ASSEMBLER__
#include "nano/manifest.h"
#include "rt.h"

/* Every loop: void loop(uint32_t n), n >= 1 iterations of one benchmark body. */
typedef void (*nb_loop_t)(uint32_t n);
void nb_loop_empty(uint32_t n); /* the loop overhead alone: subtracted from every row */
/* One loop per row of bench/nano/manifest.h: nb_loop_<name>(n) runs n iterations. */
#define X(n, paper, ring, prep, fin, an, amax, anote, d) void nb_loop_##n(uint32_t n);
NANO_ROWS(X)
#undef X

/* The ring 3 stack of the user benchmarks (loops.S): rt_enter_user runs loop(n) on it. */
extern uint8_t nb_user_stack_top[];

/* Minimal gate targets (loops.S): none of them enters C. */
void nb_int80_entry(void);    /* iret */
void nb_sysenter_entry(void); /* sysexit to EDX:ECX set by the caller */
void nb_pf_entry(void);       /* eip += 2, drop the error code, iret */
void nb_de_entry(void);       /* eip += 2, iret */

/* ptemod's operands, set by setup.c. */
extern uint32_t *nb_pte_ptr;
extern uint32_t nb_pte_val;

struct bench {
	const char *name;
	nb_loop_t loop;
	int user;                     /* run in ring 3 (rt_enter_user, IF = 0) */
	const char *(*prepare)(void); /* NULL, or the skip reason (one word) */
	void (*finish)(void);         /* undo prepare (may be NULL) */
};
extern const struct bench nb_benches[];
extern const unsigned nb_nbenches;
extern const struct bench nb_empty;

/* Once, before any benchmark: paging, the LAPIC page. Returns NULL or
 * a reason why nothing can run. */
const char *nb_setup(void);
#endif

#endif
