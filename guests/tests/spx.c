/*
 * spx.c: attack guest for bt's stack-pointer loops (src/bt/bt_rsp.h: a one-block loop
 * that never writes ESP runs with host RSP = view base + ESP, [esp + d] as [rsp + d]).
 * Loops on ESP-relative slots with ESP near 4 GiB (the accesses wrap onto page 0),
 * near 0 (negative displacements wrap to the top page), on an unmapped page (#PF,
 * CR2), a loop entered again after ESP was changed by every instruction class (sub,
 * add, push, pop, call, ret, lea, xchg, mov, pop esp, enter, leave), all of that in
 * ring 3 under a 1 kHz PIT, so interrupts and the host's kicks land between each ESP
 * change and its use; then the same loop in ring 0 on a 16-bit stack segment (SS.B =
 * 0: explicit [esp + d] operands still use all of ESP). Each line is what
 * qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_TOP 0xfffff000u
#define VA_HOLE 0x7ffff000u /* never mapped */

static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t pg_top[4096] __attribute__((aligned(4096)));
static uint8_t pg_zero[4096] __attribute__((aligned(4096)));
static uint32_t slots[64] __attribute__((aligned(64)));
static uint64_t gdt2[16] __attribute__((aligned(16)));
volatile uint32_t saved_esp, recover_eip;
static volatile uint32_t f_vec, f_err, f_cr2, f_n;
static volatile uint32_t out[16];

static void on_fault(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_err = tf->err;
	f_cr2 = tf->vector == 14 ? read_cr2() : 0;
	f_n++;
	if (!recover_eip) {
		printf("spx: unexpected trap %u at 0x%08x\n", (unsigned)tf->vector,
		       (unsigned)tf->eip);
		guest_exit(EXIT_FAIL);
	}
	tf->eip = recover_eip;
	recover_eip = 0;
}

/*
 * n iterations at ESP = sp of: edx = [esp + 4] ^ [esp + 12], [esp + 8] += ecx, eax +=
 * edx (a read first: QEMU and bt differ on the error code of a read-modify-write's
 * #PF); ESP restored after, also by a fault (recover_eip). Returns eax. The loop body
 * writes no ESP: bt runs it with host RSP.
 */
static uint32_t loop_at(uint32_t sp, uint32_t n)
{
	uint32_t a = 0;

	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movl $3f, recover_eip\n\t"
	                 "movl %2, %%esp\n"
	                 "1:\tmovl 4(%%esp), %%edx\n\t"
	                 "xorl 12(%%esp), %%edx\n\t"
	                 "addl %%ecx, 8(%%esp)\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 1b\n"
	                 "3:\tmovl saved_esp, %%esp\n\t"
	                 "movl $0, recover_eip"
	                 : "+a"(a), "+c"(n)
	                 : "r"(sp)
	                 : "edx", "memory", "cc");
	return a;
}

/* The same with negative displacements: [esp - 8] += ecx, eax += [esp - 12] ^ [esp + 4]. */
static uint32_t loop_below(uint32_t sp, uint32_t n)
{
	uint32_t a = 0;

	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movl %2, %%esp\n"
	                 "1:\taddl %%ecx, -8(%%esp)\n\t"
	                 "movl -12(%%esp), %%edx\n\t"
	                 "xorl 4(%%esp), %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 1b\n\t"
	                 "movl saved_esp, %%esp"
	                 : "+a"(a), "+c"(n)
	                 : "r"(sp)
	                 : "edx", "memory", "cc");
	return a;
}

/*
 * ESP changed by each instruction class, then the loop at label 2 (a subroutine:
 * call pushes, ret pops) on the new ESP, rounds times, in a zeroed scratch area
 * below the caller's frame. Returns the sum of its eax.
 */
static uint32_t esp_classes(uint32_t rounds)
{
	uint32_t a = 0, r = rounds;

	/* B = ESP - 128; every ESP below stays in [B - 128, B + 128), zeroed first */
	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "subl $128, %%esp\n\t"
	                 "movl $64, %%ecx\n"
	                 "4:\tmovl $0, -132(%%esp,%%ecx,4)\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 4b\n"
	                 "5:\tsubl $64, %%esp\n\t"
	                 "call 2f\n\t"
	                 "addl $60, %%esp\n\t"
	                 "call 2f\n\t"
	                 "addl $4, %%esp\n\t"
	                 "pushl $7\n\t"
	                 "pushl %%eax\n\t"
	                 "call 2f\n\t"
	                 "popl %%edx\n\t"
	                 "popl %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "leal -36(%%esp), %%esp\n\t"
	                 "call 2f\n\t"
	                 "leal 36(%%esp), %%esp\n\t"
	                 "leal -20(%%esp), %%esi\n\t"
	                 "xchgl %%esi, %%esp\n\t"
	                 "call 2f\n\t"
	                 "movl %%esi, %%esp\n\t"
	                 "pushl %%esp\n\t"
	                 "popl %%esp\n\t"
	                 "call 2f\n\t"
	                 "enter $24, $0\n\t"
	                 "call 2f\n\t"
	                 "leave\n\t"
	                 "decl %%ebx\n\t"
	                 "jnz 5b\n\t"
	                 "jmp 6f\n"
	                 "2:\tmovl $50, %%ecx\n"
	                 "1:\taddl %%ecx, 12(%%esp)\n\t"
	                 "movl 8(%%esp), %%edx\n\t"
	                 "xorl 16(%%esp), %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 1b\n\t"
	                 "ret\n"
	                 "6:\tmovl saved_esp, %%esp"
	                 : "+a"(a), "+b"(r)
	                 :
	                 : "ecx", "edx", "esi", "memory", "cc");
	return a;
}

static int user_fn(void)
{
	uint32_t t0 = sys_getticks();

	slots[1] = 0x1111, slots[2] = 5, slots[3] = 0x2222;
	out[0] = loop_at((uint32_t)slots, 20000000);
	out[1] = slots[2];
	/* ESP = 0xFFFFFFF8: [esp + 8] and [esp + 12] wrap onto page 0 */
	out[2] = loop_at(0xfffffff8u, 20000000);
	/* ESP = 0xFFFFFFFA: [esp + 4] straddles 0xFFFFFFFF, [esp + 8] is at 2 */
	out[3] = loop_at(0xfffffffau, 1000);
	/* ESP = 8: [esp - 12] wraps to the top page */
	out[4] = loop_below(8, 20000000);
	/* ESP on a page that is not mapped: #PF at the first access */
	out[5] = loop_at(VA_HOLE + 0x100, 1000);
	out[6] = esp_classes(50000);
	out[7] = sys_getticks() - t0 > 0;
	return 0;
}

/* Flat 4 GiB data, present, writable; b32: the B bit (a 32-bit stack). */
static uint64_t data_desc(int b32)
{
	return 0xffffull | (uint64_t)0x92 << 40 | (uint64_t)0xf << 48 |
	       (uint64_t)(b32 ? 0xc : 0x8) << 52;
}

static void stack16_test(void)
{
	struct dtr old, d;
	uint32_t a, sp = (uint32_t)slots + 64, n = 20000000;

	sgdt(&old);
	memcpy(gdt2, (void *)old.base, old.limit + 1u);
	gdt2[8] = data_desc(0);
	d.limit = sizeof(gdt2) - 1;
	d.base = (uint32_t)gdt2;
	__asm__ volatile("lgdt %0" ::"m"(d));
	slots[17] = 0x3333, slots[18] = 9, slots[19] = 0x4444;
	a = 0;
	/* SS.B = 0 with ESP above 64 KiB: [esp + d] is still a 32-bit address */
	__asm__ volatile("movl %%esp, saved_esp\n\t"
	                 "movw %w3, %%ss\n\t"
	                 "movl %2, %%esp\n"
	                 "1:\taddl %%ecx, 8(%%esp)\n\t"
	                 "movl 4(%%esp), %%edx\n\t"
	                 "xorl 12(%%esp), %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 1b\n\t"
	                 "movw %w4, %%ss\n\t"
	                 "movl saved_esp, %%esp"
	                 : "+a"(a), "+c"(n)
	                 : "r"(sp), "r"(0x40), "r"(SEL_KDATA)
	                 : "edx", "memory", "cc");
	__asm__ volatile("lgdt %0" ::"m"(old));
	printf("spx: ss16 eax=0x%08x slot=0x%08x\n", (unsigned)a, (unsigned)slots[18]);
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	enable_paging();
	memset(pg_top, 0, sizeof(pg_top));
	memset(pg_zero, 0, sizeof(pg_zero));
	pg_top[0xffc] = 0x21, pg_top[0xffd] = 0x43, pg_top[0xffe] = 0x65, pg_top[0xfff] = 0x87;
	pg_zero[0] = 0x10, pg_zero[4] = 0x5a, pg_zero[5] = 0xa5;
	map_page(VA_TOP, (uint32_t)pg_top, PTE_W | PTE_U);
	map_page(0, (uint32_t)pg_zero, PTE_W | PTE_U);
	trap_set_handler(14, on_fault);
	trap_set_handler(13, on_fault);
	timer_start(1000);
	enter_user(user_fn, user_stack + sizeof(user_stack), 1);
	cli();
	printf("spx: plain eax=0x%08x slot=0x%08x\n", (unsigned)out[0], (unsigned)out[1]);
	printf("spx: top eax=0x%08x page0=0x%08x top=0x%08x\n", (unsigned)out[2],
	       (unsigned)*(uint32_t *)pg_zero, (unsigned)*(uint32_t *)(pg_top + 0xffc));
	printf("spx: straddle eax=0x%08x page0[2]=0x%08x\n", (unsigned)out[3],
	       (unsigned)*(uint32_t *)(pg_zero + 2));
	printf("spx: below eax=0x%08x top[ff0]=0x%08x page0[0]=0x%08x\n", (unsigned)out[4],
	       (unsigned)*(uint32_t *)(pg_top + 0xff0), (unsigned)*(uint32_t *)pg_zero);
	printf("spx: hole eax=0x%08x faults=%u vec=%u err=%u cr2=0x%08x\n", (unsigned)out[5],
	       (unsigned)f_n, (unsigned)f_vec, (unsigned)f_err, (unsigned)f_cr2);
	printf("spx: classes eax=0x%08x ticked=%u\n", (unsigned)out[6], (unsigned)out[7]);
	stack16_test();
	timer_stop();
	printf("spx: done\n");
	return EXIT_OK;
}
