/* monitor.h: the monitor core: one guest machine, one engine, the exit dispatcher. */
#ifndef TANDEM_MONITOR_H
#define TANDEM_MONITOR_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "cpumodel.h"
#include "debugexit.h"
#include "engine.h"
#include "fwcfg.h"
#include "i8042.h"
#include "ioapic.h"
#include "lapic.h"
#include "loader.h"
#include "pic8259.h"
#include "pit8254.h"
#include "pmtimer.h"
#include "rtc.h"
#include "stats.h"
#include "uart16550.h"
#include "vm.h"

#define TRACE_TC 0x1    /* each new translation: guest and host code */
#define TRACE_ADAPT 0x2 /* each adaptive retranslation */

struct monitor_opts {
	const struct engine_ops *engine;
	const char *kernel;
	const char *cmdline;                 /* "" when none */
	const struct loader_module *modules; /* Multiboot modules (--module), nmodules of them */
	int nmodules;
	const char *serial;          /* COM1 output file; NULL = stdout */
	uint64_t mem;                /* guest RAM bytes */
	double timeout;              /* seconds of guest run time; 0 = none */
	bool stats;                  /* print counters to stderr at the end */
	unsigned trace;              /* TRACE_* bits (--trace=) */
	bool no_adaptive;            /* bt: never retranslate faulting instructions */
	const struct cpu_model *cpu; /* --cpu; NULL: cpu_model_default() */
};

struct monitor {
	struct monitor_opts opts;
	struct vm vm;
	struct bus ports, mmio;
	struct pic pic;
	struct uart uart;
	struct pit pit;
	struct debugexit dbg;
	struct lapic lapic;
	struct ioapic ioapic;
	struct fwcfg fwcfg;
	struct rtc rtc;
	struct pmtimer pmtimer;
	struct i8042 i8042;
	int stop_status; /* a device ended the run (the guest's reset): the status, or 0 */
	struct stats stats;
	struct boot_info boot;
	const struct engine_ops *ops;
	void *engine;
	int serial_fd;

	/* timing: one POSIX timer kicks the vCPU at the next event */
	timer_t timer;
	bool timer_made;
	uint64_t armed_ns;              /* absolute deadline the timer is set for; 0 = disarmed */
	uint64_t start_ns, deadline_ns; /* deadline_ns: --timeout; 0 = none */

	/* the watchdog thread's view of the vCPU (written by the vCPU thread/signal) */
	volatile sig_atomic_t in_run;
	volatile sig_atomic_t in_dispatch; /* inside monitor_dispatch (devices, host output) */
	volatile uint64_t run_start_ns, kick_ns;
};

/*
 * Build the machine: RAM, the kernel loaded (load errors come first, whatever the
 * engine), devices, the engine probed (STATUS_NOCAP with its reason when this host
 * cannot run it) and created, registers at the Multiboot entry state. Returns
 * STATUS_OK or the status to exit with (a one-line error already printed).
 */
int monitor_init(struct monitor *m, const struct monitor_opts *o);

/*
 * Run the guest to its end. Returns the process exit status: the guest's own
 * ((v << 1) | 1 from the debug-exit port) or one of tandem's verdicts (status.h),
 * each non-zero verdict with a one-line message on stderr.
 */
int monitor_run(struct monitor *m);

/* Stop the watchdog and timer, destroy the engine, flush and close the serial output, free
 * guest RAM. Safe after a failed monitor_init. */
void monitor_destroy(struct monitor *m);

/*
 * The exit dispatcher: route one exit record (an engine's exit) to the devices.
 * STATUS_OK to go on, else the status to stop with. The core's run loop calls it for
 * every record an engine's run returns.
 */
int monitor_dispatch(struct monitor *m, struct exit_record *ex);

/* What the machine tells an engine after a device access it raised inside its run. */
enum mon_action {
	MON_CONTINUE, /* go on with the guest */
	MON_STOP,     /* the run ends (the debug-exit port, a reset pulse): return EXIT_STOP */
};

/*
 * The machine service for engines that handle an I/O or MMIO access without leaving
 * their run (bt: from a callout or its fault handler): ex (EXIT_IO or EXIT_MMIO, built
 * with exit.h's constructors) goes to the devices as through monitor_dispatch, and
 * the answer is typed. On MON_STOP the engine's run returns an EXIT_STOP record; the
 * core then ends the run with the guest's status.
 */
enum mon_action monitor_access(struct monitor *m, struct exit_record *ex);

/*
 * monitor_stopping: has the guest asked to end the run (the debug-exit port, a
 * reset pulse)? The core's run loop checks it after each dispatch.
 */
bool monitor_stopping(const struct monitor *m);

/*
 * For engines: is an interrupt waiting (the local APIC first, then the 8259 pair
 * through LINT0, as QEMU's cpu_get_pic_interrupt), and take it (INTA: the vector).
 */
bool monitor_irq_pending(struct monitor *m);
uint8_t monitor_irq_ack(struct monitor *m);

/*
 * The next timer event any device needs the vCPU kicked for (PIT IRQ0, RTC
 * periodic IRQ8, the local APIC timer): absolute CLOCK_MONOTONIC ns, 0 = none.
 */
uint64_t monitor_next_timer(const struct monitor *m);

/*
 * For engines: is an NMI waiting (a local APIC NMI IPI), and take it. The engine
 * delivers vector 2 whatever IF says, and no other NMI until the guest's iret.
 */
bool monitor_nmi_pending(const struct monitor *m);
void monitor_nmi_ack(struct monitor *m);

/* Host monotonic time in ns. */
uint64_t monitor_now_ns(void);

#endif
