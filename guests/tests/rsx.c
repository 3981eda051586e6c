/*
 * rsx.c: more attacks on bt's stack-pointer loops (src/bt/bt_rsp.h: host RSP = view
 * base + ESP while a one-block loop runs). In ring 3: a divide by zero inside such a
 * loop (a host SIGFPE with RSP in guest memory: the 2 KiB below ESP must stay as the
 * guest left them, the #DE frame goes to the ring-0 stack), and a loop whose [esp + 4]
 * store rewrites the immediate of its own first instruction (self-modifying code
 * inside the running block). In ring 0: loops whose [esp + d] operands reach the local
 * APIC (a load completed in place, a read-modify-write stepped, TPR stores). Each line
 * is what qemu-system-i386 prints.
 */
#include "rt.h"

#define VA_APIC 0x40000000u

static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t area[8192] __attribute__((aligned(4096)));
volatile uint32_t rsx_saved_esp, rsx_recover;
static volatile uint32_t f_vec, f_n;
static volatile uint32_t out[4]; /* ring 3 results, printed in ring 0 */

static void on_fault(struct trapframe *tf)
{
	f_vec = tf->vector;
	f_n++;
	if (!rsx_recover) {
		printf("rsx: unexpected trap %u at 0x%08x\n", (unsigned)tf->vector,
		       (unsigned)tf->eip);
		guest_exit(EXIT_FAIL);
	}
	tf->eip = rsx_recover;
	rsx_recover = 0;
}

/* [esp + 4] / [esp + 8] until the divisor, decremented each round, is 0: #DE. */
static uint32_t div_loop(uint32_t sp)
{
	uint32_t sum = 0;

	__asm__ volatile("movl %%esp, rsx_saved_esp\n\t"
	                 "movl $3f, rsx_recover\n\t"
	                 "movl %1, %%esp\n"
	                 "1:\tmovl 4(%%esp), %%eax\n\t"
	                 "xorl %%edx, %%edx\n\t"
	                 "divl 8(%%esp)\n\t"
	                 "addl %%eax, %0\n\t"
	                 "subl $1, 8(%%esp)\n\t"
	                 "jmp 1b\n"
	                 "3:\tmovl rsx_saved_esp, %%esp\n\t"
	                 "movl $0, rsx_recover"
	                 : "+b"(sum)
	                 : "r"(sp)
	                 : "eax", "edx", "memory", "cc");
	return sum;
}

/* n rounds of: edx = imm (starts 0), eax += edx, imm += 3 through [esp + 4]. */
static uint32_t smc_loop(uint32_t n)
{
	uint32_t a = 0;

	__asm__ volatile("movl %%esp, rsx_saved_esp\n\t"
	                 "movl $0, 8f+1\n\t"
	                 "movl $8f-3, %%esp\n"
	                 "8:\tmovl $0, %%edx\n\t"
	                 "addl %%edx, %%eax\n\t"
	                 "addl $3, 4(%%esp)\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 8b\n\t"
	                 "movl rsx_saved_esp, %%esp"
	                 : "+a"(a), "+c"(n)
	                 :
	                 : "edx", "memory", "cc");
	return a;
}

static uint32_t canary_changed(const uint8_t *p, uint32_t n)
{
	uint32_t i, c = 0;

	for (i = 0; i < n; i++)
		c += p[i] != 0xa5;
	return c;
}

static int user_fn(uint32_t arg)
{
	uint8_t *top = area + 4096; /* ESP in the loop: 2 KiB of canary below it */

	(void)arg;
	memset(area, 0xa5, 4096);
	((uint32_t *)top)[1] = 1000000u;
	((uint32_t *)top)[2] = 7;
	out[0] = div_loop((uint32_t)top);
	out[1] = ((uint32_t *)top)[2];
	out[2] = canary_changed(top - 2048, 2048);
	out[3] = smc_loop(500);
	return 0;
}

/* In ring 0: n rounds of loads, a stepped add, a TPR store, all [esp + d] on the APIC. */
static volatile uint32_t tpr_read;

static uint32_t apic_loop(uint32_t n)
{
	uint32_t a = 0, b = 0;

	__asm__ volatile("movl %%esp, rsx_saved_esp\n\t"
	                 "movl $0x40000000, %%esp\n"
	                 "1:\tmovl 0x30(%%esp), %%edx\n\t"
	                 "addl %%edx, %0\n\t"
	                 "addl 0x30(%%esp), %1\n\t"
	                 "movl %%ecx, 0x80(%%esp)\n\t"
	                 "decl %%ecx\n\t"
	                 "jnz 1b\n\t"
	                 "movl 0x80(%%esp), %%edx\n\t"
	                 "movl rsx_saved_esp, %%esp\n\t"
	                 "movl %%edx, tpr_read"
	                 : "+a"(a), "+b"(b), "+c"(n)
	                 :
	                 : "edx", "memory", "cc");
	return a == b ? a : 0xdeadu; /* the stepped add saw the same register */
}

int kmain(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t v;

	(void)magic;
	(void)mbi;
	trap_set_handler(0, on_fault);
	enable_paging();
	rt_enter_user(user_fn, 0, user_stack + sizeof(user_stack), 0);
	printf("rsx: div sum=%u faults=%u vec=%u divisor=%u canary changed=%u\n", (unsigned)out[0],
	       (unsigned)f_n, (unsigned)f_vec, (unsigned)out[1], (unsigned)out[2]);
	printf("rsx: smc sum=%u\n", (unsigned)out[3]);
	map_page(VA_APIC, 0xfee00000u, PTE_W);
	v = apic_loop(0x30);
	printf("rsx: apic sum=0x%08x tpr=0x%02x\n", (unsigned)v, (unsigned)tpr_read);
	printf("rsx: done\n");
	return EXIT_OK;
}
