#!/usr/bin/env bash
# run.sh - builds the CPU hot-plug ROMs and runs the suite (run.py) on smmvm and, when it is
# installed, on QEMU (the reference). Extra arguments go to run.py (e.g. --only hp_plug).
#
#   tests/hotplug/run.sh [run.py options...]
#
# Environment: SMMVM (default <repo>/build/smmvm), QEMU (default qemu-system-x86_64),
# O (ROM build directory, default <repo>/build/hotplug).
# Exits non-zero if a ROM fails on either emulator or smmvm is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smmvm=${SMMVM:-$repo/build/smmvm}
qemu=${QEMU:-qemu-system-x86_64}
out=${O:-$repo/build/hotplug}

mkdir -p "$out"
make -s -C "$here" O="$(cd "$out" && pwd)" || { echo "run.sh: ROM build failed"; exit 1; }

rc=0
echo "== smmvm ($smmvm)"
if [ -x "$smmvm" ]; then
    "$here/run.py" --emulator "$smmvm" --rom-dir "$out" "$@" || rc=1
else
    echo "run.sh: $smmvm not built (make)"
    rc=1
fi
if command -v "$qemu" >/dev/null 2>&1; then
    echo "== QEMU ($qemu, reference)"
    "$here/run.py" --emulator "$qemu" --rom-dir "$out" "$@" || rc=1
else
    echo "== QEMU: $qemu not installed, reference not re-checked"
fi
exit $rc
