/* hostinfo.h: facts about the host, for `tandem info` and benchmark records. */
#ifndef TANDEM_HOSTINFO_H
#define TANDEM_HOSTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "model name" from /proc/cpuinfo into buf ("unknown" if absent). */
void host_cpu_model(char *buf, size_t len);
/* The TSC rate in kHz, measured against CLOCK_MONOTONIC over ~50 ms. */
uint64_t host_tsc_khz(void);
/* CPUID.1:ECX[31], the hypervisor-present bit. */
bool host_under_hypervisor(void);
/*
 * The hypervisor's vendor signature, CPUID leaf 0x40000000 EBX:ECX:EDX, into buf
 * ("KVMKVMKVM", "TCGTCGTCGTCG" inside QEMU's TCG, ...); "" when there is none.
 */
void host_hypervisor_vendor(char *buf, size_t len);
/*
 * The host's KVM flavour, from the loaded module in /sys/module: "kvm_pvm (nested
 * PVM)", "kvm_amd (AMD-V)", ...; "none (...)" when /dev/kvm is absent, unusable or
 * masked (host_cap(HOST_CAP_KVM)), whatever modules are loaded.
 */
const char *host_kvm_flavour(void);

#endif
