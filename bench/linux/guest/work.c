/*
 * work.c: tandem-work, the macro workloads of `tandem bench --suite linux`, run the
 * same way inside the Linux guest and natively on the host (an i386 host process):
 *
 *   tandem-work forkwait N   N times fork; the child exits with status i & 0x7f; wait
 *   tandem-work getppid N    N getppid system calls
 *   tandem-work pipe N       N one-byte round trips between two processes over two pipes
 *
 * Each prints "tandem-linux: start NAME" just before its loop and
 * "tandem-linux: end NAME n=N RESULT" just after it (the host timestamps the two
 * lines as they arrive), RESULT being a value that depends only on N (a sum of exit
 * statuses, of bytes echoed), so outputs can be compared across engines. Exit 0, or
 * 1 with "tandem-linux: fail NAME: why", 2 on bad arguments.
 *
 * System calls go through the kernel's vDSO entry (AT_SYSINFO: sysenter on a
 * sysenter-capable CPU), as a libc would, else int 0x80. A static i386 program with
 * no libc (-m32 -static -nostdlib -ffreestanding): building it runs no 32-bit code.
 */
#define SYS_exit 1
#define SYS_fork 2
#define SYS_read 3
#define SYS_write 4
#define SYS_waitpid 7
#define SYS_pipe 42
#define SYS_getppid 64
#define AT_SYSINFO 32

static unsigned long vsys; /* __kernel_vsyscall, or 0 */

static long sys3(long n, long a, long b, long c)
{
	long r;

	if (vsys)
		__asm__ volatile("call *%[v]"
		                 : "=a"(r)
		                 : [v] "m"(vsys), "a"(n), "b"(a), "c"(b), "d"(c)
		                 : "memory", "cc");
	else
		__asm__ volatile("int $0x80"
		                 : "=a"(r)
		                 : "a"(n), "b"(a), "c"(b), "d"(c)
		                 : "memory", "cc");
	return r;
}

static unsigned long slen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static int seq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Decimal; -1 when not a number of 1..9 digits. */
static long parse(const char *s)
{
	long v = 0;
	int d = 0;

	for (; *s; s++, d++) {
		if (*s < '0' || *s > '9' || d == 9)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return d ? v : -1;
}

static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, unsigned long v)
{
	char t[12];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = t[--n];
	return p;
}

/* One line to stdout in one write, so the host sees it whole and at once. */
static void say(const char *what, const char *name, long n, const char *key, unsigned long v)
{
	char line[160], *p = line;

	p = put_str(p, "tandem-linux: ");
	p = put_str(p, what);
	p = put_str(p, name);
	if (n >= 0) {
		p = put_str(p, " n=");
		p = put_num(p, (unsigned long)n);
		p = put_str(p, " ");
		p = put_str(p, key);
		p = put_str(p, "=");
		p = put_num(p, v);
	}
	*p++ = '\n';
	sys3(SYS_write, 1, (long)line, p - line);
}

static __attribute__((noreturn)) void leave(int status)
{
	for (;;)
		sys3(SYS_exit, status, 0, 0);
}

static __attribute__((noreturn)) void fail(const char *name, const char *why)
{
	char line[128], *p = line;

	p = put_str(p, "tandem-linux: fail ");
	p = put_str(p, name);
	p = put_str(p, ": ");
	p = put_str(p, why);
	*p++ = '\n';
	sys3(SYS_write, 1, (long)line, p - line);
	leave(1);
}

static void forkwait(long n)
{
	unsigned long sum = 0;

	say("start ", "forkwait", -1, "", 0);
	for (long i = 0; i < n; i++) {
		long pid = sys3(SYS_fork, 0, 0, 0);
		int st = 0;

		if (pid == 0)
			leave((int)(i & 0x7f));
		if (pid < 0 || sys3(SYS_waitpid, pid, (long)&st, 0) != pid)
			fail("forkwait", "fork or waitpid failed");
		sum += (unsigned)(st >> 8) & 0xff;
	}
	say("end ", "forkwait", n, "sum", sum);
}

static void getppid(long n)
{
	long first = sys3(SYS_getppid, 0, 0, 0);
	unsigned long same = 0;

	say("start ", "getppid", -1, "", 0);
	for (long i = 0; i < n; i++)
		same += sys3(SYS_getppid, 0, 0, 0) == first;
	say("end ", "getppid", n, "same", same);
}

static void pipes(long n)
{
	int down[2], up[2], st = 0;
	unsigned long sum = 0;
	unsigned char c;
	long pid;

	if (sys3(SYS_pipe, (long)down, 0, 0) || sys3(SYS_pipe, (long)up, 0, 0))
		fail("pipe", "pipe failed");
	pid = sys3(SYS_fork, 0, 0, 0);
	if (pid == 0) {
		/* The echo: each byte comes back incremented. */
		for (long i = 0; i < n; i++) {
			if (sys3(SYS_read, down[0], (long)&c, 1) != 1)
				leave(1);
			c++;
			if (sys3(SYS_write, up[1], (long)&c, 1) != 1)
				leave(1);
		}
		leave(0);
	}
	if (pid < 0)
		fail("pipe", "fork failed");
	say("start ", "pipe", -1, "", 0);
	for (long i = 0; i < n; i++) {
		c = (unsigned char)i;
		if (sys3(SYS_write, down[1], (long)&c, 1) != 1 ||
		    sys3(SYS_read, up[0], (long)&c, 1) != 1)
			fail("pipe", "a round trip failed");
		sum += c;
	}
	say("end ", "pipe", n, "sum", sum);
	if (sys3(SYS_waitpid, pid, (long)&st, 0) != pid || st)
		fail("pipe", "the echo process failed");
}

/* The entry: argc at (%esp), then argv, a NULL, envp, a NULL, then the aux vector. */
__attribute__((used)) static void start_c(long *sp)
{
	char **argv = (char **)(sp + 1);
	char **envp = argv + sp[0] + 1;
	unsigned long *aux;
	long n;

	while (*envp)
		envp++;
	for (aux = (unsigned long *)(envp + 1); aux[0]; aux += 2)
		if (aux[0] == AT_SYSINFO)
			vsys = aux[1];
	n = sp[0] == 3 ? parse(argv[2]) : -1;
	if (n < 1) {
		const char *u = "usage: tandem-work forkwait|getppid|pipe N (N: 1..999999999)\n";

		sys3(SYS_write, 2, (long)u, (long)slen(u));
		leave(2);
	}
	if (seq(argv[1], "forkwait"))
		forkwait(n);
	else if (seq(argv[1], "getppid"))
		getppid(n);
	else if (seq(argv[1], "pipe"))
		pipes(n);
	else
		fail(argv[1], "unknown workload");
	leave(0);
}

__asm__(".globl _start\n_start:\n\tmovl %esp, %eax\n\tpushl %eax\n\tcall start_c\n");
