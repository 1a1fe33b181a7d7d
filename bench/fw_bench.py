#!/usr/bin/env python3
"""fw_bench.py - smmfw figures for `make bench` (issue 7): boot time to the payload and
CPU hot-plug latency, on smmvm and on QEMU 7.2 TCG in the same run.

For each -smp N (maxcpus 8) it boots smmfw with the test payload and reports the wall time
from process start to the payload's "payload: ready" line; then it hot-plugs one CPU with
QMP device_add and reports the wall time until "payload: cpu online apic=N ok=1". On smmvm it
also reports virtual instructions (HMP `info clock` through human-monitor-command, read when
the line has appeared, so a few instructions of the idle payload may be included). Figures
only: nothing here passes or fails on time. Uses tests/fw/run.py's QMP client.

    bench/fw_bench.py [--smmvm build/smmvm] [--qemu qemu-system-x86_64] [--runs 3]
"""
import argparse
import importlib.util
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
spec = importlib.util.spec_from_file_location("fwrun", os.path.join(ROOT, "tests/fw/run.py"))
fwrun = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fwrun)


class Opts:
    def __init__(self, emulator, accel):
        self.emulator = emulator
        self.accel = accel
        self.machine = "q35,smm=on"
        self.bios = os.path.join(ROOT, "build/firmware/smmfw.bin")
        self.payload = os.path.join(ROOT, "build/firmware/payload.elf")
        self.start_paused = False
        self.extra = ""
        self.timeout = 60.0


def instructions(vm):
    status, text = vm.qmp("human-monitor-command", **{"command-line": "info clock"})
    m = re.search(r"instructions retired by present CPUs: (\d+)", text if status == "ok" else "")
    return int(m.group(1)) if m else None


def one_run(opts, workdir, n, tag):
    vm = fwrun.Vm(opts, workdir, "bench-%s-%d" % (tag, n),
                  ["-m", "512", "-smp", "%d,maxcpus=8,sockets=8,cores=1,threads=1" % n])
    try:
        vm.wait_line(r"^payload: ready$")
        boot_wall = time.monotonic() - vm.t0
        boot_insns = instructions(vm) if "smmvm" in opts.emulator else None
        t = time.monotonic()
        r = vm.qmp("device_add", driver=fwrun.CPU_TYPE, id="b%d" % n, **{
            "socket-id": n, "core-id": 0, "thread-id": 0})
        fwrun.expect_ok(r, "device_add")
        vm.wait_line(r"^payload: cpu online apic=%d ok=1$" % n)
        plug_wall = time.monotonic() - t
        plug_insns = instructions(vm) - boot_insns if boot_insns is not None else None
        return boot_wall, boot_insns, plug_wall, plug_insns
    finally:
        vm.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smmvm", default=os.path.join(ROOT, "build/smmvm"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--smp", default="1,2,4,7")
    opts = ap.parse_args()
    emulators = [("smmvm", Opts(opts.smmvm, ""))]
    if shutil.which(opts.qemu):
        emulators.append(("qemu", Opts(opts.qemu, "tcg")))
    else:
        print("qemu: not installed, skipped")
    workdir = tempfile.mkdtemp(prefix="smmfw-bench-")
    print("smmfw: wall time from process start to 'payload: ready', then device_add to "
          "'payload: cpu online' (median of %d runs)" % opts.runs)
    for n in [int(x) for x in opts.smp.split(",")]:
        walls = {}
        for name, eo in emulators:
            try:
                runs = [one_run(eo, workdir, n, name) for _ in range(opts.runs)]
            except (fwrun.Fail, OSError) as e:
                print("smp=%d %-6s failed: %s" % (n, name, e))
                continue
            boot = statistics.median(r[0] for r in runs)
            plug = statistics.median(r[2] for r in runs)
            walls[name] = (boot, plug)
            line = "smp=%d %-6s boot %6.3f s  hot-plug %6.3f s" % (n, name, boot, plug)
            if runs[0][1] is not None:
                line += "  (virtual: boot %d insns, hot-plug %d insns)" % (
                    statistics.median(r[1] for r in runs), statistics.median(r[3] for r in runs))
            print(line)
        if "smmvm" in walls and "qemu" in walls:
            print("smp=%d smmvm/qemu wall: boot %.2f, hot-plug %.2f" % (
                n, walls["smmvm"][0] / walls["qemu"][0], walls["smmvm"][1] / walls["qemu"][1]))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
