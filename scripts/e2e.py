#!/usr/bin/env python3
"""End-to-end check: the built parley-server binary driven by Python's `irc` package, an independent IRC client.

Usage: scripts/e2e.py PATH/TO/parley-server
Starts the server on a free loopback port, has two clients register, join #lobby, chat, collide on a nick, quit with
a reason; then sends SIGTERM and checks that clients are told and the server exits 0.
"""
import signal
import socket
import subprocess
import sys
import tempfile
import time

import irc.client


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    def __init__(self, reactor, nick, port):
        self.events = []
        self.connection = reactor.server().connect("127.0.0.1", port, nick)
        for kind in ["welcome", "join", "pubmsg", "privmsg", "quit", "nicknameinuse", "error", "namreply", "part"]:
            reactor.add_global_handler(kind, self.record, 0)

    def record(self, connection, event):
        if connection is self.connection:
            self.events.append(event)


def wait_for(reactor, predicate, what, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        reactor.process_once(0.05)
        if predicate():
            return
    raise SystemExit(f"e2e: timed out waiting for {what}")


def has(recorder, kind, check=lambda e: True):
    return any(e.type == kind and check(e) for e in recorder.events)


def main():
    binary = sys.argv[1]
    port = free_port()
    server = subprocess.Popen(
        [binary, "127.0.0.1", "--port", str(port), "--flood-control", "off", "--data-dir",
         tempfile.mkdtemp(prefix="parley-e2e-")],  # fresh: old history would be replayed on JOIN
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = server.stdout.readline()
        if f":{port}" not in banner or "parley" not in banner:
            raise SystemExit(f"e2e: unexpected banner {banner!r}")
        reactor = irc.client.Reactor()
        alice = Recorder(reactor, "alice", port)
        bob = Recorder(reactor, "bob", port)
        wait_for(reactor, lambda: has(alice, "welcome") and has(bob, "welcome"), "welcome")

        alice.connection.join("#lobby")
        wait_for(reactor, lambda: has(alice, "join"), "alice's join")
        bob.connection.join("#lobby")
        wait_for(reactor, lambda: has(alice, "join", lambda e: e.source.nick == "bob"), "bob's join seen by alice")

        for i in range(20):
            alice.connection.privmsg("#lobby", f"hello {i}")
        wait_for(reactor, lambda: sum(e.type == "pubmsg" for e in bob.events) == 20, "20 messages at bob")
        texts = [e.arguments[0] for e in bob.events if e.type == "pubmsg"]
        assert texts == [f"hello {i}" for i in range(20)], texts

        bob.connection.privmsg("alice", "a private word")
        wait_for(reactor, lambda: has(alice, "privmsg"), "DM at alice")

        carol = Recorder(reactor, "alice", port)
        wait_for(reactor, lambda: has(carol, "nicknameinuse"), "433 for a taken nick")
        carol.connection.disconnect()

        bob.connection.quit("see you")
        wait_for(
            reactor,
            lambda: has(alice, "quit", lambda e: e.source.nick == "bob" and e.arguments == ["Quit: see you"]),
            "bob's quit reason at alice",
        )

        server.send_signal(signal.SIGTERM)
        wait_for(
            reactor,
            lambda: has(alice, "error", lambda e: "Server shutting down" in (e.target or "") + " ".join(e.arguments)),
            "shutdown ERROR at alice",
        )
        code = server.wait(timeout=10)
        if code != 0:
            raise SystemExit(f"e2e: server exited with {code}")
        print("e2e: 7 passed, 0 failed")
    finally:
        if server.poll() is None:
            server.kill()


if __name__ == "__main__":
    main()
