#!/usr/bin/env python3
"""Plays serial devices on kernel pty pairs for the latency benches.

Usage: pty-device.py NAME [NAME ...]

Creates one pty pair per NAME with os.openpty() (no relay process between
the measured process and this one), puts the slave side in raw mode and
prints one JSON line: {"ports": {NAME: "/dev/pts/N", ...}}. The process
under test opens the slave paths; this helper keeps the master sides and
also holds each slave open, so a master never sees a hang-up while the
process under test reopens its port.

Then it answers one JSON command per stdin line with one JSON line:

  {"op": "sample", "write": NAME, "bytes": HEX, "read": NAME, "expect": HEX, "timeoutMs": N}
      Discards whatever is pending on the `read` master, takes
      t0 = time.monotonic_ns(), writes `bytes` to the `write` master in one
      write(2), select()s on the `read` master and takes t1 when it is
      readable (before reading). t0 comes before the write, not after: the
      write wakes the process under test, which may take this helper's
      core before the write returns, and then answers before a t0 read
      after the write (samples of 0.01 ms were seen). Before the write,
      a sample can only come out longer (by the write's few microseconds). Then reads on until `expect`
      has arrived (so a sample is never an unrelated byte).
      -> {"ok": true, "ns": t1 - t0, "t0": t0, "t1": t1} (CLOCK_MONOTONIC ns,
      the clock of process.hrtime.bigint() in node, to line up with traces)
  {"op": "expect", "port": NAME, "bytes": HEX, "timeoutMs": N}
      Reads until `bytes` appears in what the port received since the last
      match, and consumes through it. -> {"ok": true}
  {"op": "write", "port": NAME, "bytes": HEX} -> {"ok": true}

Failures answer {"ok": false, "error": TEXT, "got": HEX}. EOF on stdin ends
the helper. With PTY_DEVICE_LOG=FILE every sample answer is also appended
to FILE (to line samples up with a trace of the process under test).
"""
import gc
import json
import os
import select
import sys
import time
import tty


class Port:
    def __init__(self, name):
        self.name = name
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.received = b""

    def read_available(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except BlockingIOError:
                return
            except OSError:
                # EIO: no process holds the slave open right now.
                return
            if not chunk:
                return
            self.received += chunk

    def wait_for(self, wanted, deadline):
        while wanted not in self.received:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                self.read_available()
        self.received = self.received[self.received.index(wanted) + len(wanted):]
        return True


def write_all(fd, data):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [])


def sample(ports, command):
    out = ports[command["write"]]
    into = ports[command["read"]]
    timeout_s = command.get("timeoutMs", 5000) / 1000
    into.read_available()
    into.received = b""
    data = bytes.fromhex(command["bytes"])
    t0 = time.monotonic_ns()
    write_all(out.master, data)
    ready, _, _ = select.select([into.master], [], [], timeout_s)
    t1 = time.monotonic_ns()
    if not ready:
        return {"ok": False, "error": "no answer", "got": ""}
    into.read_available()
    if not into.wait_for(bytes.fromhex(command["expect"]), time.monotonic() + timeout_s):
        return {"ok": False, "error": "unexpected answer", "got": into.received.hex()}
    return {"ok": True, "ns": t1 - t0, "t0": t0, "t1": t1}


def main():
    names = sys.argv[1:]
    if not names:
        sys.exit("usage: pty-device.py NAME [NAME ...]")
    ports = {name: Port(name) for name in names}
    print(json.dumps({"ports": {name: port.path for name, port in ports.items()}}), flush=True)
    # A collection between write and select would show up as the daemon's latency.
    gc.disable()
    log_path = os.environ.get("PTY_DEVICE_LOG")
    log = open(log_path, "a") if log_path else None
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "sample":
            answer = sample(ports, command)
            if log:
                log.write(json.dumps(answer) + "\n")
                log.flush()
        elif op == "expect":
            port = ports[command["port"]]
            deadline = time.monotonic() + command.get("timeoutMs", 10000) / 1000
            port.read_available()
            answer = {"ok": True} if port.wait_for(bytes.fromhex(command["bytes"]), deadline) else {
                "ok": False, "error": "timed out", "got": port.received.hex()}
        elif op == "write":
            write_all(ports[command["port"]].master, bytes.fromhex(command["bytes"]))
            answer = {"ok": True}
        else:
            answer = {"ok": False, "error": f"unknown op {op}", "got": ""}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
