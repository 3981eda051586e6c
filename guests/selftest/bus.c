/* bus.c: open bus: a physical address with neither RAM nor a device reads all-ones and
 * drops writes, as a PC's PCI master abort does, whatever instruction reaches it: mov,
 * ALU forms with a memory operand, push/pop, string instructions, bit tests; x87 (bt). */
#include "st.h"

#define OPEN_PA 0xC0000000u /* above every RAM size the tests use, below the devices */

/*
 * What open bus reads. QEMU's machine (7.2, pc) deviates: its unassigned memory reads 0.
 * That is the machine, not the CPU: kvm in the nested rig runs on QEMU's CPU ("tcg",
 * st_on_qemu) but tandem's bus, so look for QEMU's brand string instead.
 */
static uint32_t OB = 0xFFFFFFFFu;

static void probe_bus(void)
{
	uint32_t r[4];

	OB = 0xFFFFFFFFu;
	if (!cpu_features())
		return;
	cpuid(0x80000000u, r);
	if (r[0] < 0x80000002u)
		return;
	cpuid(0x80000002u, r);
	if (!memcmp(r, "QEMU", 4))
		OB = 0;
}

static uint32_t ob_buf[4];

/* Every instruction class against open bus at a (a page with no RAM behind it). */
static void open_bus_ops(uint32_t a)
{
	uint32_t v, esp0, esp1;
	uint8_t z;

	EXPECT_EQ("mov load", *(volatile uint32_t *)a, OB);
	__asm__ volatile("movzbl (%1), %0" : "=r"(v) : "r"(a + 5) : "memory");
	EXPECT_EQ("movzb load", v, OB & 0xFF);
	v = 1;
	__asm__ volatile("addl (%1), %0" : "+r"(v) : "r"(a) : "cc", "memory");
	EXPECT_EQ("add r, [m]", v, 1 + OB);
	v = 5;
	__asm__ volatile("subl (%1), %0" : "+r"(v) : "r"(a + 8) : "cc", "memory");
	EXPECT_EQ("sub r, [m]", v, 5 - OB);
	__asm__ volatile("cmpl $-1, (%1)\n\tsete %0" : "=q"(z) : "r"(a + 12) : "cc", "memory");
	EXPECT_EQ("cmp [m], -1 (ZF)", z, OB == 0xFFFFFFFFu);
	v = 0xFFFFFFFFu;
	__asm__ volatile("cmpl (%1), %2\n\tsete %0"
	                 : "=q"(z)
	                 : "r"(a + 16), "r"(v)
	                 : "cc", "memory");
	EXPECT_EQ("cmp r, [m] (ZF)", z, OB == 0xFFFFFFFFu);
	*(volatile uint32_t *)(a + 20) = 0x12345678u;
	EXPECT_EQ("mov store dropped", *(volatile uint32_t *)(a + 20), OB);
	__asm__ volatile("addl $1, (%1)\n\tsetz %0" : "=q"(z) : "r"(a + 24) : "cc", "memory");
	EXPECT_EQ("add [m], 1 (ZF)", z, OB == 0xFFFFFFFFu);
	EXPECT_EQ("add [m], 1 dropped", *(volatile uint32_t *)(a + 24), OB);
	v = 0x0F0F0F0Fu;
	__asm__ volatile("xchgl (%1), %0" : "+r"(v) : "r"(a + 28) : "memory");
	EXPECT_EQ("xchg loads", v, OB);
	EXPECT_EQ("xchg store dropped", *(volatile uint32_t *)(a + 28), OB);
	__asm__ volatile("movl %%esp, %1\n\tpushl (%3)\n\tpopl %0\n\tmovl %%esp, %2"
	                 : "=r"(v), "=&r"(esp0), "=&r"(esp1)
	                 : "r"(a + 32)
	                 : "memory");
	EXPECT_EQ("push [m]", v, OB);
	EXPECT_EQ("push/pop esp", esp1, esp0);
	__asm__ volatile("movl %%esp, %0\n\tpushl $0x1234\n\tpopl (%2)\n\tmovl %%esp, %1"
	                 : "=&r"(esp0), "=&r"(esp1)
	                 : "r"(a + 36)
	                 : "memory");
	EXPECT_EQ("pop [m] esp", esp1, esp0);
	EXPECT_EQ("pop [m] dropped", *(volatile uint32_t *)(a + 36), OB);
	ob_buf[0] = ob_buf[1] = 0x5A5A5A5Au;
	__asm__ volatile("movl $2, %%ecx\n\tcld\n\trep movsl"
	                 :
	                 : "S"(a + 40), "D"(ob_buf)
	                 : "ecx", "memory");
	EXPECT_EQ("rep movs from open bus [0]", ob_buf[0], OB);
	EXPECT_EQ("rep movs from open bus [1]", ob_buf[1], OB);
	__asm__ volatile("movl $3, %%ecx\n\tmovl $0x55, %%eax\n\tcld\n\trep stosl\n\tmovl %%edi, %0"
	                 : "=r"(v)
	                 : "D"(a + 48)
	                 : "eax", "ecx", "memory");
	EXPECT_EQ("rep stos edi", v, a + 60);
	EXPECT_EQ("rep stos dropped", *(volatile uint32_t *)(a + 52), OB);
	__asm__ volatile("btsl $3, (%1)\n\tsetc %0" : "=q"(z) : "r"(a + 64) : "cc", "memory");
	EXPECT_EQ("bts [m] (CF)", z, OB == 0xFFFFFFFFu);
	EXPECT_EQ("bts dropped", *(volatile uint32_t *)(a + 64), OB);
}

/*
 * x87 loads and stores on open bus. Only with 'model' (bt): under kvm such an access
 * has no memslot, and KVM's instruction emulator cannot emulate x87 instructions
 * (KVM_EXIT_INTERNAL_ERROR, "instruction emulation failed"), on hardware as nested.
 */
static void c_open_x87(void)
{
	uint32_t a = OPEN_PA;
	int32_t i = 0;

	if (!st_model) {
		st_skip("only with 'model' on the command line");
		return;
	}
	probe_bus();
	write_cr0(read_cr0() & ~CR0_PG);
	__asm__ volatile("fildl (%1)\n\tfistpl %0" : "=m"(i) : "r"(a + 68) : "memory");
	EXPECT_EQ("fild [m]", (uint32_t)i, OB);
	__asm__ volatile("fldz\n\tfistpl (%0)" : : "r"(a + 72) : "memory");
	EXPECT_EQ("fistp [m] dropped", *(volatile uint32_t *)(a + 72), OB);
	write_cr0(read_cr0() | CR0_PG);
}

static void c_open_paging_off(void)
{
	probe_bus();
	write_cr0(read_cr0() & ~CR0_PG);
	open_bus_ops(OPEN_PA);
	EXPECT_EQ("absolute mov load", *(volatile uint32_t *)0xC0000F00u, OB);
	write_cr0(read_cr0() | CR0_PG);
}

static void c_open_paged(void)
{
	probe_bus();
	set_pte(20, OPEN_PA + 0x3000u, PTE_P | PTE_W);
	open_bus_ops(test_va(20));
	EXPECT_EQ("PTE A|D after open-bus writes", *test_pte(20) & (PTE_A | PTE_D), PTE_A | PTE_D);
	/* A store straddling two open-bus pages (it looped in bt once: one writable page). */
	set_pte(22, OPEN_PA + 0x5000u, PTE_P | PTE_W);
	set_pte(23, OPEN_PA + 0x6000u, PTE_P | PTE_W);
	*(volatile uint32_t *)(test_va(22) + 0xffe) = 0x11223344u;
	__asm__ volatile("addl $1, (%0)" : : "r"(test_va(22) + 0xffe) : "cc", "memory");
	EXPECT_EQ("store straddling two open-bus pages",
	          *(volatile uint32_t *)(test_va(22) + 0xffe), OB);
}

/* A device (the local APIC) reached by other forms than mov: each access reaches it. */
static void c_device_alu_forms(void)
{
	uint32_t apic = test_va(21), ver, tpr = apic + 0x80, v, esp0, esp1;
	uint8_t z;

	set_pte(21, 0xFEE00000u, PTE_P | PTE_W | 0x18u); /* PCD | PWT */
	ver = *(volatile uint32_t *)(apic + 0x30);
	EXPECT(ver != 0 && ver != 0xFFFFFFFFu, "APIC version register reads 0x%x", ver);
	v = 1;
	__asm__ volatile("addl (%1), %0" : "+r"(v) : "r"(apic + 0x30) : "cc", "memory");
	EXPECT_EQ("add r, [version]", v, ver + 1);
	__asm__ volatile("cmpl (%1), %2\n\tsete %0"
	                 : "=q"(z)
	                 : "r"(apic + 0x30), "r"(ver)
	                 : "cc", "memory");
	EXPECT_EQ("cmp r, [version] (ZF)", z, 1);
	__asm__ volatile("movl %%esp, %1\n\tpushl (%3)\n\tpopl %0\n\tmovl %%esp, %2"
	                 : "=r"(v), "=&r"(esp0), "=&r"(esp1)
	                 : "r"(apic + 0x30)
	                 : "memory");
	EXPECT_EQ("push [version]", v, ver);
	EXPECT_EQ("push/pop esp", esp1, esp0);
	*(volatile uint32_t *)tpr = 0x20;
	__asm__ volatile("xorl $0x30, (%0)" : : "r"(tpr) : "cc", "memory");
	EXPECT_EQ("TPR after xor [m], imm", *(volatile uint32_t *)tpr, 0x10);
	__asm__ volatile("addl $5, (%0)" : : "r"(tpr) : "cc", "memory");
	EXPECT_EQ("TPR after add [m], imm", *(volatile uint32_t *)tpr, 0x15);
	__asm__ volatile("btsl $7, (%1)\n\tsetc %0" : "=q"(z) : "r"(tpr) : "cc", "memory");
	EXPECT_EQ("bts [TPR] (CF)", z, 0);
	EXPECT_EQ("TPR after bts", *(volatile uint32_t *)tpr, 0x95);
	v = 0x30;
	__asm__ volatile("xchgl (%1), %0" : "+r"(v) : "r"(tpr) : "memory");
	EXPECT_EQ("xchg loads TPR", v, 0x95);
	EXPECT_EQ("TPR after xchg", *(volatile uint32_t *)tpr, 0x30);
	*(volatile uint32_t *)tpr = 0;
}

CHECK_LIST(bus) = {
    {"bus.open_paging_off", c_open_paging_off},
    {"bus.open_paged", c_open_paged},
    {"bus.device_alu_forms", c_device_alu_forms},
    {"bus.open_x87", c_open_x87},
    CHECK_END,
};
