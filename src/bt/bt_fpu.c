/*
 * bt_fpu.c: the guest's x87 FPU. Guest x87 instructions run natively (IDENT), so
 * the guest's FPU state lives in the host FPU for as long as the engine runs
 * (bt_run): the dispatcher, the callouts and the signal handlers are host code
 * that never executes an x87 instruction (host floating point is SSE; a signal
 * handler gets a fresh FPU and the kernel restores the interrupted one on
 * sigreturn). Outside bt_run the host gets its own state back (fxsave/fxrstor).
 */
#include <string.h>

#include "bt.h"

static void fxsave(uint8_t *area)
{
	__asm__ volatile("fxsave %0" : "=m"(*(uint8_t(*)[512])area));
}

static void fxrstor(const uint8_t *area)
{
	__asm__ volatile("fxrstor %0" : : "m"(*(const uint8_t(*)[512])area));
}

void bt_fpu_reset(struct bt *bt)
{
	/* As after fninit (and QEMU's reset): FCW 0x37f, FSW 0, every register empty. */
	memset(bt->fpu_guest, 0, sizeof(bt->fpu_guest));
	bt->fpu_guest[0] = 0x7f;
	bt->fpu_guest[1] = 0x03;
	fxsave(bt->fpu_host);
	memcpy(bt->fpu_guest + 24, bt->fpu_host + 24, 8); /* MXCSR and its mask: the host's */
}

void bt_fpu_enter(struct bt *bt)
{
	fxsave(bt->fpu_host);
	fxrstor(bt->fpu_guest);
}

void bt_fpu_leave(struct bt *bt)
{
	fxsave(bt->fpu_guest); /* never waits: a pending guest exception stays pending */
	fxrstor(bt->fpu_host);
}

bool bt_fpu_cr0_changed(struct bt *bt, uint32_t old_cr0)
{
	if (!((old_cr0 ^ bt->cpu.cr0) & (X86_CR0_MP | X86_CR0_EM | X86_CR0_TS)))
		return false;
	tc_flush(bt); /* blocks were translated for the old EM/TS/MP: x87 IDENT or #NM */
	return true;
}
