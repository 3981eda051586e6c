/* backends.c: the backend registry: the one table of --backend / --backends names. */
#include "backends.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostcaps.h"

#define ALL_GUEST (SUITE_NANO | SUITE_MACRO | SUITE_LINUX | SUITE_COMPUTE)
#define NML (SUITE_NANO | SUITE_MACRO | SUITE_LINUX)

/*
 * Adding a backend is one row here. The order is the order of every suite's default
 * set and of `tandem backends`.
 */
static const struct backend table[] = {
    {.name = "bt",
     .kind = BACKEND_ENGINE,
     .engine = &bt_engine_ops,
     .hw_timing = true,
     .runs_guest = true,
     .suites = ALL_GUEST,
     .defaults = ALL_GUEST,
     .label = "tandem binary translator"},
    {.name = "bt-noadapt",
     .kind = BACKEND_ENGINE,
     .engine = &bt_engine_ops,
     .no_adaptive = true,
     .hw_timing = true,
     .runs_guest = true,
     .suites = ALL_GUEST,
     .defaults = NML,
     .label = "tandem binary translator, adaptive translation off"},
    {.name = "kvm",
     .kind = BACKEND_ENGINE,
     .engine = &kvm_engine_ops,
     .hw_timing = true,
     .runs_guest = true,
     .suites = ALL_GUEST,
     .defaults = ALL_GUEST,
     .label = "tandem KVM trap-and-emulate (hardware)"},
    {.name = "kvm-nested",
     .kind = BACKEND_NESTED,
     .engine = &kvm_engine_ops,
     .suites = ALL_GUEST,
     .label = "tandem KVM inside a QEMU TCG+SVM VM: not hardware timing"},
    {.name = "native",
     .kind = BACKEND_NATIVE,
     .hw_timing = true,
     .suites = ALL_GUEST,
     .defaults = ALL_GUEST,
     .label = "the host itself: the suite's host analogs (bench/<suite>/host)"},
    {.name = "native-signal",
     .kind = BACKEND_NATIVE,
     .hw_timing = true,
     .suites = SUITE_NANO,
     .defaults = SUITE_NANO,
     .label = "host process: a SIGSEGV round trip for pgfault"},
    {.name = "native64",
     .kind = BACKEND_NATIVE,
     .hw_timing = true,
     .suites = SUITE_COMPUTE,
     .label = "the compute kernels as a 64-bit host process (a reference)"},
    {.name = "qemu",
     .kind = BACKEND_QEMU,
     .hw_timing = true,
     .runs_guest = true,
     .suites = ALL_GUEST,
     .defaults = ALL_GUEST,
     .label = "qemu-system-i386, TCG (a translator too)"},
};

#define NROWS (sizeof(table) / sizeof(table[0]))

static const char *const suite_names[] = {"nano", "macro", "linux", "compute"};

size_t backend_count(void)
{
	return NROWS;
}

const struct backend *backend_at(size_t i)
{
	return i < NROWS ? &table[i] : NULL;
}

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; name && i < NROWS; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

const struct backend *backend_in_suite(const char *name, unsigned suite)
{
	const struct backend *b = backend_find(name);

	return b && (b->suites & suite) ? b : NULL;
}

/* Does row b belong to mask (0: the `tandem run` backends)? */
static bool in_mask(const struct backend *b, unsigned mask, bool defaults)
{
	if (!mask)
		return b->runs_guest;
	return ((defaults ? b->defaults : b->suites) & mask) != 0;
}

static const char *join(unsigned mask, bool defaults, const char *sep, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < NROWS && len; i++) {
		int n;

		if (!in_mask(&table[i], mask, defaults))
			continue;
		n = snprintf(buf + used, len - used, "%s%s", used ? sep : "", table[i].name);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

const char *backend_names(unsigned mask, const char *sep, char *buf, size_t len)
{
	return join(mask, false, sep, buf, len);
}

const char *backend_defaults(unsigned suite, char *buf, size_t len)
{
	return join(suite, true, ",", buf, len);
}

unsigned backend_suite_bit(const char *name)
{
	for (unsigned i = 0; name && i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
		if (!strcmp(name, suite_names[i]))
			return 1u << i;
	return 0;
}

const char *backend_suite_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
		if (bit == 1u << i)
			return suite_names[i];
	return "?";
}

const char *backend_kind_name(enum backend_kind kind)
{
	switch (kind) {
	case BACKEND_ENGINE:
		return "engine";
	case BACKEND_NESTED:
		return "nested";
	case BACKEND_QEMU:
		return "qemu";
	case BACKEND_NATIVE:
		return "native";
	}
	return "?";
}

bool backend_available(const struct backend *b, unsigned suite, const char *nested, char *why,
                       size_t len)
{
	why[0] = '\0';
	switch (b->kind) {
	case BACKEND_ENGINE:
		return b->engine->probe(why, len) == 0;
	case BACKEND_NESTED:
		if (!nested || access(nested, X_OK))
			return snprintf(why, len, "%s not found",
			                nested ? nested : "nested-kvm.sh"),
			       false;
		if (!host_has(HOST_CAP_NESTED))
			return snprintf(why, len, "%s", host_cap(HOST_CAP_NESTED)->how), false;
		return true;
	case BACKEND_QEMU:
		if (system("command -v qemu-system-i386 >/dev/null 2>&1"))
			return snprintf(why, len, "qemu-system-i386 not found in PATH"), false;
		return true;
	case BACKEND_NATIVE:
		if ((suite & (SUITE_LINUX | SUITE_COMPUTE)) && strcmp(b->name, "native64") &&
		    !host_has(HOST_CAP_IA32))
			return snprintf(why, len, "this host cannot run 32-bit code: %.150s",
			                host_cap(HOST_CAP_IA32)->how),
			       false;
		return true;
	}
	return false;
}

const struct engine_ops *backend_engine_at(size_t i)
{
	for (size_t r = 0; r < NROWS; r++) {
		bool seen = false;

		if (table[r].kind != BACKEND_ENGINE)
			continue;
		for (size_t q = 0; q < r; q++)
			seen |=
			    table[q].kind == BACKEND_ENGINE && table[q].engine == table[r].engine;
		if (!seen && i-- == 0)
			return table[r].engine;
	}
	return NULL;
}

const struct engine_ops *engine_find(const char *name)
{
	const struct backend *b = backend_find(name);

	return b && b->kind == BACKEND_ENGINE && !b->no_adaptive ? b->engine : NULL;
}

const char *backend_default_set(unsigned suite, bool with_nested, const char *nested, char *buf,
                                size_t len)
{
	char why[256];

	backend_defaults(suite, buf, len);
	for (size_t i = 0; with_nested && i < NROWS; i++) {
		const struct backend *b = &table[i], *own;
		size_t used = strlen(buf);

		if (b->kind != BACKEND_NESTED || !(b->suites & suite))
			continue;
		own = backend_find(b->engine->name); /* the engine's own row */
		if (!own || !(own->defaults & suite) ||
		    backend_available(own, suite, nested, why, sizeof(why)))
			continue;
		if (backend_available(b, suite, nested, why, sizeof(why)))
			snprintf(buf + used, len - used, "%s%s", used ? "," : "", b->name);
	}
	return buf;
}
