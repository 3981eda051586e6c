/* bench_common.c: paths, host facts and output shared by `tandem bench` and `tandem report`. */
#include "bench_common.h"

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "hostcaps.h"
#include "hostinfo.h"
#include "status.h"
#include "suite_linux.h"
#include "version.h"

#ifndef TANDEM_SOURCE_DIR
#define TANDEM_SOURCE_DIR "."
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

/* The running tandem's own path into exe (PATH_MAX bytes); -1 with a line on stderr. */
static int self_exe(char exe[PATH_MAX])
{
	ssize_t n = readlink("/proc/self/exe", exe, PATH_MAX - 1);

	if (n <= 0) {
		fprintf(stderr, "tandem: cannot find my own executable: %s\n", strerror(errno));
		return -1;
	}
	exe[n] = '\0';
	return 0;
}

static int exe_dir(char *dir, size_t len)
{
	char exe[PATH_MAX];

	if (self_exe(exe))
		return -1;
	snprintf(dir, len, "%s", dirname(exe));
	return 0;
}

int bench_data_path(const char *rel, bool build, char *path, size_t len)
{
	char dir[PATH_MAX], tmp[PATH_MAX];

	if (exe_dir(dir, sizeof(dir)))
		return -1;
	snprintf(tmp, sizeof(tmp), "%s", dir);
	snprintf(path, len, "%s/share/tandem/%s", dirname(tmp),
	         rel); /* installed: <prefix>/bin/tandem */
	if (!access(path, F_OK))
		return 0;
	if (build)
		snprintf(path, len, "%s/%s", dir, rel);
	else
		snprintf(path, len, "%s/%s", TANDEM_SOURCE_DIR, rel);
	return 0;
}

int bench_paths(char *tandem, char *guest, char *nested, size_t len)
{
	char exe[PATH_MAX];

	if (self_exe(exe))
		return -1;
	snprintf(tandem, len, "%s", exe);
	if (bench_data_path("guests/nanobench.elf", true, guest, len) ||
	    bench_data_path("scripts/nested-kvm.sh", false, nested, len))
		return -1;
	return 0;
}

int bench_check_guest(const char *path, char *why, size_t len)
{
	unsigned char h[20];
	struct stat st;
	FILE *f;
	size_t n;

	if (stat(path, &st))
		return snprintf(why, len, "guest %s: %s", path, strerror(errno)), -1;
	if (!S_ISREG(st.st_mode))
		return snprintf(why, len, "guest %s: not a regular file", path), -1;
	f = fopen(path, "rb");
	if (!f)
		return snprintf(why, len, "guest %s: %s", path, strerror(errno)), -1;
	n = fread(h, 1, sizeof(h), f);
	fclose(f);
	if (n < sizeof(h) || memcmp(h, "\177ELF", 4))
		return snprintf(why, len, "guest %s: not an ELF file", path), -1;
	if (h[4] != 1 || h[5] != 1 || h[18] != 3 || h[19] != 0) /* ELFCLASS32, LSB, EM_386 */
		return snprintf(why, len, "guest %s: not an ELF32 i386 kernel", path), -1;
	return 0;
}

int bench_check_out(const char *opt, const char *path, char *why, size_t len)
{
	struct stat st;
	bool existed = stat(path, &st) == 0;
	int fd;

	if (existed && S_ISDIR(st.st_mode))
		return snprintf(why, len, "%s %s: is a directory", opt, path), -1;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return snprintf(why, len, "%s %s: %s", opt, path, strerror(errno)), -1;
	close(fd);
	if (!existed)
		unlink(path);
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

void bench_stamp(struct nb_column *col, const struct nb_run *run)
{
	time_t now = time(NULL);
	struct tm tm;

	col->host = run->host;
	gmtime_r(&now, &tm);
	strftime(col->host.date, sizeof(col->host.date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	memcpy(col->guest_id, run->guest_id, sizeof(col->guest_id));
	memcpy(col->tandem, run->tandem, sizeof(col->tandem));
}

const struct nb_paper *bench_paper(void)
{
	static struct nb_paper paper;
	static int loaded; /* 0 not tried, 1 ok, -1 failed */
	char err[256], path[PATH_MAX];

	if (!loaded)
		loaded = bench_data_path("bench/nano/paper-fig4.tsv", false, path, sizeof(path)) ||
		                 nb_read_paper(path, &paper, err, sizeof(err))
		             ? -1
		             : 1;
	return loaded > 0 ? &paper : NULL;
}

int bench_output(const struct nb_run *run, int format, const char *baseline, const char *out,
                 const char *who)
{
	bool is_linux = !strcmp(nb_suite_of(run)->name, "linux");
	struct nb_report_opts o = {.format = format,
	                           .baseline = baseline,
	                           .paper = is_linux ? nb_linux_paper() : bench_paper()};
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
		fprintf(stderr, "%s: wrote %s\n", who, out);
	return STATUS_OK;
}

int bench_vusage(const char *fmt, va_list ap)
{
	fputs("tandem: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see tandem --help)\n", stderr);
	return STATUS_USAGE;
}

int bench_usage(const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = bench_vusage(fmt, ap);
	va_end(ap);
	return ret;
}

int bench_check_list(const char *opt, const char *val, const char *known)
{
	char list[256], shown[512], *tok, *save;
	size_t k = 0;
	int n = 0;

	for (const char *p = known; *p && k + 3 < sizeof(shown); p++)
		if (*p == ',')
			shown[k++] = ',', shown[k++] = ' ';
		else
			shown[k++] = *p;
	shown[k] = '\0';
	if (strlen(val) >= sizeof(list))
		return bench_usage("%s: list too long", opt);
	snprintf(list, sizeof(list), "%s", val);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++)
		if (!strstr_list(known, tok))
			return bench_usage("%s: unknown name '%s' (%s)", opt, tok, shown);
	if (!n)
		return bench_usage("%s: empty list (%s)", opt, shown);
	return 0;
}

const struct option *bench_options(const char *names, struct option *out)
{
	static const struct option all[] = {
#define X(id, name, arg) {name, arg ? required_argument : no_argument, NULL, BOPT_##id},
	    BENCH_OPTIONS(X)
#undef X
	};
	char list[256], *tok, *save;
	size_t n = 0;

	snprintf(list, sizeof(list), "%s", names);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < sizeof(all) / sizeof(all[0]) && strcmp(all[i].name, tok))
			i++;
		if (i == sizeof(all) / sizeof(all[0]) || n + 1 >= BENCH_MAX_OPTS)
			abort();
		out[n++] = all[i];
	}
	out[n] = (struct option){NULL, 0, NULL, 0};
	return out;
}

int bench_opt_format(const char *arg, int *format)
{
	*format = nb_format_find(arg);
	return *format < 0 ? bench_usage("--format %s: want table, md, csv or json", arg) : 0;
}
