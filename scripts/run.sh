#!/usr/bin/env bash
# run.sh: the main job. Set up, build, describe the host, then run the
# nano-benchmark matrix on every engine this host can run (the KVM engine
# inside a nested QEMU+SVM VM when the host's own KVM cannot run 32-bit paged
# guests, labelled as not hardware timing), next to the host analogs and
# qemu-system-i386, and print the table. Results also go to build/results.json
# and a plot to build/fig4.svg.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}
"$top/scripts/setup.sh" || exit 1
tandem=$build/tandem

echo "== tandem info"
"$tandem" info
echo "== tandem bench (progress on stderr)"
rm -f "$build/results.json"
"$tandem" bench --format json --out "$build/results.json" "$@"
st=$? # 18/20: some or every column failed; what was measured is still in the file
[ -s "$build/results.json" ] || exit $st
"$tandem" report "$build/results.json" --plot "$build/fig4.svg" || exit $?
exit $st
