/* kvm_priv.h: the KVM engine's private state and helpers (src/hv only). */
#ifndef TANDEM_KVM_PRIV_H
#define TANDEM_KVM_PRIV_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "vcpu.h"

struct monitor;

/* X(field, description): the engine's own counters for --stats. */
#define KVM_STATS(X)                                                                               \
	X(kvm_run_calls, "KVM_RUN ioctls")                                                         \
	X(kvm_eintr, "KVM_RUN returns on a kick (EINTR)")                                          \
	X(kvm_injections, "KVM_INTERRUPT injections")                                              \
	X(kvm_window_requests, "runs that asked for an interrupt window")

struct kvm_engine {
	struct monitor *mon;
	int sys_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
#define X(f, d) uint64_t f;
	KVM_STATS(X)
#undef X
};

/* Open /dev/kvm and check the API version. Returns the fd, or -errno with why filled. */
int kvm_open_dev(char *why, size_t len);

/* The probe (engine_ops.probe): can a 32-bit paged guest run? 0, or -ENOTSUP with why. */
int kvm_probe(char *why, size_t len);
/* engine_ops.info: device, flavour, probe verdict. */
void kvm_info(FILE *f);

/* Conversions between the neutral register file and KVM's. */
void kvm_seg_from(struct kvm_segment *k, const struct vcpu_seg *s);
void kvm_seg_to(struct vcpu_seg *s, const struct kvm_segment *k);

#endif
