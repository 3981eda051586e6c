#!/bin/sh
# nested_suite.sh: the kvm-labelled tests, run inside scripts/nested-kvm.sh's VM
# (called by scripts/test.sh). QEMU's TCG emulation of SVM has rare glitches of
# its own (a spurious #DB, a stall), so a test that fails gets one more try; a
# retry that was needed is reported by name, and a real bug fails twice.
# The difftest cases fit a time budget measured in the VM (DT_BUDGET, run.sh).
#
# usage: nested_suite.sh BUILD_DIR      Exit: 0 passed (maybe on retry); 1 failed.
build=${1:?usage: nested_suite.sh BUILD_DIR}
export DT_BUDGET=${DT_BUDGET:-45}
ctest --test-dir "$build" --output-on-failure -L kvm && exit 0
failed=$(cut -d: -f2 "$build/Testing/Temporary/LastTestsFailed.log" 2>/dev/null | tr '\n' ' ')
echo "== nested: first try failed: ${failed:-?}; retrying those once"
ctest --test-dir "$build" --output-on-failure --rerun-failed || exit 1
echo "== nested: RETRY USED: ${failed:-?}passed on the second try (a TCG glitch, or a flaky test: look at the first try above)"
exit 0
