/* manifest_list.h: the benchmark suites' manifests (bench/<suite>/manifest.h) as text. */
#ifndef TANDEM_MANIFEST_LIST_H
#define TANDEM_MANIFEST_LIST_H

#include <stdio.h>

/*
 * Print suite's rows ("nano", "macro", "linux", "compute") to f: a heading line
 * naming the manifest and the unit, a blank line, then a markdown table (row, where
 * the paper reports it, the host analog or a sample's scale, what one operation is),
 * one line per manifest row in its order. 0, or -1 for an unknown suite (nothing
 * printed).
 */
int bench_list_rows(FILE *f, const char *suite);

#endif
