#!/usr/bin/env python3
"""Abuse case: a channel with 10,000 members, on the built binaries (two processes, so neither needs 20,000 file
descriptors).

Usage: scripts/big-channel.py PATH/TO/parley-server PATH/TO/parley-bench
parley-bench joins 1,000 and then 10,000 clients to one channel and sends into it; a probe client in the channel
checks that NAMES and WHO list every member, and times them: 10 times the members may cost about 10 times as much,
not 100 (no quadratic behaviour; the bound asserted is 30x). Afterwards the server must serve a fresh client and hold
no more file descriptors than before.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Probe:
    def __init__(self, port, nick):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buffer = b""
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :probe")
        self.until(b"376", b"422")

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode())

    @staticmethod
    def command(line):
        parts = line.split(b" ", 2)
        return parts[1] if len(parts) > 1 and line.startswith(b":") else b""

    @staticmethod
    def trailing(line):
        """The last parameter (written without a colon when it has no space)."""
        return line.split(b" :", 1)[1] if b" :" in line else line.rsplit(b" ", 1)[-1]

    def until(self, *commands, timeout=120):
        """Reads until a line whose command is one of `commands` (numerics as bytes, e.g. b"366")."""
        self.sock.settimeout(timeout)
        scanned = 0
        while True:
            end = self.buffer.rfind(b"\r\n")
            if end > scanned:
                for line in self.buffer[scanned:end].split(b"\r\n"):
                    if self.command(line) in commands:
                        return
                scanned = end + 2
            data = self.sock.recv(1 << 20)
            if not data:
                raise SystemExit(f"big-channel: the server closed the probe's connection: {self.buffer[-300:]!r}")
            self.buffer += data
        # The probe speaks at least once a second, so the server never has a reason to PING it.

    def exchange(self, command, end):
        """Sends a command; returns its reply lines (up to and with the `end` numeric) and the seconds it took."""
        self.buffer = b""
        started = time.perf_counter()
        self.send(command)
        self.until(end)
        elapsed = time.perf_counter() - started
        lines = [line for line in self.buffer.split(b"\r\n") if line]
        return lines, elapsed

    def names(self, channel):
        lines, elapsed = self.exchange(f"NAMES {channel}", b"366")
        entries = [name for line in lines if self.command(line) == b"353" for name in self.trailing(line).split()]
        return len(entries), elapsed

    def who(self, channel):
        lines, elapsed = self.exchange(f"WHO {channel}", b"315")
        return sum(1 for line in lines if self.command(line) == b"352"), elapsed


def phase(server_port, bench, members, server_pid):
    channel = "#bench0"
    # The probe stays outside the channel (it is not secret, and the members are not invisible), so it is not sent
    # every member's JOIN while it waits.
    probe = Probe(server_port, f"probe{members}")
    bench_run = subprocess.Popen(
        [bench, "fanout", "--port", str(server_port), "--clients", str(members), "--senders", "1", "--rate", "1",
         "--duration", "25", "--warmup", "1", "--connect-rate", "2000"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.time() + 600
    count = 0
    while count < members:
        if time.time() > deadline or bench_run.poll() is not None:
            raise SystemExit(f"big-channel: only {count} of {members} members in {channel}")
        time.sleep(1)
        count, _ = probe.names(channel)
    names = min(probe.names(channel)[1] for _ in range(3))
    who_counts, who_times = zip(*[probe.who(channel) for _ in range(3)])
    assert all(c == members for c in who_counts), f"WHO listed {who_counts}, expected {members}"
    count, _ = probe.names(channel)
    assert count == members, f"NAMES listed {count}, expected {members}"
    print(f"big-channel: {members} members: NAMES {names * 1000:.1f} ms, WHO {min(who_times) * 1000:.1f} ms "
          f"(best of 3), server fds {open_fds(server_pid)}", flush=True)
    output, _ = bench_run.communicate(timeout=300)
    if bench_run.returncode != 0:
        raise SystemExit(f"big-channel: parley-bench failed:\n{output}")
    probe.sock.close()
    return names, min(who_times)


def main():
    server_binary, bench = sys.argv[1], sys.argv[2]
    port = free_port()
    environment = dict(os.environ, PARLEY_MAX_CONNECTIONS_PER_IP="100000")
    log = tempfile.NamedTemporaryFile(prefix="parley-big-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [server_binary, "127.0.0.1", "--port", str(port), "--flood-control", "off", "--history", "off",
         "--data-dir", tempfile.mkdtemp(prefix="parley-big-")],
        stdout=subprocess.PIPE, stderr=log, text=True, env=environment,
    )
    try:
        if "listening" not in server.stdout.readline():
            raise SystemExit("big-channel: the server did not start")
        small = phase(port, bench, 1000, server.pid)
        # Counted after a first round: the server opens a few descriptors of its own lazily.
        time.sleep(2)
        baseline = open_fds(server.pid)
        large = phase(port, bench, 10000, server.pid)
        for what, (a, b) in (("NAMES", (small[0], large[0])), ("WHO", (small[1], large[1]))):
            # Under half a millisecond (a release build's NAMES of 1,000 members) the figure is a round trip and the
            # scheduler's whims, not the work: the small case counts as at least that.
            ratio = b / max(a, 5e-4)
            print(f"big-channel: {what} at 10,000 members took {ratio:.1f}x its time at 1,000", flush=True)
            assert ratio < 30, f"{what} grew {ratio:.1f}x for 10x the members: quadratic?"
        # 10,000 members leaving means 50 million QUIT deliveries to the others: give an unoptimized build time.
        deadline = time.time() + 900
        while open_fds(server.pid) > baseline and time.time() < deadline:
            time.sleep(0.5)
        assert open_fds(server.pid) <= baseline, f"fds {open_fds(server.pid)} > {baseline} before"
        fresh = Probe(port, "fresh")
        fresh.send("PING alive")
        fresh.until(b"PONG")
        print(f"big-channel: ok (server fds back to {open_fds(server.pid)}, a fresh client served)")
    except BaseException:
        print(f"big-channel: server exit status {server.poll()}; its log ends:", flush=True)
        with open(log.name, errors="replace") as text:
            print("".join(text.readlines()[-15:]), flush=True)
        raise
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
