#!/usr/bin/env python3
"""QMP acceptance suite for CPU hot-plug (issue 6), python3 stdlib only.

Boots smmfw + its test payload on an emulator (smmvm, or QEMU 7.2 as the reference oracle),
talks QMP over a real Unix socket and checks the monitor side of platform.md §5.5/§5.6 and
tests 45-54 of §8: the QMP protocol itself, device_add/device_del of CPUs (accepted and every
refusal), query-cpus-fast / query-hotpluggable-cpus, events, HMP pass-through, and robustness
against malformed, oversized and interrupted input.

    tests/qmp/run.py [--emulator qemu-system-x86_64 | build/smmvm] [--accel tcg|'']
                     [--only GROUP,...] [--list] [--flood-mib N] [--timeout S] [--keep]

Prints "ok NAME" or "FAIL NAME: why" per case ("ok NAME (reference: ...)" where the reference
emulator is known to behave differently and that behaviour was observed), then exactly one
line "N passed, N failed"; exits 1 on any failure.

Reference mode (on by default when the emulator's file name starts with "qemu"): exact QEMU
7.2 texts are required where smmvm only has to match the shape (JSON parse-error details), and
the known QEMU 7.2 defects (crash on CPU re-plug, deep-nesting resynchronisation) are accepted
when observed. Without reference mode those defects are failures.
"""
import argparse
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CPU = "qemu64-x86_64-cpu"
BOOT_PATH = "/machine/unattached/device[0]"
MAXCPUS = 4
HOTPLUG_MSG = "cpu hotplug with SMI wasn't enabled by firmware"
UNPLUG_MSG = "cpu hot-unplug with SMI wasn't enabled by firmware"
LEGACY_MSG = "acpi: device unplug request for not supported device type: " + CPU
NEGOTIATE_MSG = "Expecting capabilities negotiation with 'qmp_capabilities'"
MIB = 1 << 20


class Fail(Exception):
    pass


def short(v, n=300):
    s = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def exit_status(rc):
    """An exit status as text: the number, or the signal's name (e.g. SIGPIPE)."""
    if rc is not None and rc < 0:
        try:
            return signal.Signals(-rc).name
        except ValueError:
            pass
    return str(rc)


def props(core):
    # -smp 1,maxcpus=4 is 1 socket x 4 cores x 1 thread in QEMU 7.2: slot N = core-id N
    return {"socket-id": 0, "core-id": core, "thread-id": 0}


# ---------------------------------------------------------------- QMP client

class Qmp:
    """One QMP connection. Messages are JSON objects, one a line (QEMU ends them with \\r\\n,
    smmvm may use \\n). Events are queued in .events; everything else is a reply."""

    def __init__(self, path, timeout, proc):
        self.timeout = timeout
        self.proc = proc
        self.buf = bytearray()
        self.scan = 0
        self.closed = False
        self.events = []
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise Fail("emulator not running (exit status %s)" % exit_status(proc.returncode))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Fail("no QMP socket at %s" % path)
                time.sleep(0.05)
        self.sock = s

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def _recv_some(self):
        try:
            data = self.sock.recv(4 * MIB)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
        self.buf += data

    def _pop(self):
        i = self.buf.find(b"\n", self.scan)
        if i < 0:
            self.scan = len(self.buf)
            return None
        line = bytes(self.buf[:i]).rstrip(b"\r")
        del self.buf[:i + 1]
        self.scan = 0
        if not line.strip():
            return self._pop()
        try:
            msg = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Fail("QMP output is not a JSON line: %r" % line[:200])
        if not isinstance(msg, dict):
            raise Fail("QMP output is not a JSON object: %r" % line[:200])
        return msg

    def recv(self, timeout=None):
        """Next message (event or not); Fail on time-out or a closed connection."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._pop()
            if m is not None:
                return m
            if self.closed:
                if self.proc.poll() is None:
                    try:
                        self.proc.wait(0.5)
                    except subprocess.TimeoutExpired:
                        pass
                if self.proc.poll() is not None:
                    raise Fail("QMP connection closed: the emulator exited (status %s)"
                               % exit_status(self.proc.returncode))
                raise Fail("QMP connection closed by the emulator (which still runs)")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("no QMP message within %ss" % (timeout or self.timeout))
            r, _, _ = select.select([self.sock], [], [], min(left, 1.0))
            if r:
                self._recv_some()

    def reply(self, timeout=None):
        """Next non-event message; events go to .events."""
        while True:
            m = self.recv(timeout)
            if "event" in m:
                self.events.append(m)
                continue
            return m

    def send(self, data):
        """Write all of DATA while reading whatever the emulator answers meanwhile (so a big
        write can never deadlock against a big reply). Fails only if the emulator accepts no
        byte for `timeout` seconds (QEMU 7.2 reads QMP input one byte at a time, slowly)."""
        view = memoryview(data)
        off = 0
        last = time.monotonic()
        self.sock.setblocking(False)
        try:
            while off < len(view):
                r, w, _ = select.select([self.sock], [self.sock], [], 1.0)
                if r:
                    self._recv_some()
                    if self.closed:
                        raise Fail("QMP connection closed while sending (%d of %d bytes sent)"
                                   % (off, len(view)))
                if w:
                    try:
                        n = self.sock.send(view[off:off + 256 * 1024])
                        off += n
                        last = time.monotonic()
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError as e:
                        self.closed = True
                        raise Fail("QMP connection lost while sending (%d of %d bytes sent): %s"
                                   % (off, len(view), e))
                if time.monotonic() - last > self.timeout:
                    raise Fail("emulator stopped reading QMP input (%d of %d bytes sent)"
                               % (off, len(view)))
        finally:
            self.sock.setblocking(True)


# ---------------------------------------------------------------- one emulator process

class Vm:
    def __init__(self, suite, name, args=(), paused=False, negotiate=True):
        self.suite = suite
        opts = suite.opts
        self.name = name
        self.log_path = os.path.join(suite.workdir, name + ".log")
        self.qmp_path = os.path.join(suite.workdir, name + ".qmp")
        self.err_path = os.path.join(suite.workdir, name + ".stderr")
        cmd = [opts.emulator, "-machine", "q35,smm=on"]
        if opts.accel:
            cmd += ["-accel", opts.accel]
        cmd += ["-nodefaults", "-display", "none", "-bios", opts.bios, "-m", "512",
                "-smp", "1,maxcpus=%d" % MAXCPUS,
                "-chardev", "file,id=dbg,path=" + self.log_path,
                "-device", "isa-debugcon,iobase=0x402,chardev=dbg",
                "-fw_cfg", "name=opt/org.smmvm/payload,file=" + opts.payload,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        if paused:
            cmd.append("-S")
        cmd += list(args) + shlex.split(opts.extra)
        self.argv = cmd
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=subprocess.STDOUT)
        suite.vms.append(self)
        self.qmp = None
        self.connect()
        if negotiate:
            self.negotiate()

    # connection
    def connect(self):
        if self.qmp:
            self.qmp.close()
        self.qmp = Qmp(self.qmp_path, self.suite.opts.timeout, self.proc)
        self.greeting = self.qmp.recv()
        return self.greeting

    def negotiate(self):
        r = self.cmd("qmp_capabilities")
        if r != {"return": {}}:
            raise Fail("qmp_capabilities: %s" % short(r))

    @property
    def events(self):
        return self.qmp.events

    def cmd(self, name, args=None, id=None, timeout=None):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        if id is not None:
            msg["id"] = id
        self.qmp.send(json.dumps(msg).encode() + b"\n")
        r = self.qmp.reply(timeout)
        if id is not None and r.get("id") != id:
            raise Fail("reply to %s carries id %r, want %r: %s" % (name, r.get("id"), id, short(r)))
        return r

    def ok(self, name, args=None):
        r = self.cmd(name, args)
        if set(r) != {"return"}:
            raise Fail("%s: %s" % (name, short(r)))
        return r["return"]

    def hmp(self, line):
        r = self.ok("human-monitor-command", {"command-line": line})
        if not isinstance(r, str):
            raise Fail("human-monitor-command %r returned %s" % (line, short(r)))
        return r.replace("\r\n", "\n")

    def roundtrip(self):
        """A query-status round trip: everything emitted before it has been queued."""
        self.ok("query-status")

    def wait_event(self, name, timeout=None, match=None):
        deadline = time.monotonic() + (timeout or self.suite.opts.timeout)
        while True:
            for e in self.qmp.events:
                if e.get("event") == name and (match is None or match(e)):
                    self.qmp.events.remove(e)
                    check_event_shape(e)
                    return e
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("no %s event within %ss (queued: %s)" % (
                    name, timeout or self.suite.opts.timeout,
                    short([e.get("event") for e in self.qmp.events])))
            m = self.qmp.recv(left)
            if "event" in m:
                self.qmp.events.append(m)
            else:
                raise Fail("unexpected reply while waiting for %s: %s" % (name, short(m)))

    def take_events(self, name):
        got = [e for e in self.qmp.events if e.get("event") == name]
        self.qmp.events[:] = [e for e in self.qmp.events if e.get("event") != name]
        return got

    # process and debug console
    def alive(self):
        return self.proc.poll() is None

    def died(self, wait=10):
        """True if the process exits (any status) within WAIT seconds."""
        try:
            self.proc.wait(wait)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stderr_tail(self):
        try:
            with open(self.err_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").strip().splitlines()
        except FileNotFoundError:
            lines = []
        return lines[-1] if lines else "no message"

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Fail("no VmRSS")

    def lines(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("ascii", "replace").splitlines()
        except FileNotFoundError:
            return []

    def count(self, pattern):
        rx = re.compile(pattern)
        return sum(1 for line in self.lines() if rx.search(line))

    def wait_line(self, pattern, count=1, timeout=None):
        timeout = timeout or self.suite.opts.timeout
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            hits = [line for line in lines if rx.search(line)]
            if len(hits) >= count:
                return hits[count - 1]
            fatal = [line for line in lines if re.match(r"^(smmfw|payload): fatal", line)]
            if fatal:
                raise Fail("firmware: %s" % fatal[0])
            if not self.alive():
                raise Fail("emulator exited (status %s: %s) while waiting for /%s/" % (
                    exit_status(self.proc.returncode), self.stderr_tail(), pattern))
            if time.monotonic() > deadline:
                raise Fail("no debug-console line /%s/ (x%d) within %ss; last: %r" % (
                    pattern, count, timeout, lines[-1] if lines else ""))
            time.sleep(0.02)

    def close(self):
        if self.alive():
            try:
                if self.qmp and not self.qmp.closed:
                    self.qmp.send(b'{"execute":"quit"}\n')
            except Fail:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.qmp:
            self.qmp.close()
        self.err.close()


# ---------------------------------------------------------------- shared checks

def check_event_shape(e):
    """Events: {"event": NAME, "timestamp": {"seconds": S, "microseconds": U}[, "data": {}]}.
    Timestamp values differ between emulators (wall clock vs. virtual): shape only."""
    if not set(e) <= {"event", "timestamp", "data"} or "timestamp" not in e:
        raise Fail("bad event shape: %s" % short(e))
    ts = e["timestamp"]
    if not (isinstance(ts, dict) and set(ts) == {"seconds", "microseconds"} and
            all(isinstance(ts[k], int) and not isinstance(ts[k], bool) for k in ts) and
            0 <= ts["microseconds"] <= 999999):
        raise Fail("bad event timestamp: %s" % short(e))
    if "data" in e and not isinstance(e["data"], dict):
        raise Fail("event data is not an object: %s" % short(e))


def expect_return(r, value):
    if set(r) - {"id"} != {"return"} or r["return"] != value:
        raise Fail("want return %s, got %s" % (short(value), short(r)))


def expect_error(r, cls, desc):
    if set(r) - {"id"} != {"error"}:
        raise Fail("want error %s %r, got %s" % (cls, desc, short(r)))
    e = r["error"]
    if not isinstance(e, dict) or set(e) != {"class", "desc"}:
        raise Fail("bad error shape: %s" % short(r))
    if e["class"] != cls or e["desc"] != desc:
        raise Fail("want %s %r, got %s %r" % (cls, desc, e["class"], short(e["desc"])))


def snapshot(vm):
    """What a refused request must not change. thread-id values are emulator-specific but
    stable for one CPU within one run, so whole replies are compared."""
    return (vm.ok("query-cpus-fast"), vm.ok("query-hotpluggable-cpus"))


def unchanged(vm, snap, what):
    now = snapshot(vm)
    if now != snap:
        raise Fail("machine changed after refused %s: cpus-fast %s, hotpluggable %s" % (
            what, short(now[0], 200), short(now[1], 200)))


def refuse(vm, snap, command, args, cls, desc):
    expect_error(vm.cmd(command, args), cls, desc)
    unchanged(vm, snap, command)


def hmp_refuse(vm, snap, line, desc, hint=None):
    """HMP prints "Error: <desc>\\r\\n" (smmvm may use \\n). Where the spec says HMP SHOULD add a
    hint line, reference mode requires QEMU's exact hint; smmvm may omit it or word it freely."""
    out = vm.hmp(line)
    first, _, rest = out.partition("\n")
    if first != "Error: " + desc:
        raise Fail("HMP %r printed %r, want 'Error: %s'" % (line, short(out), desc))
    if vm.suite.reference and hint is not None and rest != hint:
        raise Fail("HMP %r hint %r, want %r" % (line, rest, hint))
    if hint is None and rest != "":
        raise Fail("HMP %r printed extra text %r" % (line, rest))
    unchanged(vm, snap, "HMP " + line.split()[0])


def expect_cpus(vm, slots):
    """query-cpus-fast lists exactly SLOTS ({slot: qom-path or regex}); order not checked."""
    r = vm.ok("query-cpus-fast")
    if not isinstance(r, list):
        raise Fail("query-cpus-fast: %s" % short(r))
    seen = {}
    for e in r:
        if not isinstance(e, dict) or set(e) != {"thread-id", "props", "qom-path",
                                                  "cpu-index", "target"}:
            raise Fail("query-cpus-fast entry shape: %s" % short(e))
        # thread-id: a host thread id in QEMU, emulator-defined in smmvm: type only
        if not isinstance(e["thread-id"], int) or isinstance(e["thread-id"], bool):
            raise Fail("thread-id not an integer: %s" % short(e))
        if e["target"] != "x86_64":
            raise Fail("target: %s" % short(e))
        i = e["cpu-index"]
        if i in seen:
            raise Fail("cpu-index %r listed twice" % i)
        seen[i] = e
    if set(seen) != set(slots):
        raise Fail("query-cpus-fast lists cpu-index %s, want %s" % (sorted(seen), sorted(slots)))
    for s, path in slots.items():
        e = seen[s]
        if e["props"] != props(s):
            raise Fail("cpu %d props %s, want %s" % (s, short(e["props"]), short(props(s))))
        if not re.fullmatch(path, e["qom-path"]):
            raise Fail("cpu %d qom-path %r, want %r" % (s, e["qom-path"], path))
    return {s: seen[s]["qom-path"] for s in seen}


def expect_hotpluggable(vm, paths):
    """query-hotpluggable-cpus: every possible slot, highest first; qom-path only where a CPU
    exists (PATHS: {slot: exact qom-path})."""
    r = vm.ok("query-hotpluggable-cpus")
    if not isinstance(r, list) or len(r) != MAXCPUS:
        raise Fail("query-hotpluggable-cpus: %s" % short(r))
    for e, slot in zip(r, range(MAXCPUS - 1, -1, -1)):
        want = {"props": props(slot), "vcpus-count": 1, "type": CPU}
        if slot in paths:
            want["qom-path"] = paths[slot]
        if e != want:
            raise Fail("query-hotpluggable-cpus entry for slot %d: %s, want %s" % (
                slot, short(e), short(want)))


def hmp_hotpluggable_text(paths):
    out = ["Hotpluggable CPUs:"]
    for slot in range(MAXCPUS - 1, -1, -1):
        out += ['  type: "%s"' % CPU, '  vcpus_count: "1"']
        if slot in paths:
            out.append('  qom_path: "%s"' % paths[slot])
        out += ["  CPUInstance Properties:", '    socket-id: "0"',
                '    core-id: "%d"' % slot, '    thread-id: "0"']
    return "\n".join(out) + "\n"


def relocated_rx(slot, phase="hotplug"):
    return (r"^smmfw: relocated cpu apic=%d slot=%d smbase=0x[0-9a-f]+ path=[a-z-]+ phase=%s$"
            % (slot, slot, phase))


def online_rx(slot):
    return r"^payload: cpu online apic=%d ok=1$" % slot


def wait_hotplugged(vm, slot, count=1):
    vm.wait_line(relocated_rx(slot), count)
    vm.wait_line(online_rx(slot), count)


def wait_deleted(vm, slot, qom_path, dev_id):
    """Eject by smmfw (fw_remove + SMI), then DEVICE_DELETED. QEMU 7.2 emits one event, for
    "<qom-path>/lapic"; smmvm also emits {"device": ID, "path": <qom-path>} afterwards. Accept
    either; every DEVICE_DELETED seen must belong to this CPU and one must be there."""
    vm.wait_line(r"^smmfw: ejected cpu apic=%d slot=%d$" % (slot, slot))
    vm.wait_line(r"^payload: eject done sel=%d status=0x0$" % slot)

    def mine(e):
        p = e.get("data", {}).get("path", "")
        return p == qom_path or p.startswith(qom_path + "/")

    vm.wait_event("DEVICE_DELETED", match=mine)
    vm.roundtrip()
    for e in vm.take_events("DEVICE_DELETED"):
        check_event_shape(e)
        if not mine(e):
            raise Fail("DEVICE_DELETED for something else: %s" % short(e))
        if "device" in e["data"] and dev_id is not None and e["data"]["device"] != dev_id:
            raise Fail("DEVICE_DELETED device %r, want %r" % (e["data"]["device"], dev_id))
        if not set(e["data"]) <= {"device", "path"}:
            raise Fail("DEVICE_DELETED data: %s" % short(e))


def boot(vm, negotiated):
    vm.wait_line(r"^payload: ready$")
    line = vm.wait_line(r"^smmfw: negotiate ")
    if not line.endswith(" ok=1 negotiated=0x%x" % negotiated):
        raise Fail("firmware negotiated %r, want 0x%x" % (line, negotiated))


class Quiet:
    """No event and no debug-console line may appear while a batch of refusals runs."""

    def __init__(self, vm):
        self.vm = vm
        vm.roundtrip()
        self.nlines = len(vm.lines())
        self.nevents = len(vm.events)

    def check(self):
        self.vm.roundtrip()
        new = self.vm.lines()[self.nlines:]
        if new:
            raise Fail("debug console changed during refusals: %r" % new[:3])
        if len(self.vm.events) != self.nevents:
            raise Fail("events during refusals: %s" % short(self.vm.events[self.nevents:]))


# ---------------------------------------------------------------- suite driver

GROUPS = []


def group(name, desc):
    def reg(fn):
        GROUPS.append((name, desc, fn))
        return fn
    return reg


class Suite:
    def __init__(self, opts, workdir):
        self.opts = opts
        self.workdir = workdir
        self.reference = opts.reference
        self.passed = 0
        self.failed = 0
        self.vms = []
        self.prefix = ""

    def case(self, name, fn, *args):
        """Run one case; FN raises Fail or returns None or a reference note."""
        full = self.prefix + name
        try:
            note = fn(*args)
        except Fail as e:
            self._fail(full, str(e))
            return False
        except Exception as e:  # a harness error is a failure of the case, not of the run
            self._fail(full, "%s: %s" % (type(e).__name__, e))
            return False
        self.passed += 1
        print("ok %s%s" % (full, " (%s)" % note if note else ""), flush=True)
        return True

    def _fail(self, full, why):
        self.failed += 1
        print("FAIL %s: %s" % (full, why), flush=True)
        for v in self.vms:
            if v.proc.poll() is not None and v.proc.returncode not in (0, None):
                print("#   %s exited with status %s: %s" % (v.name, exit_status(v.proc.returncode),
                                                        v.stderr_tail()))

    def vm(self, name, *a, **kw):
        return Vm(self, name, *a, **kw)

    def close_vms(self):
        for v in self.vms:
            v.close()
        self.vms = []


# ---------------------------------------------------------------- group: protocol

@group("protocol", "greeting, negotiation, envelope errors, id echo, stop/cont/reset/quit "
       "events, HMP pass-through")
def g_protocol(t):
    vm = t.vm("protocol", negotiate=False)

    def greeting():
        # version numbers and package string differ between emulators: shape only
        g = vm.greeting
        if set(g) != {"QMP"} or set(g["QMP"]) != {"version", "capabilities"}:
            raise Fail("greeting shape: %s" % short(g))
        v, caps = g["QMP"]["version"], g["QMP"]["capabilities"]
        if not (isinstance(v, dict) and set(v) == {"qemu", "package"} and
                isinstance(v["package"], str) and isinstance(v["qemu"], dict) and
                set(v["qemu"]) == {"major", "minor", "micro"} and
                all(isinstance(x, int) for x in v["qemu"].values())):
            raise Fail("greeting version shape: %s" % short(v))
        if not (isinstance(caps, list) and all(isinstance(c, str) for c in caps)):
            raise Fail("greeting capabilities: %s" % short(caps))
        if t.reference and (caps != ["oob"] or (v["qemu"]["major"], v["qemu"]["minor"]) != (7, 2)):
            raise Fail("reference greeting: %s" % short(g))
    t.case("greeting", greeting)

    def before_negotiation():
        expect_error(vm.cmd("query-status"), "CommandNotFound", NEGOTIATE_MSG)
        expect_error(vm.cmd("nosuch"), "CommandNotFound", NEGOTIATE_MSG)
    t.case("command-before-negotiation", before_negotiation)
    t.case("qmp_capabilities", lambda: expect_return(vm.cmd("qmp_capabilities"), {}))
    t.case("qmp_capabilities-again", lambda: expect_error(
        vm.cmd("qmp_capabilities"), "CommandNotFound",
        "Capabilities negotiation is already complete, command ignored"))
    t.case("boot", boot, vm, 7)

    def raw(data, cls, desc):
        vm.qmp.send(data)
        expect_error(vm.qmp.reply(), cls, desc)

    envelope = [
        ("unknown-command", b'{"execute":"nosuch"}', "CommandNotFound",
         "The command nosuch has not been found"),
        ("unexpected-member", b'{"foo":1}', "GenericError", "QMP input member 'foo' is unexpected"),
        ("not-an-object-array", b'[1,2]', "GenericError", "QMP input must be a JSON object"),
        ("not-an-object-number", b'5', "GenericError", "QMP input must be a JSON object"),
        ("not-an-object-string", b'"abc"', "GenericError", "QMP input must be a JSON object"),
        ("lacks-execute", b'{}', "GenericError", "QMP input lacks member 'execute'"),
        ("execute-not-string", b'{"execute":1}', "GenericError",
         "QMP input member 'execute' must be a string"),
        ("arguments-array", b'{"execute":"query-status","arguments":[1]}', "GenericError",
         "QMP input member 'arguments' must be an object"),
        ("arguments-null", b'{"execute":"query-status","arguments":null}', "GenericError",
         "QMP input member 'arguments' must be an object"),
        ("unexpected-argument", b'{"execute":"query-status","arguments":{"x":1}}', "GenericError",
         "Parameter 'x' is unexpected"),
    ]
    for name, data, cls, desc in envelope:
        t.case(name, raw, data + b"\n", cls, desc)

    def empty_arguments():
        expect_return(vm.cmd("query-status", {}),
                      {"status": "running", "singlestep": False, "running": True})
    t.case("empty-arguments", empty_arguments)

    def id_echo():
        for v in ["s", 7, -3, 1.5, True, None, [1], {"a": [1, "x"]}, ""]:
            vm.qmp.send(json.dumps({"execute": "query-status", "id": v}).encode() + b"\n")
            r = vm.qmp.reply()
            if "id" not in r or r["id"] != v or type(r["id"]) is not type(v) or "return" not in r:
                raise Fail("id %s came back as %s" % (json.dumps(v), short(r)))
        # errors echo the id too, also envelope errors detected after the id was read
        for data, cls in ((b'{"execute":"nosuch","id":7}', "CommandNotFound"),
                          (b'{"foo":1,"id":"q"}', "GenericError")):
            vm.qmp.send(data + b"\n")
            r = vm.qmp.reply()
            want = json.loads(data)["id"]
            if r.get("id") != want or r.get("error", {}).get("class") != cls:
                raise Fail("%s answered %s" % (data.decode(), short(r)))
    t.case("id-echo", id_echo)

    running = {"status": "running", "singlestep": False, "running": True}
    paused = {"status": "paused", "singlestep": False, "running": False}
    t.case("query-status-running", lambda: expect_return(vm.cmd("query-status"), running))

    def stop_cont():
        expect_return(vm.cmd("stop"), {})
        e = vm.wait_event("STOP")
        if "data" in e:
            raise Fail("STOP carries data: %s" % short(e))
        expect_return(vm.cmd("query-status"), paused)
        expect_return(vm.cmd("stop"), {})       # no state change: no event
        vm.roundtrip()
        if vm.take_events("STOP"):
            raise Fail("second stop emitted STOP")
        expect_return(vm.cmd("cont"), {})
        e = vm.wait_event("RESUME")
        if "data" in e:
            raise Fail("RESUME carries data: %s" % short(e))
        expect_return(vm.cmd("query-status"), running)
        expect_return(vm.cmd("cont"), {})       # already running: no event
        vm.roundtrip()
        if vm.take_events("RESUME"):
            raise Fail("cont while running emitted RESUME")
        if vm.events:
            raise Fail("unexpected events: %s" % short(vm.events))
    t.case("stop-cont-events", stop_cont)

    def hmp_basics():
        expect_error(vm.cmd("human-monitor-command", {}), "GenericError",
                     "Parameter 'command-line' is missing")
        out = vm.hmp("info hotpluggable-cpus")
        want = hmp_hotpluggable_text({0: BOOT_PATH})
        if out != want:
            raise Fail("info hotpluggable-cpus:\n%s\nwant:\n%s" % (out, want))
        snap = snapshot(vm)
        hmp_refuse(vm, snap, "device_add %s,socket-id=0,core-id=9,thread-id=0" % CPU,
                   "Invalid CPU core-id: 9 must be in range 0:3")
        hmp_refuse(vm, snap, "device_del nosuch", "Device 'nosuch' not found")
    t.case("hmp", hmp_basics)

    def reset():
        expect_return(vm.cmd("system_reset"), {})
        e = vm.wait_event("RESET")
        if e.get("data") != {"guest": False, "reason": "host-qmp-system-reset"}:
            raise Fail("RESET data: %s" % short(e))
        vm.wait_line(r"^smmfw: start version=", count=2)
        vm.wait_line(r"^payload: ready$", count=2)
        expect_return(vm.cmd("query-status"), running)
        expect_cpus(vm, {0: re.escape(BOOT_PATH)})
    t.case("system_reset", reset)

    def quit_():
        vm.qmp.send(b'{"execute":"quit"}\n')
        got_return = shutdown = False
        try:
            while True:
                m = vm.qmp.recv()
                if m.get("event") == "SHUTDOWN":
                    check_event_shape(m)
                    if m.get("data") != {"guest": False, "reason": "host-qmp-quit"}:
                        raise Fail("SHUTDOWN data: %s" % short(m))
                    if got_return and t.reference:
                        raise Fail("reference emits SHUTDOWN before the reply")
                    shutdown = True
                elif "event" not in m:
                    expect_return(m, {})
                    got_return = True
        except Fail as e:
            if "closed" not in str(e):
                raise
        if not (got_return and shutdown):
            raise Fail("quit: return=%s SHUTDOWN=%s before the connection closed" % (
                got_return, shutdown))
        try:
            rc = vm.proc.wait(t.opts.timeout)
        except subprocess.TimeoutExpired:
            raise Fail("emulator still running after quit")
        if rc != 0:
            raise Fail("emulator exit status %s after quit" % rc)
    t.case("quit", quit_)


# ---------------------------------------------------------------- group: hotplug (N = 0x7)

@group("hotplug", "N=0x7: every device_add/device_del refusal, plug all free slots (one, then "
       "two back to back), unplug, repeated unplug, re-plug of an ejected slot")
def g_hotplug(t):
    vm = t.vm("hotplug")
    t.case("boot", boot, vm, 7)

    snap = [None]
    quiet = [None]

    def initial():
        expect_cpus(vm, {0: re.escape(BOOT_PATH)})
        expect_hotpluggable(vm, {0: BOOT_PATH})
        snap[0] = snapshot(vm)      # what every refusal below must leave alone
        quiet[0] = Quiet(vm)
    t.case("initial-cpus", initial)

    G = "GenericError"
    P = props
    refusals = [
        ("add-driver-missing", "device_add", {"id": "x"}, G, "Parameter 'driver' is missing"),
        ("add-bad-model", "device_add", {"driver": "nosuch"}, G,
         "'nosuch' is not a valid device model name"),
        ("add-wrong-cpu-type", "device_add", dict(driver="max-x86_64-cpu", id="m1", **P(1)), G,
         "Invalid CPU type, expected cpu type: '%s'" % CPU),
        ("add-socket-missing", "device_add", {"driver": CPU, "core-id": 1, "thread-id": 0}, G,
         "CPU socket-id is not set"),
        ("add-socket-minus1", "device_add", dict(P(1), **{"driver": CPU, "socket-id": -1}), G,
         "CPU socket-id is not set"),
        ("add-core-missing", "device_add", {"driver": CPU, "socket-id": 0, "thread-id": 0}, G,
         "CPU core-id is not set"),
        ("add-thread-missing", "device_add", {"driver": CPU, "socket-id": 0, "core-id": 1}, G,
         "CPU thread-id is not set"),
        ("add-core-range", "device_add", dict(P(9), driver=CPU), G,
         "Invalid CPU core-id: 9 must be in range 0:3"),
        ("add-socket-range", "device_add", dict(P(1), **{"driver": CPU, "socket-id": 1}), G,
         "Invalid CPU socket-id: 1 must be in range 0:0"),
        ("add-thread-range", "device_add", dict(P(1), **{"driver": CPU, "thread-id": 1}), G,
         "Invalid CPU thread-id: 1 must be in range 0:0"),
        ("add-socket-string", "device_add", dict(P(1), **{"driver": CPU, "socket-id": "x"}), G,
         "Parameter 'socket-id' expects integer"),
        ("add-socket-float", "device_add", dict(P(1), **{"driver": CPU, "socket-id": 1.5}), G,
         "Parameter 'socket-id' expects integer"),
        ("add-socket-bool", "device_add", dict(P(1), **{"driver": CPU, "socket-id": True}), G,
         "Parameter 'socket-id' expects integer"),
        ("add-core-int32", "device_add", dict(P(4294967296), driver=CPU), G,
         "Parameter 'core-id' expects int32_t"),
        ("add-occupied-boot-slot", "device_add", dict(P(0), driver=CPU, id="z0"), G,
         "CPU[0] with APIC ID 0 exists"),
        ("add-bad-id", "device_add", dict(P(1), driver=CPU, id="1bad"), G,
         "Parameter 'id' expects an identifier"),
        ("add-unknown-property", "device_add", dict(P(1), driver=CPU, bogus=1), G,
         "Property '%s.bogus' not found" % CPU),
        ("add-apic-id-range", "device_add", {"driver": CPU, "apic-id": 7}, G,
         "Invalid CPU [socket: 1, die: 0, core: 3, thread: 0] with APIC ID 7, "
         "valid index range 0:3"),
        ("add-apic-id-mismatch", "device_add", dict(P(1), **{"driver": CPU, "apic-id": 2}), G,
         "property core-id: 1 doesn't match set apic-id: 0x2 (core-id: 2)"),
        ("del-id-missing", "device_del", {}, G, "Parameter 'id' is missing"),
        ("del-id-type", "device_del", {"id": 5}, G,
         "Invalid parameter type for 'id', expected: string"),
        ("del-unexpected-argument", "device_del", {"id": "nosuch", "x": 1}, G,
         "Parameter 'x' is unexpected"),
        ("del-not-found", "device_del", {"id": "nosuch"}, "DeviceNotFound",
         "Device 'nosuch' not found"),
        ("del-boot-cpu", "device_del", {"id": BOOT_PATH}, G, "Boot CPU is unpluggable"),
    ]
    for name, command, args, cls, desc in refusals:
        t.case(name, lambda c=command, a=args, k=cls, d=desc: refuse(vm, snap[0], c, a, k, d))
    t.case("hmp-add-refused", lambda: hmp_refuse(
        vm, snap[0], "device_add %s,socket-id=0,core-id=0,thread-id=0" % CPU,
        "CPU[0] with APIC ID 0 exists"))
    t.case("hmp-del-refused", lambda: hmp_refuse(vm, snap[0], "device_del " + BOOT_PATH,
                                                 "Boot CPU is unpluggable"))
    t.case("refusals-change-nothing", lambda: quiet[0].check())

    paths = {0: BOOT_PATH}

    def plug_one():
        # "core-id" given as a string is accepted as the integer (QEMU's keyval-style input)
        expect_return(vm.cmd("device_add", dict(P("1"), driver=CPU, id="c1")), {})
        wait_hotplugged(vm, 1)
        paths[1] = "/machine/peripheral/c1"
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
    t.case("plug-one", plug_one)

    def plug_two_back_to_back():
        # two device_add in one write: the second arrives while the first insert is pending.
        # Slot 3 gets no id: it lands under /machine/peripheral-anon/.
        a = {"execute": "device_add", "arguments": dict(P(2), driver=CPU, id="c2"), "id": "a2"}
        b = {"execute": "device_add", "arguments": dict(P(3), driver=CPU), "id": "a3"}
        vm.qmp.send(json.dumps(a).encode() + b"\n" + json.dumps(b).encode() + b"\n")
        r1, r2 = vm.qmp.reply(), vm.qmp.reply()
        expect_return(r1, {})
        expect_return(r2, {})
        if (r1.get("id"), r2.get("id")) != ("a2", "a3"):
            raise Fail("replies out of order: %s %s" % (short(r1), short(r2)))
        wait_hotplugged(vm, 2)
        wait_hotplugged(vm, 3)
        got = expect_cpus(vm, {0: re.escape(BOOT_PATH), 1: re.escape(paths[1]),
                               2: re.escape("/machine/peripheral/c2"),
                               3: r"/machine/peripheral-anon/device\[\d+\]"})
        paths.update(got)
        expect_hotpluggable(vm, paths)
        for s in (1, 2, 3):
            if vm.count(relocated_rx(s)) != 1:
                raise Fail("slot %d relocated %d times" % (s, vm.count(relocated_rx(s))))
    t.case("plug-two-back-to-back", plug_two_back_to_back)

    def hmp_full():
        out = vm.hmp("info hotpluggable-cpus")
        if out != hmp_hotpluggable_text(paths):
            raise Fail("info hotpluggable-cpus:\n%s" % out)
    t.case("hmp-info-hotpluggable-full", hmp_full)

    def full_refusals():
        s = snapshot(vm)
        q = Quiet(vm)
        refuse(vm, s, "device_add", dict(P(2), driver=CPU, id="c9"), G,
               "CPU[2] with APIC ID 2 exists")
        refuse(vm, s, "device_add", dict(P(3), driver=CPU), G, "CPU[3] with APIC ID 3 exists")
        refuse(vm, s, "device_add", dict(P(2), driver=CPU, id="c1"), G,
               "Duplicate device ID 'c1'")
        q.check()
    t.case("refusals-when-full", full_refusals)

    def unplug():
        expect_return(vm.cmd("device_del", {"id": "c2"}), {})
        wait_deleted(vm, 2, "/machine/peripheral/c2", "c2")
        del paths[2]
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
        expect_error(vm.cmd("device_del", {"id": "c2"}), "DeviceNotFound",
                     "Device 'c2' not found")
    t.case("unplug", unplug)

    def unplug_repeated():
        # device_del twice while stopped: the second only re-raises the pending request
        # (§5.6 rule 5); the CPU stays until smmfw ejects it after cont, exactly once.
        anon = paths[3]
        expect_return(vm.cmd("stop"), {})
        vm.wait_event("STOP")
        expect_return(vm.cmd("device_del", {"id": anon}), {})
        expect_return(vm.cmd("device_del", {"id": anon}), {})
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_return(vm.cmd("cont"), {})
        vm.wait_event("RESUME")
        wait_deleted(vm, 3, anon, None)
        del paths[3]
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
        n = vm.count(r"^payload: eject request sel=3$")
        if n != 1:
            raise Fail("%d eject requests for slot 3, want 1" % n)
    t.case("unplug-repeated-while-stopped", unplug_repeated)

    def replug():
        try:
            expect_return(vm.cmd("device_add", dict(P(2), driver=CPU, id="c2b")), {})
            wait_hotplugged(vm, 2, count=2)
            paths[2] = "/machine/peripheral/c2b"
            expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
            expect_hotpluggable(vm, paths)
        except Fail as e:
            # QEMU 7.2 corrupts its heap when the slot of an ejected CPU is plugged again
            # ("double free or corruption" / "corrupted double-linked list", SIGABRT); the
            # socket closes. Recorded, never required.
            if t.reference and vm.died():
                return "reference: QEMU 7.2 crashes on re-plug: %s, %r" % (
                    exit_status(vm.proc.returncode), vm.stderr_tail())
            raise
        # and the re-plugged CPU unplugs like any other
        expect_return(vm.cmd("device_del", {"id": "c2b"}), {})
        wait_deleted(vm, 2, "/machine/peripheral/c2b", "c2b")
        del paths[2]
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
        return None
    t.case("replug-ejected-slot", replug)


# ---------------------------------------------------------------- group: N = 0x1

@group("hotplug-refused", "-global mch.smbase-smram=off: N=0x1, device_add refused right after "
       "the CPU-type check; device_del refused")
def g_refused(t):
    vm = t.vm("n1", ["-global", "mch.smbase-smram=off",
                     "-device", "%s,socket-id=0,core-id=1,thread-id=0,id=cold1" % CPU])
    t.case("boot", boot, vm, 1)
    paths = {0: BOOT_PATH, 1: "/machine/peripheral/cold1"}

    snap = [None]
    quiet = [None]

    def cold():
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
        snap[0] = snapshot(vm)
        quiet[0] = Quiet(vm)
    t.case("cold-plugged-cpu", cold)
    G = "GenericError"
    cases = [
        ("add-refused", dict(props(2), driver=CPU, id="c2"), HOTPLUG_MSG),
        # order: property parsing and the id come first, then the CPU type, then the SMI
        # check, and only then the topology checks
        ("add-refused-before-range-check", dict(props(9), driver=CPU), HOTPLUG_MSG),
        ("add-refused-before-socket-check", {"driver": CPU, "core-id": 9}, HOTPLUG_MSG),
        ("add-refused-before-occupied-check", dict(props(1), driver=CPU), HOTPLUG_MSG),
        ("add-type-checked-first", dict(props(2), driver="max-x86_64-cpu"),
         "Invalid CPU type, expected cpu type: '%s'" % CPU),
        ("add-property-checked-first", dict(props(2), driver=CPU, bogus=1),
         "Property '%s.bogus' not found" % CPU),
        ("add-integer-checked-first", dict(props(2), **{"driver": CPU, "socket-id": "x"}),
         "Parameter 'socket-id' expects integer"),
        ("add-duplicate-id-checked-first", dict(props(2), driver=CPU, id="cold1"),
         "Duplicate device ID 'cold1'"),
    ]
    for name, args, desc in cases:
        t.case(name, lambda a=args, d=desc: refuse(vm, snap[0], "device_add", a, G, d))
    t.case("hmp-add-refused", lambda: hmp_refuse(
        vm, snap[0], "device_add %s,socket-id=0,core-id=2,thread-id=0" % CPU, HOTPLUG_MSG,
        hint="update machine type to newer than 5.1 and firmware that suppors CPU hotplug "
             "with SMM"))
    t.case("del-refused", lambda: refuse(vm, snap[0], "device_del", {"id": "cold1"}, G,
                                         UNPLUG_MSG))
    t.case("del-boot-cpu", lambda: refuse(vm, snap[0], "device_del", {"id": BOOT_PATH}, G,
                                          "Boot CPU is unpluggable"))
    t.case("refusals-change-nothing", lambda: quiet[0].check())

    # qom-get of the negotiated features (platform.md §4.6) and of a CPU's topology
    lpc = "/machine/q35/pcie.0/child[1]"
    t.case("qom-get-negotiated", lambda: expect_return(vm.cmd(
        "qom-get", {"path": lpc, "property": "x-smi-negotiated-features"}), 1))
    t.case("qom-get-cpu-apic-id", lambda: expect_return(vm.cmd(
        "qom-get", {"path": "/machine/peripheral/cold1", "property": "apic-id"}), 1))
    t.case("qom-get-no-device", lambda: expect_error(vm.cmd(
        "qom-get", {"path": "/machine/nosuch", "property": "x"}), "DeviceNotFound",
        "Device '/machine/nosuch' not found"))
    t.case("qom-get-no-property", lambda: expect_error(vm.cmd(
        "qom-get", {"path": BOOT_PATH, "property": "nosuchprop"}), "GenericError",
        "Property '%s.nosuchprop' not found" % CPU))


# ---------------------------------------------------------------- group: N = 0x3

@group("unplug-refused", "-global ICH9-LPC.x-smi-cpu-hotunplug=off: N=0x3, hot-add works "
       "(HMP), device_del refused for cold and hot CPUs")
def g_unplug_refused(t):
    vm = t.vm("n3", ["-global", "ICH9-LPC.x-smi-cpu-hotunplug=off",
                     "-device", "%s,socket-id=0,core-id=1,thread-id=0,id=cold1" % CPU])
    t.case("boot", boot, vm, 3)
    paths = {0: BOOT_PATH, 1: "/machine/peripheral/cold1"}

    def del_cold():
        s = snapshot(vm)
        q = Quiet(vm)
        refuse(vm, s, "device_del", {"id": "cold1"}, "GenericError", UNPLUG_MSG)
        hmp_refuse(vm, s, "device_del cold1", UNPLUG_MSG,
                   hint="update machine type to a version having x-smi-cpu-hotunplug=on and "
                        "firmware that supports CPU hot-unplug with SMM")
        q.check()
    t.case("del-cold-refused", del_cold)

    def hmp_add():
        out = vm.hmp("device_add %s,socket-id=0,core-id=2,thread-id=0,id=c2" % CPU)
        if out != "":
            raise Fail("HMP device_add printed %r" % out)
        wait_hotplugged(vm, 2)
        paths[2] = "/machine/peripheral/c2"
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
    t.case("hmp-add", hmp_add)

    def del_hot():
        s = snapshot(vm)
        q = Quiet(vm)
        refuse(vm, s, "device_del", {"id": "c2"}, "GenericError", UNPLUG_MSG)
        q.check()
    t.case("del-hot-refused", del_hot)


# ---------------------------------------------------------------- group: legacy (-S)

@group("legacy", "-S: prelaunch, 0x0CD8 block in legacy mode, N=0: hot-add allowed, unplug "
       "refused; after cont the firmware boots with the CPUs and unplug works (HMP)")
def g_legacy(t):
    vm = t.vm("legacy", ["-device", "%s,socket-id=0,core-id=1,thread-id=0,id=cold1" % CPU],
              paused=True)
    paths = {0: BOOT_PATH, 1: "/machine/peripheral/cold1"}

    def prelaunch():
        expect_return(vm.cmd("query-status"),
                      {"status": "prelaunch", "singlestep": False, "running": False})
        vm.roundtrip()
        if vm.lines():
            raise Fail("guest ran in prelaunch: %r" % vm.lines()[:2])
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
    t.case("prelaunch", prelaunch)

    def refusals():
        s = snapshot(vm)
        q = Quiet(vm)
        refuse(vm, s, "device_del", {"id": "cold1"}, "GenericError", LEGACY_MSG)
        refuse(vm, s, "device_del", {"id": BOOT_PATH}, "GenericError", "Boot CPU is unpluggable")
        hmp_refuse(vm, s, "device_del cold1", LEGACY_MSG)
        q.check()
    t.case("del-refused-legacy", refusals)

    def add():
        expect_return(vm.cmd("device_add", dict(props(2), driver=CPU, id="c2")), {})
        paths[2] = "/machine/peripheral/c2"
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
        s = snapshot(vm)
        refuse(vm, s, "device_del", {"id": "c2"}, "GenericError", LEGACY_MSG)
    t.case("add-before-negotiation", add)

    def cont():
        expect_return(vm.cmd("cont"), {})
        vm.wait_event("RESUME")
        boot(vm, 7)
        vm.wait_line(r"^smmfw: cpus possible=4 present=3 boot_apic=0$")
        for s in (0, 1, 2):
            vm.wait_line(relocated_rx(s, "boot"))
        expect_return(vm.cmd("query-status"),
                      {"status": "running", "singlestep": False, "running": True})
    t.case("cont-boots-all-cpus", cont)

    def unplug():
        out = vm.hmp("device_del c2")
        if out != "":
            raise Fail("HMP device_del printed %r" % out)
        wait_deleted(vm, 2, "/machine/peripheral/c2", "c2")
        del paths[2]
        expect_cpus(vm, {s: re.escape(p) for s, p in paths.items()})
        expect_hotpluggable(vm, paths)
    t.case("unplug-after-boot", unplug)


# ---------------------------------------------------------------- group: malformed input

# QEMU 7.2's exact replies (reference mode). QEMU's parser is a byte stream parser: a newline
# is only whitespace to it, so a truncated object waits for more input; smmvm may treat each
# line separately. Without reference mode only the shape is required: one or more errors of
# class GenericError whose desc starts with "JSON" (the details come from the JSON library).
def pe(detail):
    return ("GenericError", "JSON parse error, " + detail)


MALFORMED = [
    # name, bytes sent (the suite then sends a query-status with an id), QEMU's replies
    ("truncated-in-string", b'{"execute":"query-status","argu\n', [pe("stray '\"argu\n'")]),
    # cut after a comma; the closing brace on the next line makes a stream parser see the
    # error (a line parser already rejected the first line and rejects "}" as well)
    ("truncated-after-comma", b'{"execute":"query-status",\n}\n', [pe("expecting value")]),
    ("garbage-control-bytes", b'\x01\x02xyz!!\n', [pe("stray '\x01'"), pe("stray '\x02'")]),
    ("garbage-punctuation", b'@#$%\n', [pe("stray '@'")]),
    ("nul-byte", b'\x00\n', [pe("stray ''")]),
    ("invalid-utf8-in-string", b'{"execute":"query-status","id":"\xc3\x28"}\n',
     [pe("invalid UTF-8 sequence in string")]),
    ("overlong-utf8-in-string", b'{"execute":"\xc0\xafx"}\n',
     [pe("invalid UTF-8 sequence in string")]),
    ("invalid-utf8-bare", b'\xff\xfe\n', [pe("stray '\ufffd'"), pe("stray '\ufffd'")]),
    ("bad-escape", b'{"execute":"\\q"}\n', [pe("invalid escape sequence in string")]),
    ("duplicate-key", b'{"execute":"query-status","execute":"stop"}\n', [pe("duplicate key")]),
]


@group("malformed", "malformed JSON, deep nesting, a multi-megabyte string, an unterminated "
       "string, oversized input (RSS bounded); the machine keeps working")
def g_malformed(t):
    vm = t.vm("malformed")
    t.case("boot", boot, vm, 7)
    running = {"status": "running", "singlestep": False, "running": True}
    seq = [0]

    def sync_id():
        seq[0] += 1
        return "sync-%d" % seq[0]

    def sync_cmd(i):
        return json.dumps({"execute": "query-status", "id": i}).encode() + b"\n"

    def collect(until_id):
        """Replies up to the one carrying UNTIL_ID (returned separately)."""
        got = []
        while True:
            m = vm.qmp.reply()
            if m.get("id") == until_id:
                return got, m
            got.append(m)

    def check_errors(got, ref, what, allow=()):
        if not got:
            raise Fail("no error reply for %s" % what)
        for m in got:
            if set(m) != {"error"} or set(m["error"]) != {"class", "desc"}:
                raise Fail("non-error reply to %s: %s" % (what, short(m)))
        pairs = [(m["error"]["class"], m["error"]["desc"]) for m in got]
        if t.reference and ref is not None:
            if pairs != ref:
                raise Fail("reference replies %s, want %s" % (short(pairs), short(ref)))
            return
        for cls, desc in pairs:
            if (cls, desc) in allow:
                continue
            if cls != "GenericError" or not desc.startswith("JSON"):
                raise Fail("reply to %s: %s %r, want GenericError 'JSON ...'" % (
                    what, cls, short(desc)))

    def answered(r):
        expect_return(r, running)

    def malformed(data, ref):
        i = sync_id()
        vm.qmp.send(data + sync_cmd(i))
        got, r = collect(i)
        try:
            check_errors(got, ref, repr(data[:40]))
            answered(r)
        finally:
            if r.get("return", {}).get("status") == "paused":
                vm.cmd("cont")  # e.g. a duplicate key taken as "stop": let later cases run
    for name, data, ref in MALFORMED:
        t.case(name, malformed, data, ref)

    def unterminated():
        # the valid command on the next line must still be answered
        vm.qmp.send(b'{"execute":"query-status\n' + sync_cmd("after"))
        got, r = collect("after")
        check_errors(got, [pe("stray '\"query-status\n'")], "unterminated string")
        answered(r)
    t.case("unterminated-string-then-command", unterminated)

    def deep_nesting():
        n = 100000
        if t.reference:
            # QEMU 7.2 (json-streamer MAX_NESTING 1024) reports each 1025th '[' and starts
            # over, so 100000 % 1025 = 575 brackets stay open and swallow the next command:
            # only the closing brackets get the connection back. Recorded, never required.
            i1, i2 = sync_id(), sync_id()
            vm.qmp.send(b"[" * n + b"\n" + sync_cmd(i1) + b"]" * (n % 1025) + b"\n" +
                        sync_cmd(i2))
            got, r = collect(i2)
            want = [("GenericError", "JSON nesting depth limit exceeded")] * (n // 1025) + \
                [("GenericError", "QMP input must be a JSON object")]
            check_errors(got, want, "100000 '['")
            answered(r)
            return ("reference: QEMU 7.2 gives %d depth errors and keeps %d '[' open; the "
                    "following command is swallowed until they are closed" % (n // 1025,
                                                                               n % 1025))
        i = sync_id()
        vm.qmp.send(b"[" * n + b"\n" + sync_cmd(i))
        got, r = collect(i)
        check_errors(got, None, "100000 '['")
        answered(r)
        return None
    t.case("deep-nesting-100000", deep_nesting)

    def big_string():
        # 2 MiB command name: QEMU reads QMP input byte by byte (~0.3 MB/s), so "multi-
        # megabyte" stays at 2 MiB. CommandNotFound with the whole name, or a JSON error if
        # the emulator limits the message size.
        name = "a" * (2 * MIB)
        i = sync_id()
        vm.qmp.send(b'{"execute":"' + name.encode() + b'"}\n' + sync_cmd(i))
        got, r = collect(i)
        cnf = ("CommandNotFound", "The command %s has not been found" % name)
        check_errors(got, [cnf], "2 MiB string", allow=(cnf,))
        answered(r)
    t.case("multi-megabyte-string", big_string)

    def flood():
        mib = t.opts.flood_mib
        before = vm.rss_kib()
        vm.qmp.send(b'{"execute":"')
        chunk = b"x" * MIB
        for _ in range(mib):
            vm.qmp.send(chunk)
            if not vm.alive():
                raise Fail("emulator died during the flood: %s" % vm.stderr_tail())
        mid = vm.rss_kib()
        i = sync_id()
        vm.qmp.send(b"\n" + sync_cmd(i))
        got, r = collect(i)
        check_errors(got, None, "%d MiB without a newline" % mib)
        answered(r)
        after = vm.rss_kib()
        grow = max(mid, after) - before
        if grow > 64 * 1024:
            raise Fail("VmRSS grew by %d KiB (before %d, after flood %d, after sync %d)" % (
                grow, before, mid, after))
        return "flood %d MiB: VmRSS %+d KiB; replies: %s" % (
            mib, grow, short([m["error"]["desc"][:40] for m in got], 120))
    t.case("oversized-input", flood)

    def machine_alive():
        # the guest still runs and still handles hot-plug after all of the above
        expect_return(vm.cmd("device_add", dict(props(1), driver=CPU, id="c1")), {})
        wait_hotplugged(vm, 1)
        expect_cpus(vm, {0: re.escape(BOOT_PATH), 1: re.escape("/machine/peripheral/c1")})
    t.case("machine-still-works", machine_alive)


# ---------------------------------------------------------------- group: connections

@group("connection", "a second client waits for the first; disconnect mid-message and before "
       "the reply; each new client starts from scratch; the machine keeps working")
def g_connection(t):
    vm = t.vm("connection")
    t.case("boot", boot, vm, 7)
    running = {"status": "running", "singlestep": False, "running": True}

    def ensure_connected():
        """Setup for the cases after a connection case failed: reconnect, patiently (the
        failing case has already been reported)."""
        if not vm.qmp.closed:
            return
        deadline = time.monotonic() + t.opts.timeout
        while True:
            try:
                vm.connect()
                vm.negotiate()
                return
            except Fail:
                if time.monotonic() > deadline or not vm.alive():
                    raise
                time.sleep(0.5)

    def second_client_waits():
        # QEMU serves one client per socket; a second connection is not refused but waits
        # (no greeting) until the first one goes away, then gets its greeting
        first = vm.qmp
        second = Qmp(vm.qmp_path, t.opts.timeout, vm.proc)
        try:
            expect_return(vm.cmd("query-status"), running)   # the first client still works
            r, _, _ = select.select([second.sock], [], [], 0)
            if r:
                second._recv_some()
                if second.closed:
                    raise Fail("the second client's connection was closed while the first "
                               "is active (QEMU keeps it waiting)")
                raise Fail("the second client got data while the first is active: %r"
                           % bytes(second.buf[:100]))
            first.close()
            vm.qmp = second
            g = second.recv()
            if set(g) != {"QMP"}:
                raise Fail("second client greeting: %s" % short(g))
            expect_error(vm.cmd("query-status"), "CommandNotFound", NEGOTIATE_MSG)
            vm.negotiate()
            expect_return(vm.cmd("query-status"), running)
        finally:
            first.close()
    t.case("second-client-waits-for-first", second_client_waits)

    def disconnect_mid_message():
        ensure_connected()
        vm.qmp.send(b'{"execute":"query-st')
        vm.qmp.close()
        g = vm.connect()    # the next client connects at once and must start from scratch
        if set(g) != {"QMP"}:
            raise Fail("next client greeting: %s" % short(g))
        expect_error(vm.cmd("query-status"), "CommandNotFound", NEGOTIATE_MSG)
        vm.negotiate()
        expect_return(vm.cmd("query-status"), running)
    t.case("disconnect-mid-message", disconnect_mid_message)

    def disconnect_before_reply():
        # the reply goes to a closed socket: the emulator must survive (no SIGPIPE)
        ensure_connected()
        vm.qmp.send(b'{"execute":"query-hotpluggable-cpus"}\n')
        vm.qmp.close()
        if vm.died(2):
            raise Fail("emulator exited (status %s) after the client left before its reply"
                       % exit_status(vm.proc.returncode))
        vm.connect()
        vm.negotiate()
        expect_return(vm.cmd("query-status"), running)
    t.case("disconnect-before-reply", disconnect_before_reply)

    def machine_alive():
        ensure_connected()
        expect_return(vm.cmd("device_add", dict(props(1), driver=CPU, id="c1")), {})
        wait_hotplugged(vm, 1)
        expect_cpus(vm, {0: re.escape(BOOT_PATH), 1: re.escape("/machine/peripheral/c1")})
    t.case("machine-still-works", machine_alive)


# ---------------------------------------------------------------- main

def main():
    root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--emulator", default=os.path.join(root, "build/smmvm"))
    ap.add_argument("--bios", default=os.path.join(root, "build/firmware/smmfw.bin"))
    ap.add_argument("--payload", default=os.path.join(root, "build/firmware/payload.elf"))
    ap.add_argument("--accel", default=None,
                    help="-accel value; '' passes none (default: tcg for qemu*, none otherwise)")
    ap.add_argument("--extra", default="", help="extra emulator flags, shell-quoted")
    ap.add_argument("--only", default="", help="comma-separated group names")
    ap.add_argument("--timeout", type=float, default=30.0, help="per wait, wall seconds")
    ap.add_argument("--flood-mib", type=int, default=None,
                    help="size of the oversized-input flood (default 64; 8 in reference mode, "
                         "because QEMU 7.2 reads QMP input one byte at a time)")
    ap.add_argument("--reference", dest="reference", action="store_true", default=None,
                    help="treat the emulator as the reference (default: name starts with qemu)")
    ap.add_argument("--no-reference", dest="reference", action="store_false")
    ap.add_argument("--keep", action="store_true", help="keep logs in the work directory")
    ap.add_argument("--list", action="store_true")
    opts = ap.parse_args()

    if opts.list:
        for name, desc, _ in GROUPS:
            print("%-16s %s" % (name, desc))
        return 0
    base = os.path.basename(opts.emulator)
    if opts.reference is None:
        opts.reference = base.startswith("qemu")
    if opts.accel is None:
        opts.accel = "tcg" if base.startswith("qemu") else ""
    if opts.flood_mib is None:
        opts.flood_mib = 8 if opts.reference else 64
    if not shutil.which(opts.emulator) and not os.access(opts.emulator, os.X_OK):
        print("FAIL setup: no emulator %s" % opts.emulator)
        print("0 passed, 1 failed")
        return 1
    for path in (opts.bios, opts.payload):
        if not os.path.exists(path):
            print("FAIL setup: missing %s (build with: make firmware)" % path)
            print("0 passed, 1 failed")
            return 1
    only = set(filter(None, opts.only.split(",")))
    unknown = only - {g[0] for g in GROUPS}
    if unknown:
        print("unknown group(s): %s" % ", ".join(sorted(unknown)))
        return 2
    workdir = tempfile.mkdtemp(prefix="smmvm-qmp-")
    suite = Suite(opts, workdir)
    print("# %s%s, logs in %s" % (opts.emulator, " (reference)" if opts.reference else "",
                                  workdir), flush=True)
    for name, desc, fn in GROUPS:
        if only and name not in only:
            continue
        suite.prefix = name + "."
        try:
            fn(suite)
        except Fail as e:           # the group's emulator did not even start
            suite._fail(name, str(e))
        finally:
            suite.close_vms()
    if suite.failed == 0 and not opts.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (suite.passed, suite.failed))
    return 1 if suite.failed else 0


if __name__ == "__main__":
    sys.exit(main())
