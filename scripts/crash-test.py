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

from rawirc import Client, free_port, tags


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


def main():
    binary = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.5
    data = tempfile.mkdtemp(prefix="parley-crash-")
    port = free_port()
    server = start(binary, port, data)
    client = Client(port, "streamer", "#crash", name="crash-test")
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
        reader = Client(port, "reader", "#crash", name="crash-test")
        stored = reader.history("#crash")
        if len(stored) != len(set(stored)):
            raise SystemExit(f"crash-test: {len(stored) - len(set(stored))} messages are stored twice")
        kept = set(stored)
        lost = [label for label, msgid in acked.items() if msgid not in kept]
        print(f"crash-test: sent {sent}, acknowledged {len(acked)}, stored after restart {len(stored)}, lost {len(lost)}")
        if lost:
            raise SystemExit(f"crash-test: acknowledged but lost: {lost[:10]}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
