/*
 * findings.c: does each of the paper's findings (which engine wins a row) hold
 * here? A verdict only from two hardware-timing columns of one host (bt and
 * kvm), and only when their samples separate; otherwise "not judged here".
 */
#include "results.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *engine_of(const char *name)
{
	const char *c = strrchr(name, ':');

	return c ? c + 1 : name;
}

/* The column named prefix + engine (prefix: the first plen bytes of a name), or -1. */
static int same_host(const struct nb_run *run, const char *name, size_t plen, const char *engine)
{
	for (int i = 0; i < run->ncols; i++) {
		const char *n = run->col[i].name;

		if (!strncmp(n, name, plen) && !strcmp(n + plen, engine))
			return i;
	}
	return -1;
}

/*
 * The first bt column with an available hardware-timing kvm column of the same
 * host: true with both indexes; else false with why no pair exists.
 */
static bool pair(const struct nb_run *run, int *bt, int *kvm, char *why, size_t n)
{
	int first_bt = -1, k;

	snprintf(why, n, "no bt column");
	for (int i = 0; i < run->ncols; i++) {
		const struct nb_column *c = &run->col[i];
		size_t plen = (size_t)(engine_of(c->name) - c->name);

		if (strcmp(engine_of(c->name), "bt") || !c->available || !c->hw_timing)
			continue;
		k = same_host(run, c->name, plen, "kvm");
		if (k >= 0 && run->col[k].available && run->col[k].hw_timing) {
			*bt = i, *kvm = k;
			return true;
		}
		if (first_bt >= 0)
			continue;
		first_bt = i;
		if (k >= 0 && !run->col[k].available)
			snprintf(why, n, "no hardware KVM on this host");
		else if (same_host(run, c->name, plen, "kvm-nested") >= 0)
			snprintf(why, n, "only kvm-nested, which is not hardware timing");
		else
			snprintf(why, n, "no kvm column");
	}
	return false;
}

void nb_finding(const struct nb_run *run, const struct nb_paper *pp, int b, char *buf, size_t n)
{
	const char *pf = pp->finding[b];
	struct nb_summary sb, sk;
	char why[96];
	int bt, kvm;

	if (!pf[0]) {
		snprintf(buf, n, "-");
		return;
	}
	if (!pair(run, &bt, &kvm, why, sizeof(why))) {
		snprintf(buf, n, "%s faster: not judged here: %s", pf, why);
	} else if (!nb_summarize(&run->col[bt].cell[b], &sb) ||
	           !nb_summarize(&run->col[kvm].cell[b], &sk)) {
		snprintf(buf, n, "%s faster: not judged here: no data", pf);
	} else if (sb.n < NB_FINDING_MIN_SAMPLES || sk.n < NB_FINDING_MIN_SAMPLES) {
		snprintf(buf, n, "%s faster: not judged here: fewer than %d samples", pf,
		         NB_FINDING_MIN_SAMPLES);
	} else if (sb.below_res && sk.below_res) {
		snprintf(buf, n, "%s faster: not judged here: both below resolution", pf);
	} else {
		bool bt_wins = sb.max < sk.min, hw_wins = sk.max < sb.min;
		bool close =
		    fabs(sb.median - sk.median) <= 0.1 * fmax(fabs(sb.median), fabs(sk.median));

		if (!strcmp(pf, "equal") && !bt_wins && !hw_wins && close)
			snprintf(buf, n, "equal: holds");
		else if (!strcmp(pf, "equal") && (bt_wins || hw_wins) && !close)
			snprintf(buf, n, "equal: does not hold (%s faster)", bt_wins ? "bt" : "hw");
		else if (!bt_wins && !hw_wins)
			snprintf(buf, n, "%s faster: not judged here: ranges overlap", pf);
		else if (!strcmp(pf, "equal"))
			snprintf(buf, n, "equal: not judged here: within 10%% yet separate");
		else
			snprintf(buf, n, "%s faster: %s", pf,
			         (bt_wins && !strcmp(pf, "bt")) || (hw_wins && !strcmp(pf, "hw"))
			             ? "holds"
			             : "does not hold");
	}
}

void nb_finding_basis(const struct nb_run *run, char *buf, size_t n)
{
	char why[96];
	int bt, kvm;

	if (pair(run, &bt, &kvm, why, sizeof(why)))
		snprintf(buf, n,
		         "findings judged from %s against %s (both hardware timing, one host): a "
		         "verdict only "
		         "when their min-max ranges of >= %d samples do not overlap",
		         run->col[bt].name, run->col[kvm].name, NB_FINDING_MIN_SAMPLES);
	else
		snprintf(buf, n, "findings not judged: %s", why);
}
