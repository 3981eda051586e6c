/*
 * manifest_list.c: `tandem bench --list [--suite S]`'s rows: each suite's manifest
 * (bench/<suite>/manifest.h) as a markdown table, the text the README quotes
 * (tests/manifest_readme.sh checks that it does).
 */
#include "manifest_list.h"

#include <string.h>

#include "compute/manifest.h"
#include "linux/manifest.h"
#include "macro/manifest.h"
#include "nano/manifest.h"

/* One row: name, paper, the host analog (or scale), what one operation is. */
struct row {
	const char *name, *paper, *host, *desc;
};

static const struct row nano_rows[] = {
#define X(n, paper, ring, prep, fin, an, amax, anote, d) {#n, paper, anote[0] ? anote : "n/a", d},
    NANO_ROWS(X)
#undef X
};

static const struct row macro_rows[] = {
#define X(n, paper, dn, per, an, anote, d) {#n, paper, anote, d},
    MACRO_ROWS(X)
#undef X
};

static const struct row linux_rows[] = {
#define X(n, paper, scale, d) {#n, paper, scale, d},
    LINUX_ROWS(X)
#undef X
};

static const struct row compute_rows[] = {
#define X(n, paper, scale, d) {#n, paper, scale, d},
    COMPUTE_ROWS(X)
#undef X
};

static const struct {
	const char *name, *unit, *third;
	const struct row *rows;
	size_t nrows;
} suites[] = {
    {"nano", NANO_UNIT, "host analog (native column)", nano_rows,
     sizeof(nano_rows) / sizeof(nano_rows[0])},
    {"macro", MACRO_UNIT, "host analog (native column)", macro_rows,
     sizeof(macro_rows) / sizeof(macro_rows[0])},
    {"linux", LINUX_UNIT, "a sample (from --n N)", linux_rows,
     sizeof(linux_rows) / sizeof(linux_rows[0])},
    {"compute", COMPUTE_UNIT, "a sample", compute_rows,
     sizeof(compute_rows) / sizeof(compute_rows[0])},
};

int bench_list_rows(FILE *f, const char *suite)
{
	for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		if (strcmp(suites[s].name, suite))
			continue;
		fprintf(f, "rows of --suite %s (bench/%s/manifest.h), %s:\n\n", suite, suite,
		        suites[s].unit);
		fprintf(f, "| row | paper | %s | one operation |\n|---|---|---|---|\n",
		        suites[s].third);
		for (size_t i = 0; i < suites[s].nrows; i++) {
			const struct row *r = &suites[s].rows[i];

			fprintf(f, "| %s | %s | %s | %s |\n", r->name, r->paper, r->host, r->desc);
		}
		return 0;
	}
	return -1;
}
