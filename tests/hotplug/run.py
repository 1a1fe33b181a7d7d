#!/usr/bin/env python3
"""CPU hot-plug suite: runs the hot-plug ROMs (tests/hotplug/hp_*.S) on an emulator, drives
them over QMP and compares their debug-console output byte for byte (python3 stdlib only).

    tests/hotplug/run.py --emulator EMU [--accel tcg|''] [--rom-dir build/hotplug]
                         [--only hp_plug,hp_multi] [--timeout 30] [--update] [--keep]
                         [--expected-dir tests/hotplug/expected]
                         [--extra 'more emulator flags, for debugging']

Every ROM runs with the same command line on every emulator:

    EMU -machine q35,smm=on [-accel tcg] -nodefaults -display none -bios NAME.bin -m 128
        -smp 1,maxcpus=4 -chardev file,id=dbg,path=LOG -device isa-debugcon,iobase=0xe9,chardev=dbg
        -device isa-debug-exit,iobase=0xf4,iosize=4 -qmp unix:SOCK,server=on,wait=off

(the ROM framework prints to port 0xE9). Each ROM has a script (SCRIPTS below): wait for a
debug-console line, send a QMP command and check its reply, wait for a QMP event and check
its data exactly. A ROM passes when every step succeeds, the emulator exits with status 1
(isa-debug-exit, value 0), the log equals tests/hotplug/expected/NAME.txt byte for byte, and
no ACPI_DEVICE_OST / DEVICE_DELETED event arrived that the script did not expect.

QEMU 7.2, the reference, crashes when a CPU is plugged into a slot it was ejected from
(hp_replug). A script marks the step from which the reference is allowed to die; on QEMU a
death after that mark is the documented reference result ("reference: QEMU crashed on
re-plug"): the log must then equal the expected file up to the marked line. Any other
emulator (smmvm) must run the whole script.

--update (QEMU only) rewrites expected/NAME.txt from the run, if it ran to "done" and passed
every QMP check; expected/hp_replug.txt is hand-written (QEMU prefix + the lines the spec
implies for a working re-plug) and is only compared, never rewritten.

Prints "ok NAME" or "FAIL NAME: why" per ROM, then "N passed, N failed"; exits 1 on failure.
"""
import argparse
import difflib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CPU_TYPE = "qemu64-x86_64-cpu"
WATCHED = ("ACPI_DEVICE_OST", "DEVICE_DELETED")


class Fail(Exception):
    pass


class Died(Fail):
    """The emulator process ended (or closed QMP) while a step still needed it."""


# ---------------------------------------------------------------- script vocabulary
def line(text):
    return ("line", text)


def qmp(command, reply="ok", **arguments):
    """reply: "ok" ({"return": {}}) or ("error", "exact desc")."""
    return ("qmp", command, arguments, reply)


def event(name, data, reference_may_omit=False):
    """Waits for the first not yet consumed event `name` whose data equals `data` exactly.
    reference_may_omit: QEMU 7.2 never sends it (checked only if it does arrive)."""
    return ("event", name, data, reference_may_omit)


def reference_may_crash(why, keep_until):
    """From here on the reference emulator is allowed to die; its log must then equal the
    expected file up to and including the line keep_until."""
    return ("may_crash", why, keep_until)


def cpu_add(k):
    # -smp 1,maxcpus=4 is one socket of four cores in QEMU 7.2: slot K = core-id K = APIC ID K
    return qmp("device_add", driver=CPU_TYPE, id="cpu%d" % k,
               **{"socket-id": 0, "core-id": k, "thread-id": 0})


def cpu_del(k):
    return qmp("device_del", id="cpu%d" % k)


def ost(k):
    # platform.md §5.3, test 52: _OST event 0x103 (eject request), status 0 (success)
    return event("ACPI_DEVICE_OST", {"info": {"device": "cpu%d" % k, "slot": str(k),
                                              "slot-type": "CPU", "source": 0x103,
                                              "status": 0}})


def deleted(k):
    """The events of an eject. QEMU 7.2 reports only the CPU's local-APIC child: the CPU object
    itself is never finalized after the eject (it leaks, which is also why a re-plug aborts),
    so its own DEVICE_DELETED, the one platform.md §5.5 asks for, never comes. Both shapes are
    checked exactly; the second is required of every emulator but the reference."""
    path = "/machine/peripheral/cpu%d" % k
    return [event("DEVICE_DELETED", {"path": path + "/lapic"}),
            event("DEVICE_DELETED", {"device": "cpu%d" % k, "path": path},
                  reference_may_omit=True)]


SCRIPTS = {
    # one CPU into slot 2 (slot 1 stays empty), started, then unplugged and ejected
    "hp_plug": [
        line("ready: waiting for hot-plug"),
        cpu_add(2),
        line("ready: waiting for unplug"),
        cpu_del(2),
        ost(2),
        *deleted(2),
    ],
    # two device_adds back to back (the second while slot 1's insert is still pending: the ROM
    # services the block only once both are there), then a third; the middle one unplugged
    "hp_multi": [
        line("ready: waiting for hot-plug of slots 1 and 2"),
        cpu_add(1),
        cpu_add(2),
        line("ready: waiting for hot-plug of slot 3"),
        cpu_add(3),
        line("ready: waiting for unplug of slot 2"),
        cpu_del(2),
        ost(2),
        *deleted(2),
    ],
    # plug, run, unplug, plug the same slot again, run again
    "hp_replug": [
        line("ready: waiting for hot-plug"),
        cpu_add(2),
        line("ready: waiting for unplug"),
        cpu_del(2),
        ost(2),
        *deleted(2),
        line("ready: waiting for re-plug"),
        reference_may_crash("QEMU crashed on re-plug", "ready: waiting for re-plug"),
        cpu_add(2),
    ],
}


# ---------------------------------------------------------------- one emulator process
class Vm:
    def __init__(self, opts, workdir, name, bios):
        self.log_path = os.path.join(workdir, name + ".log")
        self.qmp_path = os.path.join(workdir, name + ".qmp")
        self.err_path = os.path.join(workdir, name + ".stderr")
        self.timeout = opts.timeout
        self.events = []        # every event received, in order
        self.used = set()       # indices of events consumed by the script
        self.buf = b""
        self.sock = None
        self.closed = False
        cmd = [opts.emulator, "-machine", "q35,smm=on"]
        if opts.accel:
            cmd += ["-accel", opts.accel]
        cmd += ["-nodefaults", "-display", "none", "-bios", bios, "-m", "128",
                "-smp", "1,maxcpus=4",
                "-chardev", "file,id=dbg,path=" + self.log_path,
                "-device", "isa-debugcon,iobase=0xe9,chardev=dbg",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path]
        cmd += shlex.split(opts.extra)
        self.cmd = cmd
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=subprocess.STDOUT)
        self._connect()

    # -- QMP
    def _connect(self):
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                raise Died("emulator exited at start (status %s): %s" %
                           (self.proc.returncode, self.stderr_tail()))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.qmp_path)
                self.sock = s
                break
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise Fail("no QMP socket after %ss" % self.timeout)
                time.sleep(0.05)
        self.sock.settimeout(self.timeout)
        greeting = self._read_msg()
        if "QMP" not in greeting:
            raise Fail("unexpected QMP greeting %r" % greeting)
        r = self.command("qmp_capabilities")
        if r != ("ok", {}):
            raise Fail("qmp_capabilities: %r" % (r,))

    def _read_msg(self):
        while b"\n" not in self.buf:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                raise Died("QMP connection closed (emulator %s)" % self.describe_exit())
            self.buf += data
        raw, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(raw)
        except ValueError:
            raise Fail("malformed QMP message %r" % raw[:200])

    def command(self, name, **arguments):
        """Returns ("ok", return value) or ("error", desc); events are queued."""
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        try:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
        except OSError as e:
            raise Died("QMP send failed (%s; emulator %s)" % (e, self.describe_exit()))
        while True:
            try:
                r = self._read_msg()
            except socket.timeout:
                raise Fail("no QMP reply to %s within %ss" % (name, self.timeout))
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                return ("error", r["error"].get("desc", ""))
            if "return" in r:
                return ("ok", r["return"])
            raise Fail("unexpected QMP message %r" % r)

    def pump(self, seconds):
        """Reads events for up to `seconds` (returns early on EOF)."""
        if self.closed:
            return
        self.sock.settimeout(max(0.01, seconds))
        try:
            r = self._read_msg()
            if "event" in r:
                self.events.append(r)
        except socket.timeout:
            pass
        except Died:
            pass
        finally:
            if not self.closed:
                self.sock.settimeout(self.timeout)

    def find_event(self, name, data, after):
        for i, e in enumerate(self.events):
            if i > after and i not in self.used and e.get("event") == name and \
                    e.get("data") == data:
                self.used.add(i)
                return i
        return None

    def wait_event(self, name, data, after=-1):
        """Index of the first unconsumed event `name` with exactly `data` after index `after`."""
        deadline = time.monotonic() + self.timeout
        while True:
            i = self.find_event(name, data, after)
            if i is not None:
                return i
            if self.closed or time.monotonic() > deadline:
                seen = [json.dumps(e.get("data")) for j, e in enumerate(self.events)
                        if e.get("event") == name and j not in self.used]
                raise (Died if self.closed else Fail)(
                    "no QMP event %s %s%s (%s%s)" % (
                        name, json.dumps(data),
                        " after the previous ACPI_DEVICE_OST" if after >= 0 else "",
                        ("emulator " + self.describe_exit()) if self.closed
                        else "within %ss" % self.timeout,
                        "; unmatched %s: %s" % (name, ", ".join(seen)) if seen else ""))
            self.pump(min(0.2, max(0.01, deadline - time.monotonic())))

    def unexpected_events(self):
        return [e for i, e in enumerate(self.events)
                if i not in self.used and e.get("event") in WATCHED]

    # -- debug console and process
    def log_bytes(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def lines(self):
        return self.log_bytes().decode("ascii", "replace").splitlines()

    def wait_line(self, text):
        deadline = time.monotonic() + self.timeout
        while True:
            lines = self.lines()
            if text in lines:
                return
            if self.proc.poll() is not None:
                raise Died("emulator %s while waiting for line %r; last line %r" %
                           (self.describe_exit(), text, lines[-1] if lines else ""))
            if time.monotonic() > deadline:
                raise Fail("no line %r within %ss; last line %r" %
                           (text, self.timeout, lines[-1] if lines else ""))
            self.pump(0.02)  # keeps events flowing (and notices a closed socket)

    def wait_exit(self):
        deadline = time.monotonic() + self.timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise Fail("emulator still running %ss after the script ended; last line %r" %
                           (self.timeout, (self.lines() or [""])[-1]))
            self.pump(0.05)
        while not self.closed:  # the socket may still hold events sent before the exit
            self.pump(0.2)
        return self.proc.returncode

    def describe_exit(self):
        rc = self.proc.poll()
        if rc is None:
            try:
                rc = self.proc.wait(2)
            except subprocess.TimeoutExpired:
                return "still running"
        if rc < 0:
            return "killed by signal %d" % -rc
        return "exited with status %d" % rc

    def stderr_tail(self, n=400):
        try:
            with open(self.err_path, "rb") as f:
                return f.read().decode("utf-8", "replace").strip()[-n:]
        except FileNotFoundError:
            return ""

    def close(self):
        if self.proc.poll() is None:
            try:
                self.sock.sendall(b'{"execute":"quit"}\n')
            except (OSError, AttributeError):
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            self.sock.close()
        self.err.close()


# ---------------------------------------------------------------- running one ROM
def diff(expected, actual, label):
    a = expected.decode("ascii", "replace").splitlines(True)
    b = actual.decode("ascii", "replace").splitlines(True)
    d = list(difflib.unified_diff(a, b, "expected/" + label, label + " (actual)", n=2))
    return "".join(d[:80]) + ("...\n" if len(d) > 80 else "")


def prefix_through(data, text):
    """The bytes of data up to and including the line `text` (None if it has no such line)."""
    pos = 0
    for l in data.splitlines(True):
        pos += len(l)
        if l.rstrip(b"\n") == text.encode():
            return data[:pos]
    return None


def run_rom(opts, workdir, name, is_reference):
    """Returns (ok, message, details)."""
    bios = os.path.join(opts.rom_dir, name + ".bin")
    if not os.path.isfile(bios):
        return False, "%s missing (make -C tests/hotplug)" % bios, ""
    exp_path = os.path.join(opts.expected_dir, name + ".txt")
    expected = open(exp_path, "rb").read() if os.path.isfile(exp_path) else None
    crash_mark = None   # (why, keep_until) once the script passed a may_crash step
    omitted = []        # events the reference may omit: (name, data, after)
    early = []          # replies the reference did not send because the ROM had finished
    last_ost = -1       # index of the last ACPI_DEVICE_OST matched: DEVICE_DELETED follows it
    vm = None
    try:
        vm = Vm(opts, workdir, name, bios)
        try:
            for step in SCRIPTS[name]:
                kind = step[0]
                if kind == "line":
                    vm.wait_line(step[1])
                elif kind == "qmp":
                    _, command, arguments, want = step
                    try:
                        r = vm.command(command, **arguments)
                    except Died:
                        # QEMU's isa-debug-exit exits from the vCPU thread: a fast ROM can
                        # finish (and QEMU quit) before the main loop flushes this reply.
                        if not (is_reference and vm.proc.wait(5) == 1):
                            raise
                        early.append("exited before the %s reply" % command)
                        continue
                    want_r = ("ok", {}) if want == "ok" else tuple(want)
                    if r != want_r:
                        raise Fail("%s %s: reply %r, expected %r" %
                                   (command, json.dumps(arguments), r, want_r))
                elif kind == "event":
                    _, ev, data, may_omit = step
                    after = last_ost if ev != "ACPI_DEVICE_OST" else -1
                    if may_omit and is_reference:
                        omitted.append((ev, data, after))  # looked for after the exit
                        continue
                    i = vm.wait_event(ev, data, after)
                    if ev == "ACPI_DEVICE_OST":
                        last_ost = i
                elif kind == "may_crash":
                    crash_mark = (step[1], step[2])
            vm.wait_line("done")
            status = vm.wait_exit()
        except Died as e:
            if not (is_reference and crash_mark):
                raise
            return reference_crash(vm, name, expected, crash_mark, str(e), opts)
        problems = []
        notes = list(early)
        for ev, data, after in omitted:
            if vm.find_event(ev, data, after) is None:
                notes.append("no %s %s" % (ev, json.dumps(data)))
        if status != 1:
            problems.append("exit status %s (expected 1)" % status)
        extra = vm.unexpected_events()
        if extra:
            problems.append("unexpected events: " + "; ".join(
                "%s %s" % (e["event"], json.dumps(e.get("data"))) for e in extra))
        log = vm.log_bytes()
        if opts.update and is_reference and name != "hp_replug":
            if problems:
                return False, "NOT updated: " + ", ".join(problems), ""
            with open(exp_path, "wb") as f:
                f.write(log)
            return True, "updated expected/%s.txt (%d lines)" % (name, log.count(b"\n")), ""
        details = ""
        if expected is None:
            problems.append("no expected file expected/%s.txt" % name)
        elif log != expected:
            problems.append("output differs")
            details = diff(expected, log, name + ".txt")
        if problems:
            return False, ", ".join(problems), details
        if is_reference and name == "hp_replug":
            notes.append("reference survived the re-plug")
        return True, "(reference: %s)" % "; ".join(notes) if notes else "", ""
    except Fail as e:
        details = ""
        if vm is not None:
            log = vm.log_bytes()
            if expected is not None and log != expected:
                details = diff(expected, log, name + ".txt")
            if vm.events:
                details += "--- QMP events received:\n" + "".join(
                    "%s %s\n" % (e.get("event"), json.dumps(e.get("data"))) for e in vm.events)
            err = vm.stderr_tail()
            if err:
                details += "--- emulator output:\n" + err + "\n"
        return False, str(e), details
    finally:
        if vm is not None:
            vm.close()


def reference_crash(vm, name, expected, mark, how, opts):
    """The reference died after the script's may_crash step. Its output, up to the crash, must
    be a prefix of the expected file that reaches at least the marked line (QEMU 7.2 dies at
    the re-plug's device_add or while the re-plugged CPU starts, whichever its heap corruption
    hits first; the lines it printed before dying must still be right)."""
    why, keep_until = mark
    log = vm.log_bytes()
    err = vm.stderr_tail(300)
    detail = "%s%s" % (how, "; " + err.splitlines()[-1] if err else "")
    if expected is None:
        return False, "no expected file expected/%s.txt" % name, ""
    want = prefix_through(expected, keep_until)
    if want is None:
        return False, "expected/%s.txt has no line %r" % (name, keep_until), ""
    if not (log.startswith(want) and expected.startswith(log)):
        cut = expected[:max(len(want), len(log))]
        return False, "reference died (%s) and its output is not a prefix of the expected " \
            "file through %r" % (detail, keep_until), diff(cut, log, name + ".txt (prefix)")
    extra = log.count(b"\n") - want.count(b"\n")
    msg = "(reference: %s: %s; output matches the expected file up to the crash, %d line%s " \
        "after %r)" % (why, detail, extra, "" if extra == 1 else "s", keep_until)
    if opts.update:
        msg = "kept hand-written expected/%s.txt %s" % (name, msg)
    return True, msg, ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--emulator", default="qemu-system-x86_64")
    ap.add_argument("--accel", default="tcg", help="'' to pass no -accel")
    ap.add_argument("--rom-dir", default=os.path.join(REPO, "build", "hotplug"))
    ap.add_argument("--only", default="", help="comma-separated ROM names")
    ap.add_argument("--expected-dir", default=os.path.join(HERE, "expected"))
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per wait")
    ap.add_argument("--update", action="store_true",
                    help="rewrite expected/NAME.txt from this run (QEMU only)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--extra", default="", help="more emulator flags (debugging only)")
    opts = ap.parse_args()

    emu = shutil.which(opts.emulator) or (opts.emulator if os.access(opts.emulator, os.X_OK)
                                          else None)
    if not emu:
        print("run.py: emulator %r not found" % opts.emulator, file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    opts.emulator = emu
    is_reference = os.path.basename(emu).startswith("qemu-system-")
    if opts.update and not is_reference:
        print("run.py: --update takes the reference (qemu-system-*) only", file=sys.stderr)
        return 2
    names = [n for n in opts.only.split(",") if n] or list(SCRIPTS)
    for n in names:
        if n not in SCRIPTS:
            print("run.py: unknown ROM %r (have %s)" % (n, ", ".join(SCRIPTS)), file=sys.stderr)
            return 2

    workdir = tempfile.mkdtemp(prefix="hotplug.")
    passed = failed = 0
    try:
        for n in names:
            ok, msg, details = run_rom(opts, workdir, n, is_reference)
            if ok:
                passed += 1
                print(("ok %s %s" % (n, msg)).rstrip())
            else:
                failed += 1
                print("FAIL %s: %s" % (n, msg))
            if details and not ok:
                sys.stdout.write(details)
            sys.stdout.flush()
    finally:
        if opts.keep:
            print("work directory kept: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
