"""A raw IRC client and line helpers for the test scripts (crash-test.py, cluster-fault-test.py).

Only the standard library: the scripts run before any virtual environment exists.
"""
import socket

CAPS = "echo-message labeled-response batch server-time message-tags draft/chathistory"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tags(line):
    """The message tags of a line, as a dict (values left escaped)."""
    if not line.startswith("@"):
        return {}
    out = {}
    for field in line[1:].split(" ", 1)[0].split(";"):
        key, _, value = field.partition("=")
        out[key] = value
    return out


def command(line):
    """The command (or numeric) of a line, after its tags and source."""
    words = line.split(" ")
    if words[0].startswith("@"):
        words = words[1:]
    if words and words[0].startswith(":"):
        words = words[1:]
    return words[0] if words else ""


def trailing(line):
    """The last parameter of a line (after its tags and source)."""
    if line.startswith("@"):
        line = line.split(" ", 1)[1]
    if line.startswith(":"):
        line = line.split(" ", 1)[1]
    return line.split(" :", 1)[1] if " :" in line else line.split(" ")[-1]


class Client:
    """Registers `nick` with CAPS and joins `channel` (if any); `until` reads lines, answering PINGs."""

    def __init__(self, port, nick, channel=None, name="rawirc"):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""
        self.pending = []
        self.send(f"CAP REQ :{CAPS}\r\nNICK {nick}\r\nUSER {nick} 0 * :{nick}\r\nCAP END")
        self.until(lambda line: command(line) == "001")
        if channel:
            self.send(f"JOIN {channel}")
            self.until(lambda line: command(line) == "366")

    def send(self, text):
        self.sock.sendall((text + "\r\n").encode())

    def lines(self):
        """Lines read so far and then some; None when the connection closed."""
        data = self.sock.recv(65536)
        if not data:
            return None
        self.buffer += data
        *complete, self.buffer = self.buffer.split(b"\r\n")
        return [line.decode() for line in complete]

    def until(self, predicate, seen=None):
        """Reads until a line matches and returns it; every line read on the way is appended to `seen`."""
        while True:
            while self.pending:
                line = self.pending.pop(0)
                if seen is not None:
                    seen.append(line)
                if command(line) == "PING":
                    self.send("PONG :" + trailing(line))
                if predicate(line):
                    return line
            lines = self.lines()
            if lines is None:
                raise SystemExit(f"{self.name}: connection closed while waiting")
            self.pending = lines

    def history(self, channel):
        """Every msgid CHATHISTORY returns for `channel`, oldest first (a duplicate kept), paging from the start."""
        stored = []
        bound = "timestamp=1970-01-01T00:00:00.000Z"
        while True:
            self.send(f"CHATHISTORY AFTER {channel} {bound} 100")
            page = []
            while True:
                line = self.until(lambda l: command(l) == "PRIVMSG" or (command(l) == "BATCH" and " -" in l))
                if command(line) == "BATCH":
                    break
                page.append(tags(line)["msgid"])
            stored += page
            if len(page) < 100:
                return stored
            bound = f"msgid={page[-1]}"
