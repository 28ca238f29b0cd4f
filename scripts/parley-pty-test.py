#!/usr/bin/env python3
"""`parley` in a pseudo-terminal, as a person runs it, across a server restart: after it reconnects, what is
already on screen is not printed again, and what was said while it was away arrives once.

Usage: scripts/parley-pty-test.py PATH/TO/parley-server PATH/TO/parley
Needs pyte (a terminal emulator in Python) to read the screen as a person sees it.
"""
import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

import pyte

COLUMNS, ROWS = 120, 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, port, data_dir):
    server = subprocess.Popen(
        [binary, "127.0.0.1", "--port", str(port), "--data-dir", data_dir, "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("parley-pty-test: the server did not start")


class Talker:
    """Another user, over a plain socket."""

    def __init__(self, port, nick, caps=""):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""
        if caps:
            self.send(f"CAP REQ :{caps}")
            self.send("CAP END")
        self.send(f"NICK {nick}")
        self.send(f"USER {nick} 0 * :talker")
        self.until(b" 001 ")
        self.send("JOIN #lobby")
        self.until(b" 366 ")

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode())

    def until(self, needle):
        while needle not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise SystemExit(f"parley-pty-test: the talker was cut off waiting for {needle!r}")
            self.buffer += data
        # Answer PINGs on the way (a long wait would otherwise end the connection).
        for line in self.buffer.split(b"\r\n"):
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG" + line[4:] + b"\r\n")


class Terminal:
    """parley on a pseudo-terminal, its output fed to an emulated screen."""

    def __init__(self, parley, port):
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.execv(parley, [parley, f"127.0.0.1:{port}", "--nick", "watcher"])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        os.kill(self.pid, signal.SIGWINCH)

    def pump(self, seconds=0.2):
        deadline = time.time() + seconds
        while time.time() < deadline:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.time()))
            if not ready:
                break
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                break
            self.stream.feed(data)

    def text(self):
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, needle, what, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.pump()
            if needle in self.text():
                return
        raise SystemExit(f"parley-pty-test: {what} never showed; the screen:\n{self.text()}")

    def type(self, line):
        os.write(self.fd, line.encode() + b"\r")

    def close(self):
        try:
            self.type("/quit")
            self.pump(1)
        finally:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)


def main():
    server_binary, parley = sys.argv[1], sys.argv[2]
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="parley-pty-")
    server = start_server(server_binary, port, data_dir)
    terminal = None
    try:
        terminal = Terminal(parley, port)
        terminal.wait_for("#lobby", "the #lobby window")
        talker = Talker(port, "talker")
        terminal.wait_for("talker joined", "the talker's JOIN")
        for index in range(1, 4):
            talker.send(f"PRIVMSG #lobby :before the restart {index}")
        terminal.wait_for("before the restart 3", "the lines before the restart")

        # The server goes away and comes back on the same data: parley reconnects by itself.
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        terminal.wait_for("Reconnecting", "parley noticing the server gone")
        server = start_server(server_binary, port, data_dir)
        talker = Talker(port, "talker")
        talker.send("PRIVMSG #lobby :after the restart")
        terminal.wait_for("after the restart", "the line said after the restart", timeout=90)
        terminal.pump(2)  # anything printed late (a history page) is on screen too

        screen = terminal.text()
        for index in range(1, 4):
            count = screen.count(f"before the restart {index}")
            assert count == 1, f"'before the restart {index}' is on screen {count} times:\n{screen}"
        assert screen.count("after the restart") == 1, f"the new line is not there once:\n{screen}"

        # A paste of several lines (the terminal's bracketed paste mode, CRs for line breaks) goes out as one
        # draft/multiline message: a client with the capability gets one batch, one without it the lines.
        coder = Talker(port, "coder", caps="batch draft/multiline")
        terminal.wait_for("coder joined", "the coder's JOIN")
        os.write(terminal.fd, b"\x1b[200~def f():\r    return 1\r\x1b[201~")
        coder.until(b"BATCH -")
        batch = coder.buffer.decode(errors="replace")
        assert "draft/multiline #lobby" in batch and "PRIVMSG #lobby :    return 1" in batch, batch
        talker.until(b"PRIVMSG #lobby :    return 1")
        terminal.wait_for("    return 1", "the pasted snippet on parley's own screen")
        print("parley-pty-test: ok (after a reconnect, three lines shown once each, the new one once; "
              "a paste of two lines went out as one multiline batch)")
    finally:
        if terminal:
            terminal.close()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
