/*
 * status.h: tandem's process exit statuses. A guest that writes v to the
 * debug-exit port makes tandem exit with (v << 1) | 1, exactly as QEMU's
 * isa-debug-exit does, so guest statuses are odd; tandem's own verdicts are even.
 */
#ifndef TANDEM_STATUS_H
#define TANDEM_STATUS_H

#define TANDEM_STATUSES(X)                                                                         \
	X(OK, 0, "success (info, help, bench)")                                                    \
	X(USAGE, 2, "bad command line")                                                            \
	X(LOAD, 4, "the guest image cannot be loaded (missing, not ELF32, not Multiboot)")         \
	X(CRASH, 6, "the guest crashed: triple fault, failed entry, engine internal error")        \
	X(TIMEOUT, 8, "--timeout expired before the guest exited")                                 \
	X(UNSUPPORTED, 10, "the guest did something this engine does not support")                 \
	X(HALTED, 12, "the guest halted with interrupts disabled (can never resume)")              \
	X(NOCAP, 14, "this host cannot run the chosen engine (reason printed)")                    \
	X(HOST, 16, "host failure (out of memory, ioctl error, watchdog)")                         \
	X(RESET, 22,                                                                               \
	  "the guest reset the machine (i8042 pulse), which ends the run as QEMU's -no-reboot")

enum tandem_status {
#define X(name, val, desc) STATUS_##name = val,
	TANDEM_STATUSES(X)
#undef X
};

#endif
