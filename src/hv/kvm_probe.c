/*
 * kvm_probe.c: what can this host's KVM really run?
 *
 * Some hosts accept /dev/kvm but cannot run 32-bit paging guests: the nested
 * "kvm_pvm" KVM silently drops CR0.PG from KVM_SET_SREGS. So the probe builds a
 * throwaway VM, asks for CR0.PG, reads it back, and runs three instructions of a
 * paged guest (out 0x80; hlt). It runs in a child process under a deadline: a
 * KVM_RUN that never returns cannot hang the caller.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "hostcaps.h"
#include "hostinfo.h"
#include "kvm_priv.h"
#include "log.h"

#define PROBE_DEADLINE_MS 5000
#define PROBE_MEM (2u << 20)
#define PROBE_PD 0x1000u
#define PROBE_CODE 0x2000u

int kvm_open_dev(char *why, size_t len)
{
	int fd, ver;

	if (host_cap(HOST_CAP_KVM)->masked) {
		snprintf(why, len, "kvm: /dev/kvm masked by TANDEM_HOST_MASK");
		return -ENOTSUP;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		snprintf(why, len, "kvm: cannot open /dev/kvm: %s", strerror(err));
		return -ENOTSUP;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		snprintf(why, len, "kvm: /dev/kvm API version %d, need %d", ver, KVM_API_VERSION);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

static void flat(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	memset(s, 0, sizeof(*s));
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->db = 1;
	s->g = 1;
}

static struct kvm_run *volatile probe_run;

static void probe_alarm(int sig)
{
	(void)sig;
	if (probe_run)
		probe_run->immediate_exit = 1;
}

/* The child's work: 0 if a paged guest runs; else 1 with the reason on fd. */
static int probe_child(int sys, char *why, size_t len)
{
	static const uint8_t code[] = {0xb0, 0x2a, 0xe6, 0x80,
	                               0xf4}; /* mov al,42; out 0x80,al; hlt */
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t *mem;
	int vm, cpu, size, i;
	struct kvm_run *run;

	vm = ioctl(sys, KVM_CREATE_VM, 0);
	if (vm < 0)
		return snprintf(why, len, "kvm: KVM_CREATE_VM failed: %s", strerror(errno)), 1;
	mem = mmap(NULL, PROBE_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return snprintf(why, len, "kvm: probe: out of memory"), 1;
	*(uint32_t *)(mem + PROBE_PD) = 0x83; /* one 4 MiB page at 0: present, writable, PS */
	memcpy(mem + PROBE_CODE, code, sizeof(code));
	region = (struct kvm_userspace_memory_region){.slot = 0,
	                                              .guest_phys_addr = 0,
	                                              .memory_size = PROBE_MEM,
	                                              .userspace_addr = (uint64_t)(uintptr_t)mem};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return snprintf(why, len, "kvm: KVM_SET_USER_MEMORY_REGION failed: %s",
		                strerror(errno)),
		       1;
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	size = ioctl(sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (cpu < 0 || size <= 0)
		return snprintf(why, len, "kvm: cannot create a vCPU: %s", strerror(errno)), 1;
	run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		return snprintf(why, len, "kvm: cannot map kvm_run: %s", strerror(errno)), 1;
	if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0)
		return snprintf(why, len, "kvm: KVM_GET_SREGS failed: %s", strerror(errno)), 1;
	flat(&sregs.cs, 0x08, 0xb);
	flat(&sregs.ds, 0x10, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_PG;
	sregs.cr3 = PROBE_PD;
	sregs.cr4 = X86_CR4_PSE;
	sregs.efer = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &sregs) < 0)
		return snprintf(why, len, "kvm: KVM_SET_SREGS of a 32-bit paging state failed: %s",
		                strerror(errno)),
		       1;
	memset(&sregs, 0, sizeof(sregs));
	if (ioctl(cpu, KVM_GET_SREGS, &sregs) < 0 || !(sregs.cr0 & X86_CR0_PG))
		return snprintf(why, len,
		                "kvm: host KVM cannot run 32-bit paging guests (KVM_SET_SREGS "
		                "dropped CR0.PG; %s)",
		                host_kvm_flavour()),
		       1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = PROBE_CODE;
	regs.rflags = 2;
	if (ioctl(cpu, KVM_SET_REGS, &regs) < 0)
		return snprintf(why, len, "kvm: KVM_SET_REGS failed: %s", strerror(errno)), 1;
	probe_run = run;
	signal(SIGALRM, probe_alarm);
	alarm(2);
	for (i = 0; i < 2; i++) {
		if (ioctl(cpu, KVM_RUN, 0) < 0)
			return snprintf(why, len,
			                "kvm: a 32-bit paged test guest did not run "
			                "(KVM_RUN: %s; %s)",
			                strerror(errno), host_kvm_flavour()),
			       1;
		if (i == 0 && !(run->exit_reason == KVM_EXIT_IO && run->io.port == 0x80 &&
		                *((uint8_t *)run + run->io.data_offset) == 42))
			break;
		if (i == 1 && run->exit_reason != KVM_EXIT_HLT)
			break;
	}
	alarm(0);
	if (i < 2)
		return snprintf(why, len, "kvm: a 32-bit paged test guest misbehaved (exit %u; %s)",
		                run->exit_reason, host_kvm_flavour()),
		       1;
	return 0;
}

/* Wait for the child up to the deadline; a hung probe is killed and reported. */
static int probe_wait(pid_t pid, int rfd, char *why, size_t len)
{
	int status, waited;
	ssize_t n;

	for (waited = 0; waited < PROBE_DEADLINE_MS; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	if (waited >= PROBE_DEADLINE_MS) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(why, len, "kvm: the probe guest hung in KVM_RUN (%s)", host_kvm_flavour());
		return -ENOTSUP;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	n = read(rfd, why, len - 1);
	why[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		snprintf(why, len, "kvm: the probe crashed (%s)", host_kvm_flavour());
	return -ENOTSUP;
}

int kvm_probe(char *why, size_t len)
{
	int sys, pfd[2], ret;
	pid_t pid;

	sys = kvm_open_dev(why, len);
	if (sys < 0)
		return sys;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		close(sys);
		return snprintf(why, len, "kvm: pipe: %s", strerror(errno)), -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char buf[256] = "";

		ret = probe_child(sys, buf, sizeof(buf));
		if (ret && write(pfd[1], buf, strlen(buf)) < 0)
			_exit(2);
		_exit(ret);
	}
	close(pfd[1]);
	ret = pid < 0 ? -errno : probe_wait(pid, pfd[0], why, len);
	close(pfd[0]);
	close(sys);
	return ret;
}

void kvm_info(FILE *f)
{
	char why[256] = "";
	int fd = kvm_open_dev(why, sizeof(why));

	fprintf(f, "kvm.device          %s\n", fd >= 0 ? "/dev/kvm (API 12)" : why);
	fprintf(f, "kvm.flavour         %s%s\n", host_kvm_flavour(),
	        fd >= 0 ? " (the loaded module in /sys/module)" : "");
	if (fd >= 0)
		close(fd);
}
