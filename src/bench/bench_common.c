/* bench_common.c: paths, host facts and output shared by `tandem bench` and `tandem report`. */
#include "bench_common.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "hostcaps.h"
#include "hostinfo.h"
#include "status.h"

#ifndef TANDEM_SOURCE_DIR
#define TANDEM_SOURCE_DIR "."
#endif
#ifndef TANDEM_VERSION
#define TANDEM_VERSION "unknown"
#endif

bool strstr_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

int bench_paths(char *tandem, char *guest, char *nested, size_t len)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0) {
		fprintf(stderr, "tandem: cannot find my own executable: %s\n", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	snprintf(dir, sizeof(dir), "%s", exe);
	snprintf(tandem, len, "%s", exe);
	snprintf(guest, len, "%s/guests/nanobench.elf", dirname(dir));
	snprintf(nested, len, "%s/scripts/nested-kvm.sh", TANDEM_SOURCE_DIR);
	return 0;
}

static void guest_identity(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "rb");
	uint64_t h = 0xcbf29ce484222325ULL, size = 0;
	int c;

	if (!f) {
		snprintf(out, len, "unreadable");
		return;
	}
	while ((c = getc(f)) != EOF) {
		h = (h ^ (uint8_t)c) * 0x100000001b3ULL;
		size++;
	}
	fclose(f);
	snprintf(out, len, "size=%llu fnv1a64=%016llx", (unsigned long long)size,
		 (unsigned long long)h);
}

void bench_host_info(struct nb_run *run, const char *guest)
{
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;

	host_cpu_model(run->host.cpu, sizeof(run->host.cpu));
	run->host.tsc_khz = host_tsc_khz();
	uname(&u);
	snprintf(run->host.kernel, sizeof(run->host.kernel), "%.20s %.100s", u.sysname, u.release);
	snprintf(run->host.kvm, sizeof(run->host.kvm), "%s", host_kvm_flavour());
	host_caps_summary(run->host.caps, sizeof(run->host.caps));
	gethostname(run->host.hostname, sizeof(run->host.hostname) - 1);
	gmtime_r(&now, &tm);
	strftime(run->host.date, sizeof(run->host.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(run->guest, sizeof(run->guest), "%s", guest);
	guest_identity(guest, run->guest_id, sizeof(run->guest_id));
	snprintf(run->tandem, sizeof(run->tandem), "%s", TANDEM_VERSION);
}

const struct nb_paper *bench_paper(void)
{
	static struct nb_paper paper;
	static int loaded; /* 0 not tried, 1 ok, -1 failed */
	char err[256];

	if (!loaded)
		loaded = nb_read_paper(TANDEM_SOURCE_DIR "/nanobench/paper-fig4.tsv", &paper, err,
				       sizeof(err)) ? -1 : 1;
	return loaded > 0 ? &paper : NULL;
}

int bench_output(const struct nb_run *run, int format, const char *baseline, const char *out)
{
	struct nb_report_opts o = { .format = format, .baseline = baseline, .paper = bench_paper() };
	FILE *f = stdout;

	if (out && !(f = fopen(out, "w"))) {
		fprintf(stderr, "tandem: --out %s: %s\n", out, strerror(errno));
		return STATUS_HOST;
	}
	nb_report(f, run, &o);
	if (f != stdout && fclose(f)) {
		fprintf(stderr, "tandem: --out %s: %s\n", out, strerror(errno));
		return STATUS_HOST;
	}
	if (out)
		fprintf(stderr, "bench: wrote %s\n", out);
	return STATUS_OK;
}
