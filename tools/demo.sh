#!/usr/bin/env bash
# demo.sh - the default demo of `make run`: boots the mode-switch test ROM on
# smmvm (real -> protected -> long -> compatibility -> real mode, paging,
# far transfers) with the debug console on stdout, then runs the same ROM on
# QEMU TCG, when installed, and compares the two outputs byte for byte.
set -u
build=${1:-build}
rom=$build/rom/modes.bin
echo "== smmvm: $rom (debug console below) =="
"$build/smmvm" -machine q35 -nodefaults -display none -bios "$rom" \
    -debugcon file:"$build/demo-smmvm.txt" -device isa-debug-exit,iobase=0xf4,iosize=4
status=$?
cat "$build/demo-smmvm.txt"
echo "== smmvm exit status $status (1 = the ROM reported success through isa-debug-exit) =="
if command -v qemu-system-x86_64 >/dev/null; then
    timeout 60 qemu-system-x86_64 -machine q35 -accel tcg -nodefaults -display none -bios "$rom" \
        -debugcon file:"$build/demo-qemu.txt" -device isa-debug-exit,iobase=0xf4,iosize=4
    if cmp -s "$build/demo-smmvm.txt" "$build/demo-qemu.txt"; then
        echo "== QEMU TCG printed exactly the same $(wc -l < "$build/demo-qemu.txt") lines =="
    else
        echo "== QEMU TCG differs: diff $build/demo-smmvm.txt $build/demo-qemu.txt =="
    fi
fi
