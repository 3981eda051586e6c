#!/usr/bin/env bash
# manifest_readme.sh: the README quotes each benchmark suite's manifest
# (bench/<suite>/manifest.h) as `tandem bench --list --suite S` prints it, between
# "<!-- tandem bench --list --suite S -->" and "<!-- end of rows -->". Fails (1) when a
# quote differs or is missing; --update rewrites the quotes in place.
# usage: manifest_readme.sh TANDEM README [--update]
set -u
tandem=$1 readme=$2 update=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
for s in nano macro linux compute; do
	# the rows: the list's text before its engines
	"$tandem" bench --list --suite "$s" 2>/dev/null | sed '/^engines /,$d' | sed '${/^$/d}' >"$tmp/$s.want" ||
		{ echo "FAIL: tandem bench --list --suite $s"; fails=$((fails + 1)); continue; }
	begin="<!-- tandem bench --list --suite $s -->"
	if ! grep -qxF -- "$begin" "$readme"; then
		echo "FAIL: $readme has no '$begin' block"
		fails=$((fails + 1))
		continue
	fi
	awk -v b="$begin" '$0 == b {on = 1; next} on && /^<!-- end of rows -->$/ {exit} on' "$readme" >"$tmp/$s.have"
	if [ "$update" = --update ]; then
		awk -v b="$begin" -v f="$tmp/$s.want" '
			$0 == b {print; while ((getline l < f) > 0) print l; skip = 1; next}
			skip && /^<!-- end of rows -->$/ {skip = 0}
			!skip' "$readme" >"$tmp/readme" && cat "$tmp/readme" >"$readme"
	elif ! diff -u "$tmp/$s.have" "$tmp/$s.want"; then
		echo "FAIL: $readme's rows of --suite $s differ from the manifest (run: $0 $tandem $readme --update)"
		fails=$((fails + 1))
	fi
done
[ $fails = 0 ] || exit 1
echo "PASS: the README quotes the manifests of nano, macro, linux, compute"
