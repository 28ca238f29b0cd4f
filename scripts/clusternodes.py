"""Cluster helpers for the test scripts (cluster-fault-test.py, cluster-rolling-restart.py): a database of the
test's own, a node started as a real process, and whether a node refuses a nick.

Only the standard library: the scripts run before any virtual environment exists.
"""
import os
import socket
import subprocess


def fail(script, message):
    raise SystemExit(f"{script}: {message}")


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, stdout=subprocess.DEVNULL)


def start(binary, port, database, node, data, lease):
    """Starts `node` (its log appended to DATA/log) and returns it once its banner says it listens."""
    environment = dict(os.environ, PARLEY_CLUSTER_LEASE=str(lease))
    server = subprocess.Popen(
        [binary, "127.0.0.1", "--port", str(port), "--database", database, "--cluster", "--node-id", node,
         "--data-dir", data, "--flood-control", "off", "--server-name", f"{node}.test"],
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(data, "log"), "a"),
        text=True,
        env=environment,
    )
    banner = server.stdout.readline()
    if f":{port}" not in banner:
        server.kill()
        raise SystemExit(f"{node}: unexpected banner {banner!r}")
    return server


def refuses_nick(port, nick):
    """Whether the node on `port` answers a registration as `nick` with 433 (rather than 001)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as taken:
        taken.sendall(f"NICK {nick}\r\nUSER x 0 * :x\r\n".encode())
        answer = b""
        while b" 433 " not in answer and b" 001 " not in answer:
            answer += taken.recv(4096)
    return b" 433 " in answer


def wait_until_database_away(port, seconds=10):
    """Waits until the node on `port` says (`/healthz`, cluster section) that it no longer listens to the database:
    from then on it refuses at once what must be stored."""
    import json
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                body = answer.read()
        except urllib.error.HTTPError as error:
            body = error.read()
        if not json.loads(body).get("cluster", {}).get("listening", True):
            return time.monotonic()
        time.sleep(0.05)
    raise SystemExit(f"the node on port {port} did not notice within {seconds} s that the database is away")


def stop_all(nodes, url, database):
    """Ends every node still running (SIGTERM, then SIGKILL after 20 s) and drops the test's database."""
    import signal

    for server in nodes:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
    for server in nodes:
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    try:
        psql(url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    except subprocess.CalledProcessError:
        pass  # the database server is down (a failed outage test): it goes with its throwaway directory
