/*
 * hostcaps.c: the host-capability probe. Each fact is established by trying
 * the thing (or reading the kernel's own word for it), once, on first use.
 */
#include "hostcaps.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1) /* arch/x86/include/uapi/asm/hwcap2.h */
#endif

static const char *const cap_names[HOST_CAP_NR] = {
#define X(id, name, all, what) name,
    HOST_CAPS(X)
#undef X
};
static const bool cap_in_all[HOST_CAP_NR] = {
#define X(id, name, all, what) all,
    HOST_CAPS(X)
#undef X
};

static struct host_fact facts[HOST_CAP_NR];
static bool probed[HOST_CAP_NR];

const char *host_cap_name(enum host_cap cap)
{
	return (unsigned)cap < HOST_CAP_NR ? cap_names[cap] : NULL;
}

int host_cap_by_name(const char *name)
{
	for (int i = 0; i < HOST_CAP_NR; i++)
		if (!strcmp(cap_names[i], name))
			return i;
	return -1;
}

/* Is cap listed in TANDEM_HOST_MASK (comma-separated; "all": see hostcaps.h)? */
static bool mask_lists(enum host_cap cap)
{
	const char *word = cap_names[cap];
	const char *m = getenv("TANDEM_HOST_MASK");
	size_t n = strlen(word);

	while (m && *m) {
		size_t len = strcspn(m, ",");

		if ((len == n && !strncmp(m, word, n)) ||
		    (cap_in_all[cap] && len == 3 && !strncmp(m, "all", 3)))
			return true;
		m += len + (m[len] == ',');
	}
	return false;
}

int host_mask_check(char *why, size_t len)
{
	const char *m = getenv("TANDEM_HOST_MASK");

	while (m && *m) {
		size_t n = strcspn(m, ",");
		char word[32];

		snprintf(word, sizeof(word), "%.*s", (int)(n < 31 ? n : 31), m);
		if (n && strcmp(word, "all") && host_cap_by_name(word) < 0) {
			snprintf(why, len,
			         "TANDEM_HOST_MASK: unknown capability '%s' (known: all, "
			         "fsgsbase, ia32, kvm, nested, qemu-user)",
			         word);
			return -1;
		}
		m += n + (m[n] == ',');
	}
	return 0;
}

static bool probe_fsgsbase(char *how, size_t len)
{
	unsigned int a, b, c, d;
	bool cpu = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & 1);
	bool user = getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;

	snprintf(how, len, "AT_HWCAP2 bit 1 %s; CPUID.(7,0):EBX[0] %s",
	         user ? "set: the kernel enables it for user mode"
	              : "clear: the kernel does not "
	                "enable it for user mode",
	         cpu ? "set" : "clear");
	return user;
}

/*
 * The smallest i386 ELF executable: one PT_LOAD of the file itself at
 * 0x08048000, code at offset 84: mov eax,1 (exit); mov ebx,42; int 0x80.
 */
static size_t build_elf32(uint8_t *p)
{
	static const uint8_t code[] = {0xb8, 1, 0, 0, 0, 0xbb, 42, 0, 0, 0, 0xcd, 0x80};
	const uint32_t base = 0x08048000, size = 84 + sizeof(code);
	const uint32_t ph[8] = {1, 0, base, base, size, size, 5, 0x1000};
	const uint16_t h16[] = {2, 3};                /* ET_EXEC, EM_386 */
	const uint32_t h32[] = {1, base + 84, 52, 0}; /* version, entry, phoff, shoff */
	const uint16_t t16[] = {52, 32, 1, 40, 0, 0}; /* ehsize, phentsize, phnum, ... */

	memset(p, 0, size);
	memcpy(p, "\177ELF\1\1\1", 7); /* ELFCLASS32, little endian, EV_CURRENT */
	memcpy(p + 16, h16, sizeof(h16));
	memcpy(p + 20, h32, sizeof(h32));
	memcpy(p + 40, t16, sizeof(t16));
	memcpy(p + 52, ph, sizeof(ph));
	memcpy(p + 84, code, sizeof(code));
	return size;
}

/* Exec the ELF above from a memfd in a child: the kernel's own answer. */
static bool probe_ia32(char *how, size_t len)
{
	uint8_t elf[128];
	size_t n = build_elf32(elf);
	int fd = memfd_create("tandem-ia32-probe", MFD_CLOEXEC), st = 0, err = 0;
	int pfd[2] = {-1, -1};
	bool ok = false;
	pid_t pid;

	if (fd < 0 || write(fd, elf, n) != (ssize_t)n || pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(how, len, "cannot set up the probe: %s", strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *argv[] = {"tandem-ia32-probe", NULL}, *envp[] = {NULL};

		fexecve(fd, argv, envp);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	if (pid < 0 || host_waitpid(pid, &st) != pid) {
		snprintf(how, len, "cannot fork the probe: %s", strerror(errno));
		goto out;
	}
	if (read(pfd[0], &err, sizeof(err)) == (ssize_t)sizeof(err))
		snprintf(how, len, "exec of a 32-bit ELF: %s", strerror(err));
	else if ((ok = WIFEXITED(st) && WEXITSTATUS(st) == 42))
		snprintf(how, len, "a 32-bit ELF (int 0x80 exit) ran in a child and exited 42");
	else if (WIFSIGNALED(st))
		snprintf(how, len, "a 32-bit ELF was killed by signal %d", WTERMSIG(st));
	else
		snprintf(how, len, "a 32-bit ELF exited %d, want 42", WEXITSTATUS(st));
out:
	for (int i = 0; i < 2; i++)
		if (pfd[i] >= 0)
			close(pfd[i]);
	if (fd >= 0)
		close(fd);
	return ok;
}

int host_waitpid(int pid, int *status)
{
	int r;

	do
		r = waitpid(pid, status, 0);
	while (r < 0 && errno == EINTR);
	return r;
}

static bool probe_kvm(char *how, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), ver;

	if (fd < 0) {
		snprintf(how, len, "open /dev/kvm: %s", strerror(errno));
		return false;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	snprintf(how, len, "/dev/kvm opened, KVM_GET_API_VERSION %d%s", ver,
	         ver == KVM_API_VERSION ? "" : " (need 12)");
	return ver == KVM_API_VERSION;
}

/* Search PATH for an executable; its path into out. */
static bool on_path(const char *prog, char *out, size_t len)
{
	const char *p = getenv("PATH");

	if (!p || !*p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(out, len, "%.*s/%s", (int)n, p, prog);
		if (n && access(out, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

static bool probe_tool(const char *prog, const char *pkg, char *how, size_t len)
{
	char path[160];

	if (on_path(prog, path, sizeof(path))) {
		snprintf(how, len, "%s found at %s", prog, path);
		return true;
	}
	snprintf(how, len, "%s not on PATH (Debian package %s)", prog, pkg);
	return false;
}

const struct host_fact *host_cap(enum host_cap cap)
{
	struct host_fact *f;

	if ((unsigned)cap >= HOST_CAP_NR)
		cap = HOST_CAP_FSGSBASE;
	f = &facts[cap];
	if (probed[cap])
		return f;
	switch (cap) {
	case HOST_CAP_FSGSBASE:
		f->yes = probe_fsgsbase(f->how, sizeof(f->how));
		break;
	case HOST_CAP_IA32:
		f->yes = probe_ia32(f->how, sizeof(f->how));
		break;
	case HOST_CAP_KVM:
		f->yes = probe_kvm(f->how, sizeof(f->how));
		break;
	case HOST_CAP_NESTED:
		/* QEMU's TCG emulates SVM whatever the host: the binary is the prerequisite. */
		f->yes =
		    probe_tool("qemu-system-x86_64", "qemu-system-x86", f->how, sizeof(f->how));
		break;
	case HOST_CAP_QEMU_USER:
		f->yes = probe_tool("qemu-i386", "qemu-user", f->how, sizeof(f->how));
		break;
	default:
		break;
	}
	f->masked = mask_lists(cap);
	if (f->masked)
		f->yes = false;
	probed[cap] = true;
	return f;
}

bool host_has(enum host_cap cap)
{
	return host_cap(cap)->yes;
}

void host_caps_summary(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < HOST_CAP_NR && off < len; i++) {
		const struct host_fact *f = host_cap((enum host_cap)i);
		int n = snprintf(buf + off, len - off, "%s%s=%s", i ? " " : "", cap_names[i],
		                 f->masked ? "masked"
		                 : f->yes  ? "yes"
		                           : "no");

		if (n < 0)
			break;
		off += (size_t)n;
	}
}
