/*
 * monitor_timer.c: kicking the vCPU out of the engine on time, and the watchdog.
 *
 * One POSIX timer, aimed at the vCPU thread, fires at the next event the core
 * must see (the next timer device event: PIT, RTC, local APIC; the --timeout
 * deadline); its signal handler
 * asks the engine to return (KVM: kvm_run.immediate_exit). The timer is re-armed
 * only when the next event changes, so a hot exit path costs no syscall. A
 * watchdog thread ends the process if an engine ignores a kick: a KVM_RUN that
 * never returns must not hang the host. --timeout always wins: past the deadline
 * the watchdog kicks the vCPU thread again every tick (a kick that landed just
 * before a blocking write is not lost), the UART gives up on a stalled reader,
 * and a vCPU thread still not back after the grace period ends the process with
 * the timeout status. The watchdog sleeps on a condition variable, so it ends
 * the moment the run does.
 */
#include "monitor_timer.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "status.h"

#define SIG_KICK (SIGRTMIN + 1)

/* The one monitor per process the signal handler and watchdog act on. */
static struct monitor *volatile kick_target;
static pthread_t watchdog_thread, vcpu_thread;
static pthread_mutex_t watchdog_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_cond;
static int watchdog_quit;
static bool watchdog_running;

#define WATCHDOG_TICK_NS (200ULL * 1000 * 1000)

static void kick_handler(int sig, siginfo_t *si, void *uctx)
{
	struct monitor *m = kick_target;

	(void)sig;
	(void)si;
	if (!m || !m->engine)
		return;
	m->kick_ns = monitor_now_ns();
	if (m->deadline_ns && m->kick_ns >= m->deadline_ns)
		m->uart.stop = 1;
	m->ops->kick(m->engine, uctx);
}

int mtimer_init(struct monitor *m)
{
	struct sigaction sa;
	struct sigevent sev;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kick_handler;
	/* on the thread's alternate stack if it has one: bt may run with RSP in guest memory */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIG_KICK, &sa, NULL) < 0)
		return -errno;
	kick_target = m;
	vcpu_thread = pthread_self();

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIG_KICK;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &m->timer) < 0)
		return -errno;
	m->timer_made = true;
	m->armed_ns = 0;
	return 0;
}

void mtimer_destroy(struct monitor *m)
{
	if (m->timer_made)
		timer_delete(m->timer);
	m->timer_made = false;
	kick_target = NULL;
}

void mtimer_rearm(struct monitor *m)
{
	uint64_t next = monitor_next_timer(m);
	struct itimerspec its;

	if (m->deadline_ns && (!next || m->deadline_ns < next))
		next = m->deadline_ns;
	if (next == m->armed_ns)
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(next / 1000000000ULL);
	its.it_value.tv_nsec = (long)(next % 1000000000ULL);
	/* An absolute time already past fires at once, which is what we want. */
	if (next && !its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (timer_settime(m->timer, TIMER_ABSTIME, &its, NULL) == 0)
		m->armed_ns = next;
}

/* One watchdog tick: may end the process; never returns otherwise with a verdict. */
/*
 * The watchdog's last words: formatted here and written with one non-blocking
 * write(2), never through stdio, whose stderr lock a vCPU thread blocked in a
 * stalled write (--stats, -v) may hold forever.
 */
__attribute__((format(printf, 2, 3), noreturn)) static void watchdog_exit(int status,
                                                                          const char *fmt, ...)
{
	char line[300] = "tandem: error: ";
	struct pollfd p = {.fd = STDERR_FILENO, .events = POLLOUT};
	size_t n = strlen(line);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) && write(STDERR_FILENO, line, n) < 0)
		n = 0; /* nothing more to try: the status says it */
	_exit(status);
}

static void watchdog_check(struct monitor *m)
{
	uint64_t now = monitor_now_ns(), kick = m->kick_ns, start = m->run_start_ns;

	if (m->deadline_ns && now >= m->deadline_ns) {
		/* The vCPU thread may be blocked outside the engine (a stalled stdout reader). */
		m->uart.stop = 1;
		if (now - m->deadline_ns < WATCHDOG_GRACE_NS) {
			pthread_kill(vcpu_thread, SIG_KICK);
			return;
		}
		watchdog_exit(STATUS_TIMEOUT,
		              "timeout: the guest did not exit within %g s (the vCPU thread did "
		              "not return: output to a stalled reader is dropped)",
		              m->opts.timeout);
	}
	/* Inside monitor_dispatch the vCPU thread is the monitor's (a device, host output):
	 * a reader that stalls there is not an engine that ignores kicks. */
	if (m->in_run && !m->in_dispatch && kick > start && now - kick > WATCHDOG_GRACE_NS)
		watchdog_exit(STATUS_HOST,
		              "%s: the guest did not return to the monitor %.0f s after a kick "
		              "(engine hung); giving up",
		              m->ops->name, (double)WATCHDOG_GRACE_NS / 1e9);
}

static void *watchdog_main(void *arg)
{
	struct monitor *m = arg;
	struct timespec until;

	pthread_mutex_lock(&watchdog_lock);
	while (!watchdog_quit) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)WATCHDOG_TICK_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&watchdog_cond, &watchdog_lock, &until) == 0 ||
		    watchdog_quit)
			continue;
		watchdog_check(m);
	}
	pthread_mutex_unlock(&watchdog_lock);
	return NULL;
}

int watchdog_start(struct monitor *m)
{
	pthread_condattr_t attr;
	int err;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&watchdog_cond, &attr);
	pthread_condattr_destroy(&attr);
	watchdog_quit = 0;
	err = pthread_create(&watchdog_thread, NULL, watchdog_main, m);
	if (err)
		return -err;
	watchdog_running = true;
	return 0;
}

void watchdog_stop(struct monitor *m)
{
	(void)m;
	if (!watchdog_running)
		return;
	pthread_mutex_lock(&watchdog_lock);
	watchdog_quit = 1;
	pthread_cond_signal(&watchdog_cond);
	pthread_mutex_unlock(&watchdog_lock);
	pthread_join(watchdog_thread, NULL);
	pthread_cond_destroy(&watchdog_cond);
	watchdog_running = false;
}
