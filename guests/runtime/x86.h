/* x86.h: i386 constants and inline instruction helpers for tandem guests. */
#ifndef TANDEM_GUEST_X86_H
#define TANDEM_GUEST_X86_H

/* Segment selectors of the runtime GDT (fixed: engines and tests rely on them). */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UCODE 0x1B
#define SEL_UDATA 0x23
#define SEL_TSS 0x28

#define EFLAGS_IF 0x200u
#define CR0_PE 0x00000001u
#define CR0_WP 0x00010000u
#define CR0_PG 0x80000000u
#define CR4_PSE 0x00000010u

#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u

#define IRQ_BASE 0x20 /* PIC master vector base; slave at IRQ_BASE + 8 */
#define SYSCALL_VEC 0x80
#define RT_USER_EXIT_VEC 0x81 /* DPL 3 gate: ring 3 code started by rt_enter_user is done */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* One I/O port write of 8, 16 or 32 bits (`out`); port 0..0xFFFF. */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
/* 16-bit `out`; see outb. */
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
/* 32-bit `out`; see outb. */
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
/* One I/O port read of 8, 16 or 32 bits (`in`); an unclaimed port reads all ones. */
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
/* 16-bit `in`; see inb. */
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
/* 32-bit `in`; see inb. */
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* The time-stamp counter (EDX:EAX); #GP in ring 3 when CR4.TSD is set. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* cpuid leaf (subleaf 0) into r[0..3] = EAX, EBX, ECX, EDX. */
static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(0));
}

/* Clear EFLAGS.IF (ring 0, or IOPL >= CPL); also a compiler barrier. */
static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}
/* Set EFLAGS.IF; interrupts are recognised after the next instruction (SDM STI). */
static inline void sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}
/* Halt until an interrupt (ring 0); with IF = 0 the monitor ends the run (status 12). */
static inline void hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

/* EFLAGS through pushf/pop. */
static inline uint32_t read_eflags(void)
{
	uint32_t v;
	__asm__ volatile("pushfl; popl %0" : "=r"(v));
	return v;
}

#define DEFINE_CR(n)                                                                               \
	static inline uint32_t read_cr##n(void)                                                    \
	{                                                                                          \
		uint32_t v;                                                                        \
		__asm__ volatile("movl %%cr" #n ", %0" : "=r"(v));                                 \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(uint32_t v)                                                 \
	{                                                                                          \
		__asm__ volatile("movl %0, %%cr" #n : : "r"(v) : "memory");                        \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

/* Drop the TLB entry for the page of va (ring 0). */
static inline void invlpg(uint32_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

#define DEFINE_SREG(n)                                                                             \
	static inline uint16_t read_##n(void)                                                      \
	{                                                                                          \
		uint16_t v;                                                                        \
		__asm__ volatile("movw %%" #n ", %0" : "=r"(v));                                   \
		return v;                                                                          \
	}
DEFINE_SREG(cs)
DEFINE_SREG(ds)
DEFINE_SREG(es)
DEFINE_SREG(ss)
#undef DEFINE_SREG

/* The 6-byte operand of lgdt/lidt/sgdt/sidt. */
struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

/* Load the IDT register from *d (ring 0). */
static inline void lidt(const struct dtr *d)
{
	__asm__ volatile("lidt %0" : : "m"(*d));
}
/* Store the GDT register into *d (any ring unless UMIP). */
static inline void sgdt(struct dtr *d)
{
	__asm__ volatile("sgdt %0" : "=m"(*d));
}
/* Store the IDT register into *d (any ring unless UMIP). */
static inline void sidt(struct dtr *d)
{
	__asm__ volatile("sidt %0" : "=m"(*d));
}

#endif /* !__ASSEMBLER__ */
#endif
