#!/usr/bin/env python3
"""Crash test: no acknowledged message is lost when the server is killed with SIGKILL.

Usage: scripts/crash-test.py PATH/TO/parley-server [SECONDS]
A client streams labeled PRIVMSGs (up to 64 unacknowledged at a time) to a channel with echo-message; every echo is
an acknowledgement. After SECONDS (default 1.5) the server gets SIGKILL mid-stream; it is started again on the same
data directory, and CHATHISTORY must return every acknowledged message. Only the standard library is used.
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


def start(binary, port, data):
    server = subprocess.Popen(
        [binary, "127.0.0.1", "--port", str(port), "--flood-control", "off", "--data-dir", data],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    banner = server.stdout.readline()
    if f":{port}" not in banner:
        server.kill()
        raise SystemExit(f"crash-test: unexpected banner {banner!r}")
    return server


class Client:
    def __init__(self, port, nick):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.pending = []
        caps = "echo-message labeled-response batch server-time message-tags draft/chathistory"
        self.send(f"CAP REQ :{caps}\r\nNICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nCAP END\r\nJOIN #crash")
        self.until(lambda line: " 366 " in line)

    def send(self, text):
        self.sock.sendall((text + "\r\n").encode())

    def lines(self):
        """Lines read so far and then some; empty when the connection closed."""
        data = self.sock.recv(65536)
        if not data:
            return None
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\r\n")
        return [line.decode() for line in complete]

    def until(self, predicate):
        while True:
            while self.pending:
                line = self.pending.pop(0)
                if predicate(line):
                    return line
            lines = self.lines()
            if lines is None:
                raise SystemExit("crash-test: connection closed while waiting")
            self.pending = lines


def tags(line):
    if not line.startswith("@"):
        return {}
    out = {}
    for field in line[1:].split(" ", 1)[0].split(";"):
        key, _, value = field.partition("=")
        out[key] = value
    return out


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
    data = tempfile.mkdtemp(prefix="parley-crash-")
    port = free_port()
    server = start(binary, port, data)
    client = Client(port, "streamer")
    acked = {}  # label -> msgid
    sent = 0
    window = 64
    deadline = time.time() + seconds
    killed = False
    client.sock.settimeout(5)
    while True:
        if not killed and time.time() >= deadline:
            os.kill(server.pid, signal.SIGKILL)
            killed = True
        while not killed and sent - len(acked) < window:
            client.send(f"@label=m{sent} PRIVMSG #crash :message {sent}")
            sent += 1
        try:
            lines = client.lines()
        except (ConnectionResetError, socket.timeout):
            lines = None
        if lines is None:
            break
        for line in lines:
            t = tags(line)
            if " PRIVMSG #crash " in line and "label" in t:
                acked[t["label"]] = t["msgid"]
    server.wait()
    if not killed or not acked:
        raise SystemExit(f"crash-test: the stream ended before the kill (killed={killed}, acked={len(acked)})")

    server = start(binary, port, data)
    try:
        reader = Client(port, "reader")
        stored = set()
        bound = "timestamp=1970-01-01T00:00:00.000Z"
        while True:
            reader.send(f"CHATHISTORY AFTER #crash {bound} 100")
            page = []
            while True:
                line = reader.until(lambda l: " PRIVMSG #crash " in l or "BATCH -" in l)
                if "BATCH -" in line:
                    break
                if " PRIVMSG #crash " in line:
                    page.append(tags(line)["msgid"])
            stored.update(page)
            if len(page) < 100:
                break
            bound = f"msgid={page[-1]}"
        lost = [label for label, msgid in acked.items() if msgid not in stored]
        print(f"crash-test: sent {sent}, acknowledged {len(acked)}, stored after restart {len(stored)}, lost {len(lost)}")
        if lost:
            raise SystemExit(f"crash-test: acknowledged but lost: {lost[:10]}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
