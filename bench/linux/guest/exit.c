/*
 * exit.c: tandem-exit, the way out of a Linux guest: `tandem-exit STATUS` takes
 * I/O privilege (iopl(3), system call 110 on i386) and writes STATUS to the
 * isa-debug-exit port 0xf4, so the engine (or QEMU) exits with (STATUS << 1) | 1.
 * A static i386 program with no libc (-m32 -static -nostdlib -ffreestanding):
 * building it needs no 32-bit execution on the build host.
 */
#define SYS_exit 1
#define SYS_iopl 110

static long sys1(long n, long a)
{
	long r;

	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a) : "memory");
	return r;
}

static unsigned parse(const char *s)
{
	unsigned v = 0;

	while (s && *s >= '0' && *s <= '9')
		v = v * 10 + (unsigned)(*s++ - '0');
	return v;
}

/* The entry: the kernel leaves argc at (%esp), argv after it. */
__attribute__((used)) static void start_c(long *sp)
{
	char **argv = (char **)(sp + 1);
	unsigned status = sp[0] > 1 ? parse(argv[1]) : 0;

	if (sys1(SYS_iopl, 3) == 0)
		__asm__ volatile("outb %%al, %%dx" : : "a"((unsigned char)status), "d"(0xf4));
	sys1(SYS_exit, 1); /* still here: no debug-exit device, or no iopl */
	for (;;)
		;
}

__asm__(".globl _start\n_start:\n\tmovl %esp, %eax\n\tpushl %eax\n\tcall start_c\n");
