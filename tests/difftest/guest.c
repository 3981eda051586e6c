/*
 * guest.c: the difftest guest runner, a Multiboot kernel for any engine (tandem
 * --backend bt|kvm, or qemu-system-i386 as the harness self-check). Runs every
 * case of the blob linked into it (difftest_blob.o, made from gen's output with
 * objcopy) in ring 0, with paging on (identity map: the scratch at 0x00800000
 * and the control page after it are mapped RW), through the same trampoline as
 * the -m32 host runner, and prints the same line per case on COM1. Exits 0.
 */
#include "difftest.h"
#include "rt.h"

#define COM1 0x3F8
#define COM1_LSR (COM1 + 5)
#define LSR_THRE 0x20
#define UART_FIFO 16

extern const char _binary_difftest_blob_start[], _binary_difftest_blob_end[];
extern char __kernel_end[];

static volatile uint32_t trap_vector, trap_eip;

/* A fault inside a case: note it and resume in the trampoline's abort path. */
static void case_trap(struct trapframe *tf)
{
	trap_vector = tf->vector;
	trap_eip = tf->eip;
	tf->eip = (uint32_t)dt_abort;
}

/* COM1 output a FIFO-load at a time: one LSR poll per 16 bytes, not per byte
 * (each port access is a VM exit under KVM). */
static void out(const char *s, int n)
{
	while (n > 0) {
		for (int i = 0; i < 1000000 && !(inb(COM1_LSR) & LSR_THRE); i++)
			;
		int k = n < UART_FIFO ? n : UART_FIFO;
		for (int i = 0; i < k; i++)
			outb(COM1, (uint8_t)s[i]);
		s += k;
		n -= k;
	}
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	const struct dt_blob_hdr *h = (const struct dt_blob_hdr *)_binary_difftest_blob_start;
	unsigned long len = (unsigned long)(_binary_difftest_blob_end - _binary_difftest_blob_start);
	const struct dt_case *c = dt_first_case(h, len);
	char line[256];

	(void)magic;
	(void)mbi;
	if (!c) {
		printf("difftest: the linked-in blob is not a difftest blob\n");
		return EXIT_FAIL;
	}
	if ((uint32_t)__kernel_end > DT_SCRATCH) {
		printf("difftest: the kernel (end 0x%08x) overlaps the scratch at 0x%08x\n",
		       (uint32_t)__kernel_end, DT_SCRATCH);
		return EXIT_FAIL;
	}
	enable_paging();
	for (unsigned v = 0; v < 32; v++)
		trap_set_handler(v, case_trap);
	printf("difftest: %u cases, seed %u\n", (unsigned)h->ncases, (unsigned)h->seed_lo);
	dt_pristine_init();
	for (uint32_t n = 0; n < h->ncases; n++, c = dt_next_case(c)) {
		struct dt_result r;
		int k;
		dt_load_case(c);
		if (dt_run()) {
			dt_collect(&r);
			k = snprintf(line, sizeof(line), "case %u FAULT vector %u at +%04x\n",
			             (unsigned)c->index, (unsigned)trap_vector,
			             (unsigned)(trap_eip - (uint32_t)c->code));
		} else {
			dt_collect(&r);
			k = dt_format(line, sizeof(line), c->index, &r);
		}
		out(line, k);
	}
	printf("difftest: done\n");
	return EXIT_OK;
}
