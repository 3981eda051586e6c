/* hostinfo.c: CPU model, TSC rate and CPUID features of the host. */
#include "hostinfo.h"

#include "hostcaps.h"

#include <cpuid.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

void host_cpu_model(char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon += 2;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t host_tsc_khz(void)
{
	uint64_t t0, t1, c0, c1;
	const struct timespec nap = {0, 50 * 1000 * 1000};

	t0 = now_ns();
	c0 = __rdtsc();
	nanosleep(&nap, NULL);
	t1 = now_ns();
	c1 = __rdtsc();
	return t1 > t0 ? (c1 - c0) * 1000000ULL / (t1 - t0) : 0;
}

bool host_under_hypervisor(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return false;
	return c & (1u << 31);
}

void host_hypervisor_vendor(char *buf, size_t len)
{
	unsigned int a, r[3];

	snprintf(buf, len, "%s", "");
	if (!host_under_hypervisor())
		return;
	__cpuid(0x40000000u, a, r[0], r[1], r[2]);
	snprintf(buf, len, "%.12s", (const char *)r);
}

const char *host_kvm_flavour(void)
{
	if (!host_has(HOST_CAP_KVM))
		return host_cap(HOST_CAP_KVM)->masked ? "none (masked by TANDEM_HOST_MASK)"
		                                      : "none (no usable /dev/kvm)";
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return "kvm_pvm (nested PVM)";
	if (access("/sys/module/kvm_amd", F_OK) == 0)
		return "kvm_amd (AMD-V)";
	if (access("/sys/module/kvm_intel", F_OK) == 0)
		return "kvm_intel (VT-x)";
	if (access("/sys/module/kvm", F_OK) == 0)
		return "kvm (unknown vendor module)";
	return "none";
}
