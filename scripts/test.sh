#!/usr/bin/env bash
# test.sh: set up, build, and run every test (what .ci/run calls). Stages:
#   host    every test, with this host's capabilities as probed (`tandem info`)
#   masked  the tests again with TANDEM_HOST_MASK=all (no user FSGSBASE, no IA-32,
#           no KVM), so one machine exercises the paths of hosts that lack them; less
#           the long fuzz runs (bt.fuzz-2000, qemu.fuzz), whose paths no mask changes, and
#           bench.linux (two Linux boots; it masks ia32 for its native row itself)
#   nested  where this host's KVM cannot run the guests (no /dev/kvm, or a nested
#           kvm_pvm), the kvm tests inside a QEMU+SVM VM (scripts/nested-kvm.sh;
#           tests/nested_suite.sh: a time budget calibrated in the VM, one reported
#           retry); skipped (77) when the VM cannot be prepared or TANDEM_HOST_MASK has nested
# Ends with one line "test.sh: N passed, N failed, N skipped" over all stages.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${TANDEM_BUILD:-$top/build}
"$top/scripts/setup.sh" || exit 1

status=0 passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
count() { # add the results of the ctest output in $log to the totals
	local p f s
	p=$(grep -cE 'Test +#[0-9]+: .* +Passed' "$log")
	s=$(grep -cE '\*\*\*Skipped' "$log")
	# After a nested retry, only the second try's failures count (its passes add up).
	f=$(awk '/^== nested: first try failed/ { n = 0; next }
		/\*\*\*(Failed|Timeout|Exception|Not Run)/ { n++ } END { print n + 0 }' "$log")
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

echo "== host capabilities (tandem info)"
"$build/tandem" info | grep -E '^(host\.(fsgsbase|ia32|kvm|nested|qemu-user|mask)|engine\.)'

echo "== stage host: every test, capabilities as probed"
ctest --test-dir "$build" --output-on-failure -j2 2>&1 | tee "$log" || status=1
count

echo "== stage masked: the tests with TANDEM_HOST_MASK=all (no FSGSBASE, no IA-32, no KVM)"
TANDEM_HOST_MASK=all ctest --test-dir "$build" --output-on-failure -j2 -E 'fuzz-2000|qemu\.fuzz|bench\.linux' \
	2>&1 | tee "$log" || status=1
count

if "$build/tandem" info | grep -q '^engine.kvm .*runs i386 paged guests'; then
	echo "== stage nested: not needed, the host's KVM runs paged i386 guests (the kvm tests ran above)"
else
	why=$("$build/tandem" info | sed -n 's/^engine.kvm *unavailable: //p')
	echo "== stage nested: host KVM cannot run the guests ($why): the kvm tests in a QEMU+SVM VM"
	"$top/scripts/nested-kvm.sh" --timeout 2400 --cwd "$top" -- \
		"$top/tests/nested_suite.sh" "$build" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 77 ]; then
		echo "== stage nested: skipped ($(grep -m1 '^nested-kvm:' "$log" || echo 'VM unavailable'))"
	else
		[ "$rc" = 0 ] || status=1
		count
		grep -q 'RETRY USED' "$log" && echo "== stage nested: passed only with a retry (see above)"
	fi
fi
echo "test.sh: $passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ] || status=1
exit $status
