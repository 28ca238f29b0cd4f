#!/usr/bin/env python3
"""Rolling restart of a running cluster while its users chat: no acknowledged message lost, none stored twice.

Usage: scripts/cluster-rolling-restart.py PATH/TO/parley-server POSTGRES_URL
POSTGRES_URL is a throwaway server from scripts/postgres-temp; a database of its own is created and dropped with psql.

Three nodes share #r. Three talkers (one per node to begin with) each send a labeled line every 50 ms with
echo-message (each echo is an acknowledgement). Every node in turn gets SIGTERM, must exit 0, and is started again
on the same port and node name; its talker reconnects to the next node and goes on. Afterwards every acknowledged
msgid must be in CHATHISTORY exactly once, no msgid may be stored twice, no connection may have received a live
message twice, and every talker must have been acknowledged again after each restart.
Only the standard library is used.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import clusternodes
from clusternodes import psql
from rawirc import Client, command, free_port, tags, trailing

LEASE = 3


def fail(message):
    clusternodes.fail("cluster-rolling-restart", message)


def start(binary, port, database, node, data):
    return clusternodes.start(binary, port, database, node, data, LEASE)


class Talker(threading.Thread):
    """Talks on one node; when its connection ends it moves to the node the server pointed it at (010), or else to
    the next node that takes it."""

    def __init__(self, name, ports, index):
        super().__init__(daemon=True)
        self.name, self.ports, self.index = name, ports, index
        self.acked = {}            # msgid -> (text, time acknowledged)
        self.connections = []      # live msgids received, one list per connection
        self.sent = 0
        self.moves = 0
        self.hint = None           # the port of the last 010 (RPL_BOUNCE) received
        self.hinted = 0            # moves made to the node a 010 named
        self.finish = threading.Event()
        self.error = None
        # Kept open after the talking stops: an unregistered channel's history ends when its last member leaves.
        self.client = None

    def connect(self):
        hint, self.hint = self.hint, None
        while not self.finish.is_set():
            port = hint or self.ports[self.index % len(self.ports)]
            try:
                client = Client(port, f"{self.name}x{self.moves}", "#r", "cluster-rolling-restart")
                client.sock.settimeout(0.02)
                self.connections.append([])
                if hint:
                    self.hinted += 1
                return client
            except (OSError, SystemExit):
                if hint:
                    hint = None
                    continue
                self.index += 1
                time.sleep(0.2)
        return None

    def run(self):
        try:
            client = self.client = self.connect()
            while client and not self.finish.is_set():
                try:
                    label = f"{self.name}-{self.sent}"
                    client.send(f"@label={label} PRIVMSG #r :{label}")
                    self.sent += 1
                    until = time.monotonic() + 0.05
                    while time.monotonic() < until:
                        try:
                            lines = client.lines()
                        except socket.timeout:
                            continue
                        if lines is None:
                            raise ConnectionError("closed")
                        for line in lines:
                            kind = command(line)
                            if kind == "PING":
                                client.send("PONG :" + trailing(line))
                            elif kind == "ERROR":
                                raise ConnectionError(line)
                            elif kind == "010":
                                # [@tags] :server 010 nick host port :text
                                words = line.split(" ")
                                words = words[1:] if words[0].startswith("@") else words
                                self.hint = int(words[4 if words[0].startswith(":") else 3])
                            elif kind == "PRIVMSG":
                                found = tags(line)
                                if "label" in found:
                                    self.acked[found["msgid"]] = (trailing(line), time.monotonic())
                                elif "batch" not in found:
                                    self.connections[-1].append(found.get("msgid"))
                except (ConnectionError, OSError):
                    self.moves += 1
                    self.index += 1
                    client = self.client = self.connect()
        except Exception as error:  # reported by the main thread
            self.error = error


def main():
    binary, url = sys.argv[1], sys.argv[2]
    name = f"parley_rolling_{os.getpid()}"
    psql(url, f"CREATE DATABASE {name}")
    database = url.replace("/postgres?", f"/{name}?")
    work = tempfile.mkdtemp(prefix="parley-rolling-")
    nodes, ports = {}, {}
    try:
        for node in ("n1", "n2", "n3"):
            ports[node] = free_port()
            os.mkdir(os.path.join(work, node))
            nodes[node] = start(binary, ports[node], database, node, os.path.join(work, node))
        order = list(ports.values())
        talkers = [Talker(f"t{i}", order, i) for i in range(3)]
        for talker in talkers:
            talker.start()
        time.sleep(3)
        stops = []
        for node in ("n1", "n2", "n3"):
            restarted_at = time.monotonic()
            nodes[node].send_signal(signal.SIGTERM)
            try:
                code = nodes[node].wait(timeout=30)
            except subprocess.TimeoutExpired:
                fail(f"{node} did not stop within 30 s of SIGTERM")
            if code != 0:
                fail(f"{node} exited {code} on SIGTERM")
            stopped = time.monotonic() - restarted_at
            nodes[node] = start(binary, ports[node], database, node, os.path.join(work, node))
            stops.append(f"{node} stopped in {stopped:.2f} s")
            time.sleep(3)
            for talker in talkers:
                if not any(at > restarted_at for _, at in talker.acked.values()):
                    fail(f"{talker.name} was not acknowledged again after {node} restarted")
        for talker in talkers:
            talker.finish.set()
        for talker in talkers:
            talker.join(timeout=30)
            if talker.error:
                fail(f"{talker.name}: {talker.error!r}")
        # Only a member reads a channel's history; what joining replays is read past first.
        checker = Client(ports["n1"], "checker", "#r", "cluster-rolling-restart")
        checker.send("PING :replayed")
        checker.until(lambda l: command(l) == "PONG" and trailing(l) == "replayed")
        stored = checker.history("#r")
        twice = len(stored) - len(set(stored))
        if twice:
            fail(f"{twice} msgids are stored twice")
        acked = {msgid for talker in talkers for msgid in talker.acked}
        lost = acked - set(stored)
        if lost:
            fail(f"{len(lost)} acknowledged messages are not in CHATHISTORY, e.g. {sorted(lost)[:5]}")
        repeated = sum(len(live) - len(set(live)) for talker in talkers for live in talker.connections)
        if repeated:
            fail(f"{repeated} messages reached a connection twice")
        sent = sum(talker.sent for talker in talkers)
        moves = sum(talker.moves for talker in talkers)
        hinted = sum(talker.hinted for talker in talkers)
        if hinted != moves:
            fail(f"{moves - hinted} of {moves} moves were not to the node the server named (010)")
        print(f"cluster-rolling-restart: 3 nodes restarted one at a time ({', '.join(stops)}) while 3 talkers sent "
              f"{sent} lines: {len(acked)} acknowledged, all in CHATHISTORY once ({len(stored)} stored), "
              f"none twice on any connection; talkers moved node {moves} times, each to the node the 010 named")
    finally:
        clusternodes.stop_all(nodes.values(), url, name)


if __name__ == "__main__":
    main()
