#!/usr/bin/env bash
# smmvm_boot.sh - boots smmfw with its test payload on smmvm, in both SMM
# semantics (hardware default and -machine q35,x-tcg-smm=on) and with 1, 2, 4
# and 8 CPUs (and a 2-socket x 3-core topology), and checks the firmware.md §12 lines: negotiation, one
# "relocated" line per CPU into its own TSEG tile, all three locks, and the
# payload's "ready" with the window reading all-ones from the OS.
# The QMP-driven hot-plug scenarios run on smmvm from tests/fw/smmvm_scenarios.sh.
# Prints "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
smmvm=${1:-$repo/build/smmvm}
fw=$repo/build/firmware/smmfw.bin
payload=$repo/build/firmware/payload.elf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

boot() { # boot MACHINE CPUS LOG: runs until the payload says ready (or 60 s)
    "$smmvm" -machine "$1" -nodefaults -display none -m 512 -smp "$2" -bios "$fw" \
        -fw_cfg name=opt/org.smmvm/payload,file="$payload" \
        -chardev file,id=dbg,path="$3" -device isa-debugcon,iobase=0x402,chardev=dbg \
        -device isa-debug-exit,iobase=0xf4,iosize=4 >"$3.out" 2>&1 &
    local pid=$! t=0
    while [ $t -lt 600 ]; do
        grep -q '^payload: ready' "$3" 2>/dev/null && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
        t=$((t + 1))
    done
    kill $pid 2>/dev/null
    wait $pid 2>/dev/null
}

check() { # check NAME LOG CPUS
    local why=""
    grep -q '^smmfw: negotiate .* ok=1 negotiated=0x7$' "$2" || why="$why negotiation;"
    [ "$(grep -c '^smmfw: relocated cpu ' "$2")" = "$3" ] || why="$why relocations;"
    [ "$(grep '^smmfw: relocated cpu ' "$2" | sed 's/.*smbase=\([^ ]*\).*/\1/' | sort -u | wc -l)" = "$3" ] ||
        why="$why smbase-not-distinct;"
    grep -q '^smmfw: locked tseg=1 window=1 d_lck=1$' "$2" || why="$why locks;"
    grep -q '^payload: window read8=0xff' "$2" || why="$why window-visible;"
    grep -q '^payload: ready' "$2" || why="$why no-ready;"
    grep -q '^smmfw: fatal' "$2" && why="$why fatal;"
    if [ -z "$why" ]; then
        echo "PASS $1"
        passed=$((passed + 1))
    else
        echo "FAIL $1:$why"
        sed 's/^/    /' "$2" | tail -15
        failed=$((failed + 1))
    fi
}

for machine in q35 q35,x-tcg-smm=on; do
    for cpus in 1 2 4 8; do
        name="smmfw-boot $machine -smp $cpus"
        log=$tmp/boot-$cpus-${machine//[,=]/_}.log
        boot "$machine" "$cpus" "$log"
        check "$name" "$log" "$cpus"
    done
done
# A topology whose APIC IDs are not contiguous (2 sockets x 3 cores: 0 1 2 4 5 6).
boot q35 6,sockets=2,cores=3 "$tmp/topo.log"
check "smmfw-boot q35 -smp 6,sockets=2,cores=3" "$tmp/topo.log" 6
if grep -q '^smmfw: cpu slot=3 apic=4 present=1$' "$tmp/topo.log"; then
    echo "PASS smmfw-boot topology apic ids"
    passed=$((passed + 1))
else
    echo "FAIL smmfw-boot topology apic ids: slot 3 is not APIC ID 4"
    failed=$((failed + 1))
fi
# Determinism: the same flags give a byte-identical debug console.
boot q35 4 "$tmp/det1.log"
boot q35 4 "$tmp/det2.log"
if cmp -s "$tmp/det1.log" "$tmp/det2.log"; then
    echo "PASS smmfw-boot deterministic"
    passed=$((passed + 1))
else
    echo "FAIL smmfw-boot deterministic: two runs differ"
    diff "$tmp/det1.log" "$tmp/det2.log" | head
    failed=$((failed + 1))
fi
echo "smmfw on smmvm: $passed passed, $failed failed"
[ $failed -eq 0 ]
