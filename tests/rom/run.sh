#!/usr/bin/env bash
# run.sh - runs every test ROM on an emulator and compares its debug-console output byte for
# byte with tests/rom/expected/NAME.txt (captured on QEMU and checked against the SDM).
#
#   tests/rom/run.sh EMULATOR_BINARY [extra emulator flags...]
#   e.g. tests/rom/run.sh build/smmvm
#        tests/rom/run.sh qemu-system-x86_64        (re-checks the reference itself)
#
# Environment:
#   ROM_DIR  directory with the built NAME.bin (default: <repo>/build/rom; built with make
#            if a ROM is missing)
#   ROMS     space-separated subset of ROM names (default: every tests/rom/*.S)
#   TIMEOUT  seconds per ROM (default 30)
#   UPDATE=1 write the outputs into expected/ instead of comparing (use with QEMU only,
#            then read every changed line against the SDM)
#
# A ROM that needs extra flags has them in tests/rom/NAME.flags (one line, split at spaces;
# e.g. "-global mch.smbase-smram=off"); they are given to both emulators.
#
# A ROM where QEMU TCG's SMM semantics differ from hardware has two expectations:
# expected/NAME.txt (hardware semantics, written by hand, smmvm's default) and
# expected/NAME.tcg.txt (QEMU's output). QEMU is compared with NAME.tcg.txt only (and
# UPDATE=1 writes only that one: create it first to opt a ROM in); smmvm runs such a ROM
# twice, as is against NAME.txt and with -machine q35,x-tcg-smm=on against NAME.tcg.txt.
#
# A ROM passes when its output equals the expected file and the emulator exits with status 1
# (isa-debug-exit: (0 << 1) | 1). Prints "N passed, N failed"; exits 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

if [ $# -lt 1 ]; then
    echo "usage: $0 EMULATOR_BINARY [extra flags...]" >&2
    exit 2
fi
emu=$1
shift
if ! command -v "$emu" >/dev/null 2>&1; then
    echo "run.sh: emulator '$emu' not found or not executable" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

rom_dir=${ROM_DIR:-$repo/build/rom}
timeout_s=${TIMEOUT:-30}
if [ -n "${ROMS:-}" ]; then
    names=$ROMS
else
    names=$(cd "$here" && ls *.S | sed 's/\.S$//')
fi

need_build=0
for n in $names; do
    [ -f "$rom_dir/$n.bin" ] || need_build=1
done
if [ $need_build = 1 ]; then
    mkdir -p "$rom_dir"
    make -s -C "$here" O="$(cd "$rom_dir" && pwd)" >&2 || { echo "run.sh: ROM build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
fi

# QEMU needs -accel tcg to be the reference; smmvm takes the rest of the same spelling.
accel=()
case $(basename "$emu") in
qemu-system-*) accel=(-accel tcg) ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
is_qemu=0
[ ${#accel[@]} -gt 0 ] && is_qemu=1

# run_one NAME LABEL EXPECTED MACHINE: one run of NAME.bin with -machine MACHINE, compared
# with EXPECTED (or written there with UPDATE=1); LABEL names the run in the report.
run_one() {
    local n=$1 label=$2 exp=$3 machine=$4
    shift 4
    local bin=$rom_dir/$n.bin
    local out=$tmp/$label.txt
    : >"$out"
    rom_flags=()
    if [ -f "$here/$n.flags" ]; then
        read -r -a rom_flags <"$here/$n.flags"
    fi
    if [ ! -f "$bin" ]; then
        echo "FAIL $label: $bin missing"
        fail=$((fail + 1))
        return
    fi
    timeout "$timeout_s" "$emu" -machine "$machine" "${accel[@]}" -nodefaults -display none \
        -bios "$bin" -debugcon "file:$out" \
        -device isa-debug-exit,iobase=0xf4,iosize=4 ${rom_flags[@]+"${rom_flags[@]}"} "$@" </dev/null >"$tmp/$label.stdout" 2>"$tmp/$label.stderr"
    status=$?
    if [ "${UPDATE:-0}" = 1 ]; then
        if [ $status = 1 ] && [ "$(tail -n 1 "$out")" = done ]; then
            cp "$out" "$exp"
            echo "updated $label -> ${exp#$here/} ($(wc -l <"$exp") lines)"
        else
            echo "NOT updated $label: exit status $status, last line: $(tail -c 200 "$out" | tail -n 1)"
        fi
        return
    fi
    problem=""
    if [ $status = 124 ]; then
        problem="timed out after ${timeout_s}s"
    elif [ $status != 1 ]; then
        problem="exit status $status (expected 1)"
    fi
    if [ ! -f "$exp" ]; then
        problem="${problem:+$problem; }no expected file $exp"
    elif ! cmp -s "$exp" "$out"; then
        problem="${problem:+$problem; }output differs"
    fi
    if [ -z "$problem" ]; then
        echo "PASS $label"
        pass=$((pass + 1))
    else
        echo "FAIL $label: $problem"
        [ -f "$exp" ] && diff -u "$exp" "$out" --label "${exp#$here/}" --label "$label (actual)" | head -200
        if [ -s "$tmp/$label.stderr" ]; then
            echo "--- $label stderr:"
            head -20 "$tmp/$label.stderr"
        fi
        fail=$((fail + 1))
    fi
}

for n in $names; do
    exp=$here/expected/$n.txt
    tcg_exp=$here/expected/$n.tcg.txt
    if [ ! -f "$tcg_exp" ]; then
        run_one "$n" "$n" "$exp" q35 "$@"
    elif [ $is_qemu = 1 ]; then
        # QEMU TCG is checked against (and UPDATE=1 writes) only the .tcg.txt expectation;
        # expected/NAME.txt (hardware semantics) is written by hand.
        run_one "$n" "$n" "$tcg_exp" q35 "$@"
    else
        run_one "$n" "$n" "$exp" q35 "$@"
        run_one "$n" "$n.x-tcg-smm" "$tcg_exp" q35,x-tcg-smm=on "$@"
    fi
done

[ "${UPDATE:-0}" = 1 ] && exit 0
echo "$pass passed, $fail failed"
[ $fail = 0 ]
