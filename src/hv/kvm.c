/*
 * kvm.c: the trap-and-emulate engine. The guest runs under /dev/kvm; every exit
 * becomes a neutral exit record for the core. No in-kernel irqchip: interrupts
 * come from the core's PIC model through KVM_INTERRUPT and interrupt windows, so
 * both engines see the same interrupt controller.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpumodel.h"
#include "engine.h"
#include "kvm_priv.h"
#include "log.h"
#include "monitor.h"

/* Intel VMX needs three pages for its real-mode TSS; anywhere outside RAM. */
#define KVM_TSS_ADDR 0xfffbd000u

void kvm_seg_from(struct kvm_segment *k, const struct vcpu_seg *s)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->sel;
	k->type = s->type;
	k->s = s->s;
	k->dpl = s->dpl;
	k->present = s->present;
	k->db = s->db;
	k->g = s->g;
	k->unusable = !s->present;
}

void kvm_seg_to(struct vcpu_seg *s, const struct kvm_segment *k)
{
	s->base = (uint32_t)k->base;
	s->limit = k->limit;
	s->sel = k->selector;
	s->type = k->type;
	s->s = k->s;
	s->dpl = k->dpl;
	s->present = k->present;
	s->db = k->db;
	s->g = k->g;
}

static void kvm_destroy(void *state)
{
	struct kvm_engine *k = state;

	if (!k)
		return;
	if (k->run)
		munmap(k->run, k->run_size);
	if (k->vcpu_fd >= 0)
		close(k->vcpu_fd);
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	free(k);
}

/* The model's CPUID leaves (cpumodel.c), the same table bt answers from. */
static int kvm_set_cpuid(struct kvm_engine *k)
{
	const struct cpu_model *model = k->mon->opts.cpu ? k->mon->opts.cpu : cpu_model_default();
	uint32_t leaves[16];
	int n = cpu_model_leaves(model, leaves, 16), ret;
	struct kvm_cpuid2 *cpuid;

	cpuid = calloc(1, sizeof(*cpuid) + (size_t)n * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		uint32_t r[4];

		cpu_model_cpuid(model, leaves[i], 0, r);
		*e = (struct kvm_cpuid_entry2){
		    .function = leaves[i], .eax = r[0], .ebx = r[1], .ecx = r[2], .edx = r[3]};
	}
	ret = ioctl(k->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	return ret;
}

static int kvm_create(struct monitor *mon, void **state)
{
	struct kvm_userspace_memory_region region;
	struct kvm_engine *k;
	char why[256];
	int size, ret = -ENOMEM;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->mon = mon;
	k->vm_fd = k->vcpu_fd = -1;
	k->sys_fd = kvm_open_dev(why, sizeof(why));
	if (k->sys_fd < 0) {
		log_err("%s", why);
		ret = k->sys_fd;
		goto fail;
	}
	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0)
		goto fail_errno;
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		log_debug("kvm: KVM_SET_TSS_ADDR: %s (harmless outside VMX)", strerror(errno));
	region = (struct kvm_userspace_memory_region){.slot = 0,
	                                              .guest_phys_addr = 0,
	                                              .memory_size = mon->vm.ram_size,
	                                              .userspace_addr =
	                                                  (uint64_t)(uintptr_t)mon->vm.ram};
	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		goto fail_errno;
	k->vcpu_fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, 0);
	size = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->vcpu_fd < 0 || size <= 0)
		goto fail_errno;
	k->run_size = (size_t)size;
	k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
	if (k->run == MAP_FAILED) {
		k->run = NULL;
		goto fail_errno;
	}
	ret = kvm_set_cpuid(k);
	if (ret) {
		log_err("kvm: KVM_SET_CPUID2 failed: %s", strerror(-ret));
		goto fail;
	}
	*state = k;
	return 0;
fail_errno:
	ret = -errno;
	log_err("kvm: cannot create the VM: %s", strerror(errno));
fail:
	kvm_destroy(k);
	return ret;
}

static int kvm_set_regs(void *state, const struct vcpu_regs *r)
{
	struct kvm_engine *k = state;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	kvm_seg_from(&sregs.cs, &r->cs);
	kvm_seg_from(&sregs.ds, &r->ds);
	kvm_seg_from(&sregs.es, &r->es);
	kvm_seg_from(&sregs.fs, &r->fs);
	kvm_seg_from(&sregs.gs, &r->gs);
	kvm_seg_from(&sregs.ss, &r->ss);
	kvm_seg_from(&sregs.tr, &r->tr);
	kvm_seg_from(&sregs.ldt, &r->ldt);
	sregs.tr.s = 0;
	sregs.ldt.s = 0;
	sregs.gdt.base = r->gdt_base;
	sregs.gdt.limit = r->gdt_limit;
	sregs.idt.base = r->idt_base;
	sregs.idt.limit = r->idt_limit;
	sregs.cr0 = r->cr0;
	sregs.cr2 = r->cr2;
	sregs.cr3 = r->cr3;
	sregs.cr4 = r->cr4;
	sregs.efer = 0;
	if (ioctl(k->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rax = r->eax;
	regs.rcx = r->ecx;
	regs.rdx = r->edx;
	regs.rbx = r->ebx;
	regs.rsp = r->esp;
	regs.rbp = r->ebp;
	regs.rsi = r->esi;
	regs.rdi = r->edi;
	regs.rip = r->eip;
	regs.rflags = r->eflags;
	return ioctl(k->vcpu_fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int kvm_get_regs(void *state, struct vcpu_regs *r)
{
	struct kvm_engine *k = state;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	memset(r, 0, sizeof(*r));
	r->eax = (uint32_t)regs.rax;
	r->ecx = (uint32_t)regs.rcx;
	r->edx = (uint32_t)regs.rdx;
	r->ebx = (uint32_t)regs.rbx;
	r->esp = (uint32_t)regs.rsp;
	r->ebp = (uint32_t)regs.rbp;
	r->esi = (uint32_t)regs.rsi;
	r->edi = (uint32_t)regs.rdi;
	r->eip = (uint32_t)regs.rip;
	r->eflags = (uint32_t)regs.rflags;
	kvm_seg_to(&r->cs, &sregs.cs);
	kvm_seg_to(&r->ds, &sregs.ds);
	kvm_seg_to(&r->es, &sregs.es);
	kvm_seg_to(&r->fs, &sregs.fs);
	kvm_seg_to(&r->gs, &sregs.gs);
	kvm_seg_to(&r->ss, &sregs.ss);
	kvm_seg_to(&r->tr, &sregs.tr);
	kvm_seg_to(&r->ldt, &sregs.ldt);
	r->gdt_base = (uint32_t)sregs.gdt.base;
	r->gdt_limit = sregs.gdt.limit;
	r->idt_base = (uint32_t)sregs.idt.base;
	r->idt_limit = sregs.idt.limit;
	r->cr0 = (uint32_t)sregs.cr0;
	r->cr2 = (uint32_t)sregs.cr2;
	r->cr3 = (uint32_t)sregs.cr3;
	r->cr4 = (uint32_t)sregs.cr4;
	return 0;
}

/* Only error paths need the guest's EIP; fetching it costs an ioctl. */
static uint32_t kvm_eip(struct kvm_engine *k)
{
	struct kvm_regs regs;

	return ioctl(k->vcpu_fd, KVM_GET_REGS, &regs) < 0 ? 0 : (uint32_t)regs.rip;
}

/* Deliver the PIC's interrupt now if the guest can take it, else ask for a window. */
static void kvm_inject(struct kvm_engine *k)
{
	struct kvm_run *run = k->run;

	/* KVM keeps the NMI pending until the guest can take it (and blocks the next one). */
	if (monitor_nmi_pending(k->mon)) {
		if (ioctl(k->vcpu_fd, KVM_NMI) == 0)
			k->kvm_injections++;
		else
			log_warn("kvm: KVM_NMI: %s", strerror(errno));
		monitor_nmi_ack(k->mon);
	}
	if (!monitor_irq_pending(k->mon)) {
		run->request_interrupt_window = 0;
		return;
	}
	if (run->ready_for_interrupt_injection && run->if_flag) {
		struct kvm_interrupt irq = {.irq = monitor_irq_ack(k->mon)};

		if (ioctl(k->vcpu_fd, KVM_INTERRUPT, &irq) == 0)
			k->kvm_injections++;
		else
			log_warn("kvm: KVM_INTERRUPT vector %u: %s", irq.irq, strerror(errno));
		run->request_interrupt_window = monitor_irq_pending(k->mon);
	} else {
		run->request_interrupt_window = 1;
	}
	k->kvm_window_requests += run->request_interrupt_window;
}

/*
 * The one place a KVM exit becomes an exit record (the constructors of exit.h). The EIP
 * costs an ioctl, so the hot exits (I/O, MMIO, window, kick) carry 0 and only a halt with
 * IF = 0 and the error exits, whose messages print it, fetch it.
 */
static void kvm_translate_exit(struct kvm_engine *k, struct exit_record *ex)
{
	struct kvm_run *run = k->run;
	bool ifl = run->if_flag;
	uint32_t eip;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		exit_make_io(ex, 0, ifl, run->io.port, run->io.size,
		             run->io.direction == KVM_EXIT_IO_OUT, run->io.count,
		             (uint8_t *)run + run->io.data_offset);
		return;
	case KVM_EXIT_MMIO:
		exit_make_mmio(ex, 0, ifl, run->mmio.phys_addr, (uint8_t)run->mmio.len,
		               run->mmio.is_write, run->mmio.data);
		return;
	case KVM_EXIT_HLT: /* RIP is past the one-byte hlt; only a final halt reports it */
		exit_make(ex, EXIT_HLT, ifl ? 0 : kvm_eip(k) - 1, ifl);
		return;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		exit_make(ex, EXIT_IRQ_WINDOW, 0, ifl);
		return;
	case KVM_EXIT_INTR:
		exit_make(ex, EXIT_KICK, 0, ifl);
		return;
	default:
		break;
	}
	eip = kvm_eip(k);
	switch (run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		/* kvm_amd re-initialises the vCPU on shutdown: the faulting EIP is gone. */
		if (eip == 0xfff0)
			exit_make_msg(ex, EXIT_SHUTDOWN, eip, 0,
			              "the vCPU was reset by KVM, so the faulting EIP is unknown");
		else
			exit_make(ex, EXIT_SHUTDOWN, eip, ifl);
		return;
	case KVM_EXIT_FAIL_ENTRY:
		exit_make_msg(ex, EXIT_FAIL_ENTRY, eip,
		              run->fail_entry.hardware_entry_failure_reason,
		              "KVM entry failed, hardware reason 0x%" PRIx64,
		              (uint64_t)run->fail_entry.hardware_entry_failure_reason);
		return;
	case KVM_EXIT_INTERNAL_ERROR:
		exit_make_msg(ex, EXIT_INTERNAL, eip, run->internal.suberror,
		              "KVM internal error %" PRIu64 "%s", (uint64_t)run->internal.suberror,
		              run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
		                  ? " (instruction emulation failed)"
		                  : "");
		return;
	default:
		exit_make_msg(ex, EXIT_INTERNAL, eip, run->exit_reason, "kvm: unhandled exit %u",
		              run->exit_reason);
		return;
	}
}

static int kvm_run_vcpu(void *state, struct exit_record *ex)
{
	struct kvm_engine *k = state;

	kvm_inject(k);
	k->kvm_run_calls++;
	if (ioctl(k->vcpu_fd, KVM_RUN, 0) < 0) {
		k->run->immediate_exit = 0;
		if (errno == EINTR || errno == EAGAIN) {
			k->kvm_eintr++;
			exit_make(ex, EXIT_KICK, 0, k->run->if_flag);
			return 0;
		}
		return -errno;
	}
	/* A kick that lands now is not lost: the core polls its timers next. */
	k->run->immediate_exit = 0;
	kvm_translate_exit(k, ex);
	return 0;
}

static void kvm_kick(void *state, void *uctx)
{
	struct kvm_engine *k = state;

	(void)uctx;
	k->run->immediate_exit = 1;
}

static void kvm_print_stats(void *state, FILE *f)
{
	struct kvm_engine *k = state;

	fprintf(f, "== kvm ==\n");
#define X(fld, d) fprintf(f, "  %-25s %12" PRIu64 "   %s\n", #fld, k->fld, d);
	KVM_STATS(X)
#undef X
}

const struct engine_ops kvm_engine_ops = {
    .name = "kvm",
    .desc = "trap-and-emulate on /dev/kvm (hardware virtualization)",
    .probe = kvm_probe,
    .info = kvm_info,
    .create = kvm_create,
    .destroy = kvm_destroy,
    .set_regs = kvm_set_regs,
    .get_regs = kvm_get_regs,
    .run = kvm_run_vcpu,
    .kick = kvm_kick,
    .print_stats = kvm_print_stats,
};
