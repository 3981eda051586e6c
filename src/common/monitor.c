/* monitor.c: machine set-up and the exit dispatcher shared by every engine. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "monitor_timer.h"
#include "status.h"

uint64_t monitor_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

bool monitor_irq_pending(struct monitor *m)
{
	return lapic_pending(&m->lapic) || (lapic_accepts_pic(&m->lapic) && pic_pending(&m->pic));
}

uint8_t monitor_irq_ack(struct monitor *m)
{
	m->stats.irq_injected++;
	if (lapic_pending(&m->lapic))
		return lapic_ack(&m->lapic);
	return pic_ack(&m->pic);
}

bool monitor_nmi_pending(const struct monitor *m)
{
	return m->lapic.nmi_pending != 0;
}

void monitor_nmi_ack(struct monitor *m)
{
	m->lapic.nmi_pending = 0;
	m->stats.irq_injected++;
}

static int open_serial(struct monitor *m)
{
	if (!m->opts.serial) {
		m->serial_fd = STDOUT_FILENO;
		return 0;
	}
	m->serial_fd = open(m->opts.serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (m->serial_fd < 0) {
		log_err("--serial %s: %s", m->opts.serial, strerror(errno));
		return -errno;
	}
	return 0;
}

static void guest_reset(void *opaque)
{
	struct monitor *m = opaque;

	if (!m->stop_status)
		m->stop_status = STATUS_RESET;
}

bool monitor_stopping(const struct monitor *m)
{
	return m->dbg.exited || m->stop_status;
}

enum mon_action monitor_access(struct monitor *m, struct exit_record *ex)
{
	return monitor_dispatch(m, ex) != STATUS_OK || monitor_stopping(m) ? MON_STOP
	                                                                   : MON_CONTINUE;
}

static int devices_init(struct monitor *m)
{
	bus_init(&m->ports, "port");
	bus_init(&m->mmio, "mmio");
	pic_init(&m->pic);
	uart_init(&m->uart, m->serial_fd, &m->pic, UART_COM1_IRQ);
	pit_init(&m->pit, &m->pic, host_clock_ns, NULL);
	debugexit_init(&m->dbg);
	lapic_init(&m->lapic, NULL, NULL);
	ioapic_init(&m->ioapic, &m->lapic);
	m->pic.mirror = ioapic_set_isa_irq;
	m->pic.mirror_opaque = &m->ioapic;
	fwcfg_init(&m->fwcfg, m->opts.mem, 1);
	rtc_init(&m->rtc, &m->pic, m->opts.mem, NULL, NULL, NULL);
	pmtimer_init(&m->pmtimer, NULL, NULL);
	i8042_init(&m->i8042, &m->pic, guest_reset, m);
	if (pic_register(&m->pic, &m->ports) ||
	    uart_register(&m->uart, &m->ports, UART_COM1_BASE) ||
	    pit_register(&m->pit, &m->ports) || debugexit_register(&m->dbg, &m->ports) ||
	    lapic_register(&m->lapic, &m->mmio) || ioapic_register(&m->ioapic, &m->mmio) ||
	    fwcfg_register(&m->fwcfg, &m->ports) || rtc_register(&m->rtc, &m->ports) ||
	    pmtimer_register(&m->pmtimer, &m->ports) || i8042_register(&m->i8042, &m->ports))
		return -EEXIST;
	return 0;
}

uint64_t monitor_next_timer(const struct monitor *m)
{
	uint64_t t[3] = {pit_next_deadline(&m->pit), rtc_next_deadline(&m->rtc),
	                 lapic_next_deadline(&m->lapic)};
	uint64_t next = 0;

	for (int i = 0; i < 3; i++)
		if (t[i] && (!next || t[i] < next))
			next = t[i];
	return next;
}

int monitor_init(struct monitor *m, const struct monitor_opts *o)
{
	char err[256], cmdline[LOADER_MBI_SIZE + 1];
	struct vcpu_regs regs;
	int ret;

	memset(m, 0, sizeof(*m));
	m->opts = *o;
	m->ops = o->engine;
	m->serial_fd = -1;
	m->vm.memfd = -1;
	ret = vm_init(&m->vm, o->mem);
	if (ret) {
		log_err("cannot create %llu MiB of guest RAM: %s",
		        (unsigned long long)(o->mem >> 20), strerror(-ret));
		return STATUS_HOST;
	}
	if (loader_is_bzimage(o->kernel)) {
		/* Linux: the command line as given (QEMU's -append); the first module is the
		 * initrd. */
		if (o->nmodules > 1) {
			log_err("%s: a Linux kernel takes one initrd (--initrd/--module), not %d",
			        o->kernel, o->nmodules);
			return STATUS_LOAD;
		}
		ret = loader_load_linux(&m->vm, o->kernel, o->cmdline,
		                        o->nmodules ? o->modules[0].path : NULL, &m->boot, err,
		                        sizeof(err));
	} else {
		/* As QEMU and GRUB do, the Multiboot command line starts with the kernel's path. */
		if (strlen(o->kernel) + 1 + strlen(o->cmdline) >= sizeof(cmdline)) {
			log_err(
			    "%s: command line too long (%zu bytes with the kernel's path; at most "
			    "%zu)",
			    o->kernel, strlen(o->kernel) + 1 + strlen(o->cmdline),
			    sizeof(cmdline) - 1);
			return STATUS_LOAD;
		}
		memcpy(cmdline, o->kernel, strlen(o->kernel));
		cmdline[strlen(o->kernel)] = ' ';
		memcpy(cmdline + strlen(o->kernel) + 1, o->cmdline, strlen(o->cmdline) + 1);
		ret = loader_load(&m->vm, o->kernel, cmdline, o->modules, o->nmodules, &m->boot,
		                  err, sizeof(err));
	}
	if (ret) {
		log_err("%s", err);
		return STATUS_LOAD;
	}
	if (open_serial(m) || devices_init(m))
		return STATUS_HOST;
	if (m->ops->probe(err, sizeof(err))) {
		fprintf(stderr, "tandem: %s\n", err);
		return STATUS_NOCAP;
	}
	ret = m->ops->create(m, &m->engine);
	if (ret) {
		m->engine = NULL;
		return ret == -ENOTSUP ? STATUS_NOCAP : STATUS_HOST;
	}
	if (m->boot.is_linux)
		vcpu_linux_state(&regs, m->boot.entry, m->boot.boot_params, m->boot.gdt,
		                 (uint16_t)m->boot.gdt_limit);
	else
		vcpu_multiboot_state(&regs, m->boot.entry, m->boot.mbi);
	if (m->ops->set_regs(m->engine, &regs)) {
		log_err("%s: cannot set the entry registers", m->ops->name);
		return STATUS_HOST;
	}
	return STATUS_OK;
}

void monitor_destroy(struct monitor *m)
{
	watchdog_stop(m);
	mtimer_destroy(m);
	if (m->engine)
		m->ops->destroy(m->engine);
	m->engine = NULL;
	if (m->serial_fd >= 0) {
		uart_flush_nowait(&m->uart);
		if (m->serial_fd != STDOUT_FILENO)
			close(m->serial_fd);
	}
	vm_destroy(&m->vm);
}

/* Run every element of a (rep) string port access through the bus. */
static void dispatch_io(struct monitor *m, struct exit_record *ex)
{
	uint32_t i;

	for (i = 0; i < ex->io.count && !monitor_stopping(m); i++) {
		uint8_t *p = ex->io.data + (size_t)i * ex->io.size;
		uint64_t val = 0;

		if (ex->io.is_write) {
			memcpy(&val, p, ex->io.size);
			m->stats.port_out++;
		} else {
			m->stats.port_in++;
		}
		if (bus_access(&m->ports, ex->io.port, ex->io.size, ex->io.is_write, &val)) {
			m->stats.port_unclaimed++;
			log_debug("unclaimed port %s 0x%x at eip=0x%x",
			          ex->io.is_write ? "write" : "read", ex->io.port, ex->eip);
		}
		if (!ex->io.is_write)
			memcpy(p, &val, ex->io.size);
	}
}

static void dispatch_mmio(struct monitor *m, struct exit_record *ex)
{
	uint64_t val = 0;

	if (ex->mmio.is_write) {
		memcpy(&val, ex->mmio.data, ex->mmio.len);
		m->stats.mmio_write++;
	} else {
		m->stats.mmio_read++;
	}
	if (bus_access(&m->mmio, ex->mmio.addr, ex->mmio.len, ex->mmio.is_write, &val)) {
		m->stats.mmio_unclaimed++;
		log_debug("unclaimed MMIO %s 0x%llx at eip=0x%x",
		          ex->mmio.is_write ? "write" : "read", (unsigned long long)ex->mmio.addr,
		          ex->eip);
	}
	if (!ex->mmio.is_write)
		memcpy(ex->mmio.data, &val, ex->mmio.len);
}

/* Bring the PIT up to now; report timer edges in stats. */
static void poll_timers(struct monitor *m)
{
	pit_update(&m->pit);
	rtc_update(&m->rtc);
	lapic_update(&m->lapic);
	m->stats.timer_irqs = m->pit.irqs;
	m->stats.timer_missed = m->pit.missed;
}

/*
 * HLT: sleep until an interrupt could arrive. With IF=0, or with no interrupt
 * source left, the guest can never resume.
 */
static int wait_halted(struct monitor *m, const struct exit_record *ex)
{
	for (;;) {
		uint64_t next, now;
		struct timespec ts;

		poll_timers(m);
		if (monitor_irq_pending(m))
			return STATUS_OK;
		if (!ex->if_flag) {
			log_err("guest halted with interrupts disabled at eip=0x%x", ex->eip);
			return STATUS_HALTED;
		}
		next = monitor_next_timer(m);
		if (m->deadline_ns && (!next || m->deadline_ns < next))
			next = m->deadline_ns;
		if (!next) {
			log_err("guest halted at eip=0x%x with no interrupt source armed", ex->eip);
			return STATUS_HALTED;
		}
		now = monitor_now_ns();
		if (m->deadline_ns && now >= m->deadline_ns)
			return STATUS_TIMEOUT;
		ts.tv_sec = (time_t)(next / 1000000000ULL);
		ts.tv_nsec = (long)(next % 1000000000ULL);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
}

static int dispatch(struct monitor *m, struct exit_record *ex);

/*
 * In the watchdog's eyes a dispatch is the monitor's time, not the engine's: a
 * device or a stalled output reader may take long. A kick that came meanwhile
 * was seen (the engine leaves at its next boundary): the hang clock restarts.
 */
int monitor_dispatch(struct monitor *m, struct exit_record *ex)
{
	int ret;

	m->in_dispatch = 1;
	ret = dispatch(m, ex);
	m->run_start_ns = m->kick_ns;
	m->in_dispatch = 0;
	return ret;
}

static int dispatch(struct monitor *m, struct exit_record *ex)
{
	if (ex->reason < EXIT_NR)
		m->stats.dispatched[ex->reason]++;
	switch (ex->reason) {
	case EXIT_IO:
		dispatch_io(m, ex);
		/* A write may have programmed the PIT: engines that stay in their run loop
		 * across I/O still need the kick at its next edge. */
		if (ex->io.is_write && m->timer_made)
			mtimer_rearm(m);
		return STATUS_OK;
	case EXIT_MMIO:
		dispatch_mmio(m, ex);
		/* A write may have started the local APIC timer. */
		if (ex->mmio.is_write && m->timer_made)
			mtimer_rearm(m);
		return STATUS_OK;
	case EXIT_HLT:
		return wait_halted(m, ex);
	case EXIT_IRQ_WINDOW:
	case EXIT_KICK:
	case EXIT_STOP: /* the access that stopped the guest was dispatched already */
		return STATUS_OK;
	case EXIT_SHUTDOWN:
		if (ex->what[0])
			log_err("%s: guest triple-faulted (shutdown): %s", m->ops->name, ex->what);
		else
			log_err("%s: guest triple-faulted (shutdown) at eip=0x%x", m->ops->name,
			        ex->eip);
		return STATUS_CRASH;
	case EXIT_FAIL_ENTRY:
	case EXIT_INTERNAL:
		log_err("%s: %s at eip=0x%x", m->ops->name, ex->what, ex->eip);
		return STATUS_CRASH;
	case EXIT_UNSUPPORTED:
		log_err("%s: unsupported: %s at eip=0x%x", m->ops->name, ex->what, ex->eip);
		return STATUS_UNSUPPORTED;
	case EXIT_NR:
		break;
	}
	log_err("%s: unknown exit %d at eip=0x%x", m->ops->name, ex->reason, ex->eip);
	return STATUS_CRASH;
}

static int run_loop(struct monitor *m)
{
	struct exit_record ex;
	int ret;

	for (;;) {
		poll_timers(m);
		if (m->deadline_ns && monitor_now_ns() >= m->deadline_ns) {
			log_err("timeout: the guest did not exit within %g s", m->opts.timeout);
			return STATUS_TIMEOUT;
		}
		mtimer_rearm(m);
		memset(&ex, 0, sizeof(ex));
		m->run_start_ns = monitor_now_ns();
		m->in_run = 1;
		ret = m->ops->run(m->engine, &ex);
		m->in_run = 0;
		m->stats.runs++;
		if (ex.reason < EXIT_NR)
			m->stats.exits[ex.reason]++;
		if (ret) {
			log_err("%s: run failed: %s", m->ops->name, strerror(-ret));
			return STATUS_HOST;
		}
		ret = monitor_dispatch(m, &ex);
		if (m->dbg.exited)
			return m->dbg.status;
		if (m->stop_status) {
			log_err("the guest reset the machine at eip=0x%x (the run ends, as QEMU's "
			        "-no-reboot)",
			        ex.eip);
			return m->stop_status;
		}
		if (ret == STATUS_TIMEOUT)
			log_err("timeout: the guest did not exit within %g s", m->opts.timeout);
		if (ret != STATUS_OK)
			return ret;
	}
}

int monitor_run(struct monitor *m)
{
	int ret;

	ret = mtimer_init(m);
	if (!ret)
		ret = watchdog_start(m);
	if (ret) {
		log_err("cannot set up the vCPU timer: %s", strerror(-ret));
		return STATUS_HOST;
	}
	m->start_ns = monitor_now_ns();
	if (m->opts.timeout > 0)
		m->deadline_ns = m->start_ns + (uint64_t)(m->opts.timeout * 1e9);
	ret = run_loop(m);
	m->stats.wall_ns = monitor_now_ns() - m->start_ns;
	m->stats.serial_bytes = m->uart.tx_bytes;
	if (ret == STATUS_TIMEOUT)
		uart_flush_nowait(&m->uart);
	else
		uart_flush(&m->uart);
	m->stats.serial_dropped = m->uart.dropped;
	if (m->opts.stats) {
		fprintf(stderr, "== tandem: backend %s, guest %s, status %d ==\n", m->ops->name,
		        m->opts.kernel, ret);
		stats_print(&m->stats, stderr);
		if (m->ops->print_stats)
			m->ops->print_stats(m->engine, stderr);
	}
	return ret;
}
