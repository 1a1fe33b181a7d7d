#!/usr/bin/env python3
"""hmp.py - runs HMP commands on a monitor unix socket (QEMU's or smmvm's).

    hmp.py SOCKET DEBUGCON_FILE OUT_FILE CMD...

Waits (up to 30 s) until the socket accepts and DEBUGCON_FILE ends with "done" (the ROM
reached its final state), then sends each CMD, writes everything the monitor answered to
OUT_FILE and finally sends "quit". The prompt is "(qemu) " or "(smmvm) ".
"""
import os
import re
import socket
import sys
import time

PROMPT = re.compile(rb"\((qemu|smmvm)\) $")


def read_until_prompt(s):
    data = b""
    deadline = time.time() + 30
    while not PROMPT.search(data):
        if time.time() > deadline:
            raise SystemExit("hmp.py: no prompt from the monitor")
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def main():
    sock_path, debugcon, out_path = sys.argv[1:4]
    cmds = sys.argv[4:]
    deadline = time.time() + 30
    while True:
        try:
            if os.path.exists(debugcon) and open(debugcon, "rb").read().endswith(b"done\n"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock_path)
                break
        except OSError:
            pass
        if time.time() > deadline:
            raise SystemExit("hmp.py: the ROM did not reach 'done' or the socket did not open")
        time.sleep(0.05)
    read_until_prompt(s)
    out = b""
    for cmd in cmds:
        s.sendall(cmd.encode() + b"\n")
        text = read_until_prompt(s)
        # QEMU's readline echoes the command with cursor escapes; drop that first line
        text = PROMPT.sub(b"", text)
        first, nl, rest = text.partition(b"\n")
        if b"\x1b[" in first or first.strip() == cmd.encode():
            text = rest
        out += b"### " + cmd.encode() + b"\n" + text.replace(b"\r\n", b"\n")
    s.sendall(b"quit\n")
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
    open(out_path, "wb").write(out)


main()
