#!/usr/bin/env python3
"""fuzz.py - seeded QMP fuzzing of smmvm: random bytes, deep nesting, truncated messages and
every command with random argument names, types and values (plug, unplug, stop/cont, reset,
HMP lines, qom-get, pmemsave) over a socket that is dropped and reconnected at random. Passes
when the emulator is still alive at the end, still answers query-status, and (under ASan)
reported nothing. The seed fixes every message sent (the host timing of replies does not).

    tests/qmp/fuzz.py EMULATOR [--seed N] [--messages N]

Prints "N passed, N failed" (one check per seed)."""
import argparse, json, os, random, socket, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(emu, seed, messages, work):
    err_path = os.path.join(work, "fuzz-%d.stderr" % seed)
    rnd = random.Random(seed)
    sock = os.path.join(work, "fuzz-%d.qmp" % seed)
    if os.path.exists(sock): os.unlink(sock)
    p = subprocess.Popen([emu, "-machine", "q35", "-m", "256", "-smp", "1,maxcpus=6,sockets=2,cores=3",
        "-bios", os.path.join(ROOT, "build/firmware/smmfw.bin"), "-fw_cfg", "name=opt/org.smmvm/payload,file=" + os.path.join(ROOT, "build/firmware/payload.elf"),
        "-qmp", "unix:%s,server=on,wait=off" % sock], stderr=open(err_path, "w"), stdout=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(sock): break
        time.sleep(0.05)
    def conn():
        s = socket.socket(socket.AF_UNIX); s.connect(sock); s.settimeout(0.05); return s
    s = conn()
    vals = [0, 1, -1, 2, 5, 2**31, 2**32, -2**40, "0", "x", "", None, True, 1.5, [], {}, "cpu1", "/machine/peripheral/cpu1", "/machine/unattached/device[0]", "a" * 300]
    keys = ["driver", "id", "socket-id", "core-id", "thread-id", "die-id", "apic-id", "node-id", "path", "property", "command-line", "val", "size", "filename", "enable", "bogus"]
    cmds = ["qmp_capabilities", "device_add", "device_del", "query-cpus-fast", "query-hotpluggable-cpus", "query-status", "stop", "cont", "system_reset", "human-monitor-command", "qom-get", "pmemsave", "nosuch"]
    hmp = ["info cpus", "info mtree -f", "device_add qemu64-x86_64-cpu,socket-id=1,core-id=1,thread-id=0", "device_del cpu1", "info hotpluggable-cpus", "stop", "cont", "info registers -a", "x", "device_add ,,,=", "device_del", "info smram", "info clock"]
    sent = 0
    while sent < messages:
        r = rnd.random()
        if r < 0.1:
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        elif r < 0.15:
            data = b"[" * rnd.randrange(1, 3000) + b"\n"
        else:
            c = rnd.choice(cmds)
            args = {}
            if c == "human-monitor-command":
                args["command-line"] = rnd.choice(hmp)
            elif c == "device_add" and rnd.random() < 0.7:
                args = {"driver": "qemu64-x86_64-cpu", "socket-id": rnd.randrange(-1, 3), "core-id": rnd.randrange(-1, 4), "thread-id": rnd.randrange(-1, 2)}
                if rnd.random() < 0.5: args["id"] = "cpu%d" % rnd.randrange(6)
            elif c == "pmemsave":
                args = {"val": rnd.randrange(0, 2**33), "size": rnd.randrange(0, 8192), "filename": os.path.join(work, "fuzz.mem")}
            else:
                for _ in range(rnd.randrange(0, 3)):
                    args[rnd.choice(keys)] = rnd.choice(vals)
            msg = {"execute": c, "arguments": args}
            if rnd.random() < 0.1: msg["id"] = rnd.choice(vals)
            data = json.dumps(msg).encode() + b"\n"
            if rnd.random() < 0.05: data = data[:rnd.randrange(len(data))]
        try:
            s.sendall(data); sent += 1
            try: s.recv(1 << 20)
            except socket.timeout: pass
        except OSError:
            if p.poll() is not None: break
            s.close(); s = conn()
        if rnd.random() < 0.02:
            s.close(); s = conn()
    alive = p.poll() is None
    answered = False
    if alive:
        try:
            s.close(); s = conn(); s.settimeout(10)
            buf = b""
            s.sendall(b'{"execute":"qmp_capabilities"}\n{"execute":"query-status"}\n')
            while b'"status"' not in buf:
                d = s.recv(65536)
                if not d: break
                buf += d
            answered = b'"status"' in buf
        except OSError:
            pass
    p.kill(); p.wait()
    err = open(err_path).read()
    sanitizer = "ERROR: AddressSanitizer" in err or "runtime error" in err
    return_value = (alive and answered and not sanitizer,
                    "%d messages, alive=%s, answers=%s, sanitizer report=%s" % (sent, alive, answered, sanitizer),
                    err[:3000] if sanitizer else "")

    return return_value


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("emulator")
    ap.add_argument("--seed", type=int, action="append")
    ap.add_argument("--messages", type=int, default=1500)
    opts = ap.parse_args()
    work = tempfile.mkdtemp(prefix="smmvm-fuzz-")
    passed = failed = 0
    for seed in opts.seed or [1, 2]:
        try:
            ok, what, details = run(opts.emulator, seed, opts.messages, work)
        except OSError as e:  # no socket: the emulator did not start or died at once
            ok, what, details = False, "could not talk to %s: %s" % (opts.emulator, e), ""
        print("%s seed-%d: %s" % ("ok" if ok else "FAIL", seed, what))
        if details:
            print(details)
        passed += ok
        failed += not ok
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
