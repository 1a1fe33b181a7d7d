#!/bin/sh
# tests/qmp/run.sh - the QMP CPU hot-plug acceptance suite (issue 6).
# Runs tests/qmp/run.py against build/smmvm (or $SMMVM), and against QEMU 7.2, the reference,
# when qemu-system-x86_64 is installed. Extra arguments go to run.py (e.g. --only hotplug).
# Exit status: non-zero if any run failed.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
smmvm=${SMMVM:-$root/build/smmvm}
status=0
echo "== tests/qmp on $smmvm"
python3 "$here/run.py" --emulator "$smmvm" --accel '' "$@" || status=1
if command -v qemu-system-x86_64 >/dev/null 2>&1; then
    echo "== tests/qmp on qemu-system-x86_64 (reference)"
    python3 "$here/run.py" --emulator qemu-system-x86_64 --accel tcg "$@" || status=1
else
    echo "== tests/qmp: qemu-system-x86_64 not installed, reference run skipped"
fi
exit $status
