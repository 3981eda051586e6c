/* rt.h: the tandem guest runtime API (console, traps, paging, ring 3, PIC/PIT, exit). */
#ifndef TANDEM_GUEST_RT_H
#define TANDEM_GUEST_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"
#include "x86.h"

#define RT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define RT_NORETURN __attribute__((noreturn))

/* Exit codes: QEMU and tandem report (code << 1) | 1 as the host exit status. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_TRAP 0x7E /* unexpected trap */

/* The guest's entry point, called by the runtime after rt_init(); its return value
 * is passed to guest_exit(). */
int kmain(uint32_t magic, struct multiboot_info *mbi);

/* Set by the runtime before kmain: the boot registers. */
extern uint32_t rt_boot_magic;
extern struct multiboot_info *rt_boot_mbi;

/* Console on COM1 (0x3F8), polled. Output is dropped if the UART never drains. */
void console_init(void);
void console_putc(char c); /* waits (bounded) for THRE, then sends the byte as is */
void console_write(const char *s, size_t len); /* len bytes of s */
/* printf subset: %d %i %u %x %X %p %s %c %%, flags 0 -, width, l/ll; returns bytes written. */
int printf(const char *fmt, ...) RT_PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap) RT_PRINTF(1, 0); /* printf with a va_list */
/* Formats into buf (always NUL-terminated if size > 0); returns the full length. */
int snprintf(char *buf, size_t size, const char *fmt, ...) RT_PRINTF(3, 4);
/* snprintf with a va_list. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) RT_PRINTF(3, 0);

/* Writes code to the isa-debug-exit port 0xF4; if still running, cli; hlt forever. */
void guest_exit(uint32_t code) RT_NORETURN;

/* Everything the entry stub sets up before kmain: console, GDT/TSS, IDT, PIC
 * (remapped, all masked), the int 0x80 handler. Interrupts stay off. */
void rt_init(uint32_t magic, struct multiboot_info *mbi);

/* ---- traps ---- */
/* Saved by the common trap stub; esp/ss are valid only when (cs & 3) == 3. */
struct trapframe {
	uint32_t edi, esi, ebp, esp_k, ebx, edx, ecx, eax; /* pusha; esp_k is unused */
	uint32_t gs, fs, es, ds;
	uint32_t vector, err; /* err is 0 where the CPU pushes none */
	uint32_t eip, cs, eflags;
	uint32_t esp, ss;
};
typedef void (*trap_handler_t)(struct trapframe *tf);

/* Load the runtime's GDT (flat ring 0/3 code and data, the TSS) and reload every segment. */
void gdt_init(void);
/* Load the IDT: vectors 0-47 and 0x80 through the common trap stub, default handling fatal. */
void idt_init(void);
/* Installs h for vector vec (0..255); NULL restores the default (fatal) handling.
 * Only vectors 0-47 and 0x80 have gates (0x81 is rt_enter_user's way back). */
void trap_set_handler(unsigned vec, trap_handler_t h);
/* The handler installed for vec (NULL: default handling), e.g. to chain to it. */
trap_handler_t trap_get_handler(unsigned vec);
/* Sets the ring 0 stack used on a CPL 3 -> 0 transition. */
void tss_set_esp0(uint32_t esp0);
/* The IDT descriptor the runtime loaded (for tests that swap IDTs). */
extern struct dtr rt_idtr;

/* ---- paging: page directory + identity map of the first RT_IDENT_MIB MiB ---- */
#define RT_IDENT_MIB 16
#define PAGE_SIZE 4096u
#define PSE_SIZE 0x400000u
/* Builds the identity map (U|W|P; page 0 left unmapped) if not built yet, then sets
 * CR4.PSE, CR3 and CR0.PG|WP. */
void enable_paging(void);
/* Map one 4 KiB page; flags are PTE_* bits (P is implied). Returns 0, or -1 if the
 * PDE holds a 4 MiB page or the page-table pool is exhausted. */
int map_page(uint32_t va, uint32_t pa, uint32_t flags);
/* Clear the PTE for va (no-op if no page table) and invlpg it. */
void unmap_page(uint32_t va);
/* Map a 4 MiB page; va and pa must be 4 MiB aligned (returns -1 otherwise). */
int map_pse(uint32_t va, uint32_t pa, uint32_t flags);
/* The PTE (or PSE PDE) mapping va, or NULL if none. */
uint32_t *pte_lookup(uint32_t va);
extern uint32_t rt_page_dir[1024];

/* ---- ring 3 and system calls (int 0x80: EAX = number, EBX/ECX/EDX args) ---- */
enum { SYS_exit = 1, SYS_write = 2, SYS_getticks = 3, SYS_inc = 4 };
/* Runs fn(arg) in ring 3 (CS 0x1B, SS 0x23, data segments 0x23) on user_stack_top with
 * EFLAGS = eflags | 2. Returns the status passed to SYS_exit, or fn's return value, with
 * IF = 0 and the TSS esp0 as it was. The guests' one ring 3 entry (trap.S). */
int rt_enter_user(int (*fn)(uint32_t), uint32_t arg, void *user_stack_top, uint32_t eflags);
/* rt_enter_user(fn, 0, user_stack_top, irq_on ? IF : 0). */
int enter_user(int (*fn)(void), void *user_stack_top, int irq_on);
void rt_user_exit_gate(void); /* the RT_USER_EXIT_VEC gate's code (trap.S) */

/* int 0x80 with EAX = n, EBX/ECX/EDX = a, b, c; returns the handler's EAX. */
static inline int32_t syscall3(uint32_t n, uint32_t a, uint32_t b, uint32_t c)
{
	int32_t r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}
/* Write len bytes of s to the console from ring 3; returns len. */
static inline int32_t sys_write(const char *s, uint32_t len)
{
	return syscall3(SYS_write, (uint32_t)s, len, 0);
}
/* Leave ring 3: enter_user returns status. */
static inline void sys_exit(int status)
{
	syscall3(SYS_exit, (uint32_t)status, 0, 0);
}
/* The PIT ticks counted so far (timer_ticks). */
static inline uint32_t sys_getticks(void)
{
	return (uint32_t)syscall3(SYS_getticks, 0, 0, 0);
}
/* The cheapest system call: returns x + 1 (the nano-benchmarks' syscall row). */
static inline int32_t sys_inc(int32_t x)
{
	return syscall3(SYS_inc, (uint32_t)x, 0, 0);
}

/* ---- PIC 8259 pair and PIT 8254 ---- */
void pic_init(void);           /* remap to 0x20/0x28, mask every IRQ */
void pic_mask(unsigned irq);   /* irq 0..15: set its bit in the master's or slave's IMR */
void pic_unmask(unsigned irq); /* irq 0..15: clear its bit in the IMR */
void pic_eoi(unsigned irq);    /* non-specific EOI to the slave (irq >= 8), then the master */
/* Program PIT channel 0 (mode 2) at hz, install timer_irq on IRQ0, unmask it. */
void timer_start(uint32_t hz);
void timer_stop(void);                /* mask IRQ0 */
void timer_irq(struct trapframe *tf); /* the IRQ0 handler: counts a tick, EOIs */
extern volatile uint32_t timer_ticks;

/* ---- the CPU ---- */
uint32_t cpu_features(void); /* cpuid(1).EDX; 0 where there is no cpuid */

/* ---- freestanding libc bits ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);     /* as ISO C; the areas must not overlap */
int memcmp(const void *a, const void *b, size_t n); /* as ISO C: <0, 0 or >0 */
size_t strlen(const char *s);                       /* as ISO C */
int strcmp(const char *a, const char *b);           /* as ISO C: <0, 0 or >0 */

#endif
