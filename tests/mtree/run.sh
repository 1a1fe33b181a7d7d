#!/usr/bin/env bash
# tests/mtree/run.sh - compares `info mtree -D` / `info mtree -f` of smmvm with QEMU 7.2's
# for the same register state (platform.md §2.10, conformance tests 11 and 26).
#
#   tests/mtree/run.sh [SMMVM] [QEMU]    (defaults: build/smmvm, qemu-system-x86_64)
#
# Each case boots a ROM from build/rom on both emulators with the HMP monitor on a unix
# socket and no isa-debug-exit, so the ROM stops in its final HLT loop with the registers
# programmed; tests/mtree/hmp.py then runs the commands, tests/mtree/filter.py keeps the
# lines §2.10 names (see there for what is compared and the normalised difference) and the
# two are diffed. Cases: power-on; the firmware lock sequence (q35_mtree.S); the same with
# -global mch.smbase-smram=off. Prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smmvm=${1:-$repo/build/smmvm}
qemu=${2:-qemu-system-x86_64}
rom_dir=${ROM_DIR:-$repo/build/rom}

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "mtree: $qemu not found; skipped"
    echo "0 passed, 0 failed"
    exit 0
fi
for r in q35_poweron q35_mtree; do
    [ -f "$rom_dir/$r.bin" ] || make -s -C "$repo/tests/rom" O="$rom_dir" >&2
done

tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# capture LABEL EMULATOR ROM [flags...]
capture() {
    local label=$1 emu=$2 rom=$3
    shift 3
    local sock=$tmp/$label.sock dbg=$tmp/$label.dbg
    "$emu" -machine q35,smm=on -accel tcg -nodefaults -display none -m 128 \
        -bios "$rom_dir/$rom.bin" -debugcon "file:$dbg" \
        -monitor "unix:$sock,server=on,wait=off" "$@" </dev/null >"$tmp/$label.stdout" 2>&1 &
    local pid=$!
    pids+=("$pid")
    timeout 60 python3 "$here/hmp.py" "$sock" "$dbg" "$tmp/$label.raw" "info mtree -D" "info mtree -f" ||
        { echo "mtree: $label: no monitor answer"; cat "$tmp/$label.stdout"; }
    # `quit` was sent; make sure the emulator is gone before the next case
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    python3 "$here/filter.py" "$tmp/$label.raw" >"$tmp/$label.txt" 2>/dev/null || : >"$tmp/$label.txt"
}

pass=0
fail=0
# case NAME ROM [flags...]
case_() {
    local name=$1 rom=$2
    shift 2
    capture "$name.smmvm" "$smmvm" "$rom" "$@"
    capture "$name.qemu" "$qemu" "$rom" "$@"
    if [ -s "$tmp/$name.qemu.txt" ] && cmp -s "$tmp/$name.qemu.txt" "$tmp/$name.smmvm.txt"; then
        echo "PASS $name ($(wc -l <"$tmp/$name.qemu.txt") lines compared)"
        pass=$((pass + 1))
    else
        echo "FAIL $name"
        diff -u "$tmp/$name.qemu.txt" "$tmp/$name.smmvm.txt" --label "qemu" --label "smmvm" | head -60
        fail=$((fail + 1))
    fi
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP" && cp "$tmp/$name".*.txt "$tmp/$name".*.raw "$KEEP"/
    fi
}

case_ poweron q35_poweron
case_ locked q35_mtree
case_ locked-smbase-off q35_mtree -global mch.smbase-smram=off
# The acceptance line itself: after locking, smbase-blackhole covers the window in the
# normal flat view and smbase-window is enabled in the tree of the smram container.
if grep -qx 'flat memory: 0000000000030000-000000000004ffff (prio 1, i/o): smbase-blackhole' "$tmp/locked.smmvm.txt" 2>/dev/null &&
   grep -qx 'tree smram: 0000000000030000-000000000004ffff (prio 0, ram): alias smbase-window @pc.ram 0000000000030000-000000000004ffff' "$tmp/locked.smmvm.txt"; then
    echo "PASS locked-window-lines"
    pass=$((pass + 1))
else
    echo "FAIL locked-window-lines"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
