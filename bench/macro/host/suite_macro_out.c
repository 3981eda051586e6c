/*
 * suite_macro_out.c: the macro suite's output: a table (markdown, or CSV) with the
 * paper's forkwait figures beside ours, whether the engines' results agree, bt's
 * counters; and the JSON ("tandem_macro": 1) with every sample.
 */
#include "suite_macro.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Cycles per fork of the paper's forkwait: seconds / 40,000 forks at 3.8 GHz. */
static double paper_cycles(double secs)
{
	return secs / PAPER_FORKS * PAPER_GHZ * 1e9;
}

static const struct macro_col *native_col(const struct macro_run *run)
{
	for (int i = 0; i < run->ncols; i++)
		if (!strcmp(run->col[i].name, "native") && run->col[i].available)
			return &run->col[i];
	return NULL;
}

/* Decimals for a ratio: 0.095x, 2.41x, 15.3x, 240x. */
static int ratio_digits(double r)
{
	return r >= 100 ? 0 : r >= 10 ? 1 : r >= 0.1 ? 2 : 3;
}

/* One cell: "median (min–max)", noisy, microseconds, ratio to native; or why not. */
static void cell_text(const struct macro_run *run, const struct macro_col *col, int w, char *buf,
                      size_t len, bool md)
{
	const struct macro_col *nat = native_col(run);
	const struct macro_cell *c = &col->cell[w];
	struct nb_summary s, ns;
	const char *br = md ? "<br>" : "; ";
	size_t n;

	if (!col->available) {
		snprintf(buf, len, "%s: %s", col->failed ? "failed" : "unavailable", col->reason);
		return;
	}
	if (!nb_summarize(&c->c, &s)) {
		snprintf(buf, len, "%s", c->c.note[0] ? c->c.note : "not run");
		return;
	}
	n = (size_t)snprintf(buf, len, "%.0f (%.0f–%.0f)%s%s%.1f µs", s.median, s.min, s.max, br,
	                     s.noisy ? "noisy, " : "",
	                     s.median / (double)run->info.host.tsc_khz * 1000.0);
	if (nat && nat != col && nb_summarize(&nat->cell[w].c, &ns) && ns.median > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", %.*fx",
		                      ratio_digits(s.median / ns.median), s.median / ns.median);
	if (nat == col && n < len)
		snprintf(buf + n, len - n, "%s%s", br, c->c.note);
}

/* Do the engines' result lines agree? "yes (k engines)", "NO: ..." or "-". */
static void agree_text(const struct macro_run *run, int w, char *buf, size_t len)
{
	const char *ref = NULL, *refname = NULL;
	int k = 0;

	snprintf(buf, len, "-");
	for (int i = 0; i < run->ncols; i++) {
		const struct macro_col *col = &run->col[i];

		if (!col->available || !col->cell[w].result[0])
			continue;
		if (!ref) {
			ref = col->cell[w].result, refname = col->name;
		} else if (strcmp(ref, col->cell[w].result)) {
			snprintf(buf, len, "NO: %s says '%s', %s '%s'", refname, ref, col->name,
			         col->cell[w].result);
			return;
		}
		k++;
	}
	if (ref)
		snprintf(buf, len, "yes, %d engine%s: %s", k, k > 1 ? "s" : "", ref);
}

/* The value of key in a "key=value ..." stats string, 0 when absent. */
static double stat_value(const char *stats, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = stats; (p = strstr(p, key)); p += kl)
		if ((p == stats || p[-1] == ' ') && p[kl] == '=')
			return strtod(p + kl + 1, NULL);
	return 0;
}

static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void macro_report(FILE *f, const struct macro_run *run, int format)
{
	const struct nb_host *h = &run->info.host;
	bool md = format != NB_FMT_CSV;
	char buf[512];

	if (md) {
		fprintf(f, "- host %s (%s, TSC %" PRIu64 " kHz, %s, KVM %s), %s\n", h->hostname,
		        h->cpu, h->tsc_khz, h->kernel, h->kvm, h->date);
		fprintf(f, "- guest %s (%s), tandem %s; each workload %d timed repeats\n",
		        run->info.guest, run->info.guest_id, run->info.tandem, run->repeat);
		fprintf(
		    f,
		    "- cycles per operation (rdtsc in the guest; in the host process for native): "
		    "median (min–max) of the repeats, µs at this TSC rate, ratio to native; paper: "
		    "Adams & Agesen's forkwait, %.0f forks on a %.1f GHz Pentium 4, per fork\n\n",
		    PAPER_FORKS, PAPER_GHZ);
		fprintf(f, "| workload | n |");
		for (int i = 0; i < run->ncols; i++)
			fprintf(f, " %s |", run->col[i].name);
		fprintf(f, " paper native | paper BT | paper VT-x | results (identical on every "
		           "engine?) |\n|---|---:|");
		for (int i = 0; i < run->ncols; i++)
			fprintf(f, "---:|");
		fprintf(f, "---:|---:|---:|---|\n");
	} else {
		fprintf(f, "workload,n");
		for (int i = 0; i < run->ncols; i++)
			fprintf(f, ",%s", run->col[i].name);
		fprintf(f, ",paper_native,paper_bt,paper_hw,results\n");
	}
	for (int w = 0; w < MW_NR; w++) {
		if (!run->want[w])
			continue;
		fprintf(f, md ? "| %s | %u |" : "%s,%u", macro_names[w], run->n[w]);
		for (int i = 0; i < run->ncols; i++) {
			cell_text(run, &run->col[i], w, buf, sizeof(buf), md);
			if (md)
				fprintf(f, " %s |", buf);
			else
				fputc(',', f), csv_str(f, buf);
		}
		if (w == MW_forkwait) {
			double pn = paper_cycles(PAPER_FORKWAIT_NATIVE_S),
			       pb = paper_cycles(PAPER_FORKWAIT_BT_S),
			       ph = paper_cycles(PAPER_FORKWAIT_HW_S);

			fprintf(
			    f,
			    md ? " %.0f (%.0f µs) | %.0f (%.0f µs, %.2fx) | %.0f (%.0f µs, %.2fx) |"
			       : ",%.0f (%.0f us),%.0f (%.0f us; %.2fx),%.0f (%.0f us; %.2fx)",
			    pn, pn / PAPER_GHZ / 1e3, pb, pb / PAPER_GHZ / 1e3, pb / pn, ph,
			    ph / PAPER_GHZ / 1e3, ph / pn);
		} else {
			fprintf(f, md ? " - | - | - |" : ",,,");
		}
		agree_text(run, w, buf, sizeof(buf));
		if (md)
			fprintf(f, " %s |\n", buf);
		else
			fputc(',', f), csv_str(f, buf), fputc('\n', f);
	}
	if (!md)
		return;
	fprintf(f, "\n");
	for (int i = 0; i < run->ncols; i++) {
		const struct macro_col *col = &run->col[i];

		fprintf(f, "- %s: %s; CPUs %s, load %.2f -> %.2f\n", col->name, col->label,
		        col->cpus[0] ? col->cpus : "?", col->load_before, col->load_after);
		for (int w = 0; w < MW_NR; w++) {
			const struct macro_cell *c = &col->cell[w];

			if (!run->want[w] || !c->stats[0])
				continue;
			fprintf(f,
			        "    %s --stats (the whole run: boot and %d repeats, %u context "
			        "switches timed): %s\n",
			        macro_names[w], run->repeat, c->switches, c->stats);
			if (c->switches)
				fprintf(f,
				        "      per timed context switch (boot included, so an "
				        "upper bound): "
				        "%.1f translations, %.1f hidden faults, %.2f TC flushes\n",
				        stat_value(c->stats, "blocks") / c->switches,
				        stat_value(c->stats, "hidden_faults") / c->switches,
				        stat_value(c->stats, "tc_flushes") / c->switches);
		}
	}
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.17g", v);
	else
		fputs("null", f);
}

void macro_write_json(FILE *f, const struct macro_run *run)
{
	const struct nb_host *h = &run->info.host;

	fprintf(f, "{\n  \"tandem_macro\": 1,\n  \"host\": {\"cpu\": ");
	json_str(f, h->cpu);
	fprintf(f, ", \"tsc_khz\": %" PRIu64 ", \"kernel\": ", h->tsc_khz);
	json_str(f, h->kernel);
	fprintf(f, ", \"kvm\": ");
	json_str(f, h->kvm);
	fprintf(f, ", \"caps\": ");
	json_str(f, h->caps);
	fprintf(f, ", \"hostname\": ");
	json_str(f, h->hostname);
	fprintf(f, ", \"date\": ");
	json_str(f, h->date);
	fprintf(f, "},\n  \"guest\": ");
	json_str(f, run->info.guest);
	fprintf(f, ", \"guest_id\": ");
	json_str(f, run->info.guest_id);
	fprintf(f, ", \"tandem\": ");
	json_str(f, run->info.tandem);
	fprintf(f,
	        ", \"repeat\": %d,\n  \"paper\": {\"forkwait\": {\"forks\": %.0f, \"ghz\": %.1f, "
	        "\"native_s\": %.1f, \"bt_s\": %.1f, \"hw_s\": %.1f}},\n  \"columns\": [",
	        run->repeat, PAPER_FORKS, PAPER_GHZ, PAPER_FORKWAIT_NATIVE_S, PAPER_FORKWAIT_BT_S,
	        PAPER_FORKWAIT_HW_S);
	for (int i = 0; i < run->ncols; i++) {
		const struct macro_col *col = &run->col[i];
		int first = 1;

		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, col->name);
		fprintf(f, ", \"label\": ");
		json_str(f, col->label);
		fprintf(f, ", \"available\": %s, \"failed\": %s, \"reason\": ",
		        col->available ? "true" : "false", col->failed ? "true" : "false");
		json_str(f, col->reason);
		fprintf(f, ", \"cpus\": ");
		json_str(f, col->cpus);
		fprintf(f, ", \"load_before\": ");
		json_num(f, col->load_before);
		fprintf(f, ", \"load_after\": ");
		json_num(f, col->load_after);
		fprintf(f, ",\n     \"cells\": {");
		for (int w = 0; w < MW_NR; w++) {
			const struct macro_cell *c = &col->cell[w];
			struct nb_summary s;

			if (!run->want[w])
				continue;
			fprintf(f, "%s\n      ", first ? "" : ",");
			first = 0;
			json_str(f, macro_names[w]);
			fprintf(f,
			        ": {\"present\": %s, \"n\": %u, \"ops\": %u, \"switches\": %u, "
			        "\"median\": ",
			        c->c.present ? "true" : "false", run->n[w], c->ops, c->switches);
			json_num(f, nb_summarize(&c->c, &s) ? s.median : NAN);
			fprintf(f, ", \"note\": ");
			json_str(f, c->c.note);
			fprintf(f, ", \"result\": ");
			json_str(f, c->result);
			fprintf(f, ", \"stats\": ");
			json_str(f, c->stats);
			fprintf(f, ", \"samples\": [");
			for (int k = 0; k < c->c.nsamples; k++) {
				fprintf(f, "%s", k ? ", " : "");
				json_num(f, c->c.samples[k]);
			}
			fprintf(f, "]}");
		}
		fprintf(f, "}}");
	}
	fprintf(f, "\n  ]\n}\n");
}
