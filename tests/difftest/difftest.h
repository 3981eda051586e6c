/*
 * difftest.h: the contract between the case generator (gen.c), the -m32 host
 * runner (native.c) and the Multiboot guest runner (guest.c): the memory layout
 * every case runs in, the control block the shared trampoline (dt_tramp.S)
 * uses, and the blob format.
 *
 * A case is straight-line i386 code (plus short local branches, loops and
 * calls) that reads and writes only the 64 KiB scratch area at DT_SCRATCH; it
 * ends with the 6-byte terminator `jmp *DT_CTL_EXIT` (ff 25 <DT_CTL>), which
 * gen appends after the case's code, so the code is position independent and
 * runs in place from the blob on every engine.
 */
#ifndef TANDEM_DIFFTEST_H
#define TANDEM_DIFFTEST_H

#define DT_SCRATCH 0x00800000u /* 64 KiB scratch, identical address everywhere */
#define DT_SCRATCH_SIZE 0x10000u
#define DT_DATA_END 0xE000u                 /* memory operands target scratch [0, DT_DATA_END) */
#define DT_STACK_TOP (DT_SCRATCH + 0xF000u) /* ESP at case start; stack in [0xE000,0x10000) */
#define DT_CTL 0x00810000u                  /* control page, right after the scratch */
#define DT_CTL_SIZE 0x1000u

/* Control block offsets (dt_tramp.S uses absolute addresses: PIE-proof). */
#define DT_CTL_EXIT 0x00    /* address of dt_epilogue: the case terminator jumps through it */
#define DT_CTL_HOSTESP 0x04 /* the runner's ESP while a case runs */
#define DT_CTL_CODE 0x08    /* where the case's code starts */
#define DT_CTL_IN 0x10      /* eax ecx edx ebx esp ebp esi edi eflags: loaded at entry */
#define DT_CTL_OUT 0x40     /* eax ecx edx ebx esp ebp esi edi eflags: saved at exit */

#define DT_FLAGS_ARITH 0x8D5u /* OF SF ZF AF PF CF */
#define DT_FLAG_DF 0x400u
#define DT_FLAGS_CMP (DT_FLAGS_ARITH | DT_FLAG_DF) /* what the runners print */

#define DT_TERMINATOR_LEN 6 /* ff 25 imm32: jmp *DT_CTL */

#define DT_DEFAULT_SEED 1
#define DT_DEFAULT_CASES 3000

#define DT_BLOB_MAGIC "TDIFF01"

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The blob: a header, then ncases records, each 4-byte aligned. */
struct dt_blob_hdr {
	char magic[8]; /* DT_BLOB_MAGIC, NUL-padded */
	uint32_t ncases;
	uint32_t hdr_size; /* sizeof(struct dt_blob_hdr) */
	uint32_t seed_lo, seed_hi;
};

struct dt_case {
	uint32_t size;    /* the whole record: this header, code, terminator, padding */
	uint32_t index;   /* the case number K (cases are generated independently from (seed, K)) */
	uint32_t regs[8]; /* eax ecx edx ebx esp ebp esi edi; esp is DT_STACK_TOP */
	uint32_t eflags;  /* arithmetic flags random, DF = 0, bit 1 set */
	uint32_t defmask; /* DT_FLAGS_CMP bits architecturally defined at the end */
	uint32_t code_len; /* without the terminator */
	uint8_t code[];    /* code_len bytes, then the terminator */
};

/* The part of the runner both native.c and guest.c share (dt_common.c). */
struct dt_result {
	uint32_t regs[8], eflags;
	uint32_t dirty_lo, dirty_hi; /* scratch bytes [lo, hi) differ from the pristine pattern */
	uint32_t memhash;
};
extern uint32_t dt_pristine[DT_SCRATCH_SIZE / 4];
void dt_pristine_init(void);                /* builds the pattern and copies it to scratch */
void dt_load_case(const struct dt_case *c); /* fills the control block for c */
void dt_collect(struct dt_result *r);       /* reads the control block, hashes and resets scratch */
int dt_format(char *buf, unsigned size, uint32_t index, const struct dt_result *r);
const struct dt_case *dt_first_case(const struct dt_blob_hdr *h, unsigned long blob_len);
const struct dt_case *dt_next_case(const struct dt_case *c);

/* dt_tramp.S */
int dt_run(void);       /* 0: the case reached its terminator; 1: a trap aborted it */
void dt_epilogue(void); /* not callable: the case terminator's target */
void dt_abort(void);    /* not callable: a trap handler resumes here (guest) */
#endif

#endif
