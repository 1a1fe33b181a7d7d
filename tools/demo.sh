#!/usr/bin/env bash
# demo.sh - the default demo of `make run`: smmfw boots on smmvm with four CPUs
# and hardware SMM semantics: it negotiates the SMI features over fw_cfg,
# relocates every CPU's SMBASE into its own TSEG tile (the APs hold their SMI
# in wait-for-SIPI and take it as INIT-SIPI-SIPI starts them), locks the
# default-SMBASE window, TSEG and SMI_LOCK, and hands over to its test
# payload, which checks from the OS side that the window reads all-ones.
# Then the monitor hot-plugs a fifth CPU (smmfw relocates it from inside SMRAM
# on the hot-plug SMI), unplugs it again (smmfw ejects it), and prints the
# SMRAM state and the flattened memory map.
set -u
build=${1:-build}
log=$build/demo-debugcon.txt
echo "== smmvm -smp 4,maxcpus=8 -bios $build/firmware/smmfw.bin (debug console on port 0x402) =="
{
    # Wait for the payload, then ask the monitor; "quit" ends the run.
    for _ in $(seq 1 300); do
        grep -q '^payload: ready' "$log" 2>/dev/null && break
        sleep 0.1
    done
    echo "device_add qemu64-x86_64-cpu,socket-id=0,core-id=4,thread-id=0,id=cpu4"
    for _ in $(seq 1 300); do
        grep -q '^payload: cpu online apic=4' "$log" 2>/dev/null && break
        sleep 0.1
    done
    echo "device_del cpu4"
    for _ in $(seq 1 300); do
        grep -q '^smmfw: ejected cpu apic=4' "$log" 2>/dev/null && break
        sleep 0.1
    done
    echo "info smram"
    echo "info mtree -f"
    echo "quit"
} | "$build/smmvm" -machine q35 -nodefaults -display none -m 512 -smp 4,maxcpus=8 \
    -bios "$build/firmware/smmfw.bin" \
    -fw_cfg name=opt/org.smmvm/payload,file="$build/firmware/payload.elf" \
    -chardev file,id=dbg,path="$log" -device isa-debugcon,iobase=0x402,chardev=dbg \
    -monitor stdio > "$build/demo-monitor.txt" 2>&1
cat "$log"
echo
echo "== monitor: info smram, then info mtree -f (normal view) =="
sed -n '2,/^FlatView #1/p' "$build/demo-monitor.txt" | sed '$d' | sed 's/^(smmvm) //'
