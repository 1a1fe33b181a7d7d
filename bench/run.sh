#!/usr/bin/env bash
# run.sh - instructions per second of smmvm, QEMU TCG and (if installed) Bochs on the
# benchmark ROMs. Prints figures only; it never fails on a timing.
#
#   bench/run.sh            (builds the ROMs with make if needed)
# Environment:
#   SMMVM      smmvm binary (default build/smmvm, relative to the repository root)
#   QEMU       QEMU binary (default qemu-system-x86_64)
#   BOCHS      Bochs binary (default bochs; skipped when not installed)
#   BENCH_DIR  directory with the built ROMs (default <repo>/build/bench)
#   RUNS       runs per image (default 5)
#   LOOPS      subset, e.g. "alu-rm mixed-lm" (default: all six)
#   TIMEOUT    seconds per emulator run before it counts as failed (default 600)
#
# Method (cpu.md §6): process CPU time (user + sys of the child, from getrusage
# RUSAGE_CHILDREN deltas) of the N-iteration image minus that of the 1-iteration image,
# the fastest of RUNS runs each, the emulators' runs interleaved (on a shared host the
# time of one run moves by tens of percent; the fastest run is the least disturbed);
# instructions = (N - 1) * insns_per_iter as the ROM prints them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export BENCH_DIR=${BENCH_DIR:-$repo/build/bench}
need=0
for l in alu loadstore mixed; do
    for m in rm lm; do
        [ -f "$BENCH_DIR/$l-$m.bin" ] && [ -f "$BENCH_DIR/$l-$m-1.bin" ] || need=1
    done
done
if [ $need = 1 ]; then
    mkdir -p "$BENCH_DIR"
    make -s -C "$here" O="$BENCH_DIR" >&2 || { echo "bench: ROM build failed" >&2; exit 1; }
fi
export REPO=$repo
exec python3 - "$@" <<'EOF'
import os, re, resource, shutil, statistics, subprocess, sys, tempfile, time

repo = os.environ["REPO"]
bench_dir = os.environ["BENCH_DIR"]
runs = int(os.environ.get("RUNS", "5"))
loops = os.environ.get("LOOPS", "alu-rm alu-lm loadstore-rm loadstore-lm mixed-rm mixed-lm smi-rm smi-lm").split()
smmvm = os.environ.get("SMMVM", os.path.join(repo, "build/smmvm"))
if not os.path.isabs(smmvm) and os.sep in smmvm:
    smmvm = os.path.join(repo, smmvm)
qemu = shutil.which(os.environ.get("QEMU", "qemu-system-x86_64"))
bochs = shutil.which(os.environ.get("BOCHS", "bochs"))
TIMEOUT = int(os.environ.get("TIMEOUT", "600"))
tmp = tempfile.mkdtemp(prefix="smmvm-bench-")

def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def run_pc(binary, rom, extra):
    """QEMU-spelled emulators: exits through isa-debug-exit."""
    out = os.path.join(tmp, "out.txt")
    if os.path.exists(out):
        os.unlink(out)
    cmd = [binary, "-machine", "q35"] + extra + ["-nodefaults", "-display", "none",
           "-bios", rom, "-debugcon", "file:" + out,
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4"]
    before = child_cpu()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    cpu = child_cpu() - before
    text = open(out, errors="replace").read() if os.path.exists(out) else ""
    if p.returncode != 1 or not text.endswith("done\n"):
        err = p.stderr.decode(errors="replace").strip().splitlines()
        raise RuntimeError("exit status %d, output %r%s" % (p.returncode, text[-60:],
                           (", stderr: " + err[0]) if err else ""))
    return cpu, text

def run_bochs(binary, rom, extra):
    """Bochs has no isa-debug-exit: wait for "done" on port 0xE9, then stop it."""
    out = os.path.join(tmp, "bochs-e9.txt")
    rc = os.path.join(tmp, "bochsrc")
    with open(rc, "w") as f:
        f.write("megs: 64\nromimage: file=%s, address=0xffff0000\n"
                "display_library: nogui\nport_e9_hack: enabled=1\n"
                "log: /dev/null\nboot: disk\n" % rom)
    before = child_cpu()
    with open(out, "wb") as o:
        p = subprocess.Popen([binary, "-q", "-f", rc], stdin=subprocess.DEVNULL,
                             stdout=o, stderr=subprocess.DEVNULL)
        start = time.monotonic()
        text = ""
        while time.monotonic() - start < TIMEOUT:
            time.sleep(0.01)
            text = open(out, errors="replace").read()
            if text.endswith("done\n") or p.poll() is not None:
                break
        p.kill()
        p.wait()
    cpu = child_cpu() - before
    if not text.endswith("done\n"):
        raise RuntimeError("no 'done' in bochs output %r" % text[-60:])
    return cpu, text

def per_iter(text):
    it = int(re.search(r"^iterations: ([0-9a-f]+)$", text, re.M).group(1), 16)
    k = int(re.search(r"^insns_per_iter: ([0-9a-f]+)$", text, re.M).group(1), 16)
    return it, k

def checksum(text):
    m = re.search(r"^checksum: ([0-9a-f]+)$", text, re.M)
    return m.group(1) if m else None

def measure(loop):
    """Runs every emulator on the loop, interleaved: round r runs each emulator's
    N-iteration and 1-iteration images once, so a slow stretch of the host hits
    every emulator alike. Per emulator: (seconds of the loop, instructions,
    iterations, spread) with seconds = min(N runs) - min(1 runs), the least
    disturbed run of each; spread = slowest / fastest N run."""
    big = os.path.join(bench_dir, loop + ".bin")
    one = os.path.join(bench_dir, loop + "-1.bin")
    samples, texts, failed = {}, {}, {}
    for _ in range(runs):
        for name, runner, binary, extra in emus:
            if name in failed:
                continue
            try:
                t, text = runner(binary, big, extra)
                t1, _ = runner(binary, one, extra)
            except Exception as e:  # an emulator that fails is reported, the others go on
                failed[name] = e
                continue
            samples.setdefault(name, ([], []))
            samples[name][0].append(t)
            samples[name][1].append(t1)
            texts[name] = text
    out = {}
    for name, (tb, to) in samples.items():
        if name in failed:
            continue
        n, k = per_iter(texts[name])
        out[name] = (min(tb) - min(to), (n - 1) * k, n - 1, max(tb) / min(tb), checksum(texts[name]))
    return out, failed

emus = []
if os.path.isfile(smmvm) and os.access(smmvm, os.X_OK):
    emus.append(("smmvm", run_pc, smmvm, []))
else:
    print("smmvm: %s missing or not executable, skipped (QEMU figures only)" % smmvm)
if qemu:
    emus.append(("qemu", run_pc, qemu, ["-accel", "tcg"]))
else:
    print("qemu: qemu-system-x86_64 not installed, skipped")
if bochs:
    emus.append(("bochs", run_bochs, bochs, []))
else:
    print("bochs: not installed, skipped")

print("method: CPU time (user+sys), N-iteration image minus 1-iteration image, fastest of %d "
      "runs interleaved across emulators (spread = slowest/fastest N-iteration run); each "
      "loop's checksum is compared with QEMU's" % runs)
for loop in loops:
    res = {}
    measured, failed = measure(loop)
    for name, runner, binary, extra in emus:
        if name in failed:
            print("%-13s %-6s FAILED: %s" % (loop, name, failed[name]))
            continue
        if name not in measured:
            continue
        secs, insns, iterations, spread, sum_ = measured[name]
        ref = measured.get("qemu")
        if name != "qemu" and ref and ref[4] != sum_:
            # A figure for a loop that computed something else means nothing.
            print("%-13s %-6s WRONG RESULT: checksum %s, qemu %s" % (loop, name, sum_, ref[4]))
        if secs <= 0:
            print("%-13s %-6s FAILED: no time left after the 1-iteration image" % (loop, name))
            continue
        if loop.startswith("smi"):
            us = secs / iterations * 1e6
            res[name + "-us"] = us
            print("%-13s %-6s %8.3f us per SMI+RSM round trip  (%d in %.3f s CPU, spread %.2f)" %
                  (loop, name, us, iterations, secs, spread))
        else:
            res[name] = insns / secs
            print("%-13s %-6s %8.1f M insns/s  (%d insns in %.3f s CPU, spread %.2f)" %
                  (loop, name, insns / secs / 1e6, insns, secs, spread))
    for other in ("qemu", "bochs"):
        if loop.startswith("smi") and "smmvm-us" in res and other + "-us" in res:
            print("%-13s smmvm time / %s time = %.3f (target: at most 0.5)" %
                  (loop, other, res["smmvm-us"] / res[other + "-us"]))
            continue
        if "smmvm" in res and other in res:
            print("%-13s smmvm/%s = %.3f" % (loop, other, res["smmvm"] / res[other]))
    sys.stdout.flush()
shutil.rmtree(tmp, ignore_errors=True)
EOF
