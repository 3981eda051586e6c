#!/usr/bin/env bash
# check-format.sh: every tracked C file and header is as .clang-format formats it (the
# tree's one style). Prints each file that drifts and `clang-format -i FILE` fixes it.
# usage: scripts/check-format.sh [--fix]
# Exit: 0 all formatted (or fixed with --fix); 1 some file drifts; 77 no clang-format 14
# here (another major version formats differently; the style is pinned to Debian 12's).
set -u
cd "$(dirname "$0")/.."
want=14
cf=$(command -v clang-format-$want || command -v clang-format) ||
	{ echo "SKIP: clang-format not installed (scripts/setup.sh installs it)"; exit 77; }
major=$("$cf" --version | sed -n 's/.*version \([0-9]*\).*/\1/p')
[ "$major" = "$want" ] ||
	{ echo "SKIP: $cf is version $major; the style is pinned to clang-format $want"; exit 77; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null) ||
	{ echo "SKIP: not a git checkout: no list of tracked files"; exit 77; }
if [ "${1:-}" = --fix ]; then
	# shellcheck disable=SC2086
	"$cf" -i $files
	exit 0
fi
bad=0
for f in $files; do
	if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "drift: $f (fix: $cf -i $f)"
		bad=$((bad + 1))
	fi
done
echo "check-format.sh: $(wc -w <<<"$files") files, $bad not formatted by .clang-format"
[ $bad = 0 ]
