#!/usr/bin/env python3
"""scripts/release-check.py TARBALL: what an operator does with a release tarball, on a machine without Swift.

Unpacks it in a clean directory, checks the binaries need no Swift library from the toolchain (ldd), starts the
packed server with an empty environment (`env -i`: no PATH to the toolchain, no HOME), registers an IRC client,
fetches the web client's page, stops it with SIGTERM (exit 0); then runs `./install PREFIX` and does the same with
the installed copy, and verifies the systemd unit with `systemd-analyze verify` (when systemd-analyze is there).
Exits non-zero with the reason on the first failure.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request


def fail(message):
    print(f"release check FAILED: {message}")
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_and_probe(binary, workdir, label):
    """Starts `binary` with env -i in `workdir`, checks IRC and the web page, stops it."""
    port = free_port()
    server = subprocess.Popen(
        ["env", "-i", binary, "127.0.0.1", "--port", str(port), "--data-dir", "data"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = server.stdout.readline()
    if "Parley listening on irc://127.0.0.1:" not in banner:
        server.kill()
        fail(f"{label}: no start line; stderr: {server.stderr.read()[-2000:]}")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as irc:
        irc.sendall(b"NICK packed\r\nUSER packed 0 * :Packed\r\n")
        received = b""
        deadline = time.time() + 10
        while b" 001 packed " not in received and time.time() < deadline:
            chunk = irc.recv(4096)
            if not chunk:
                break
            received += chunk
        if b" 001 packed " not in received:
            fail(f"{label}: no 001 welcome; got {received[:500]!r}")
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
    if "<html" not in page.lower() or "app.js" not in page:
        fail(f"{label}: the web client's page was not served: {page[:300]!r}")
    server.send_signal(signal.SIGTERM)
    try:
        status = server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        fail(f"{label}: did not stop on SIGTERM")
    if status != 0:
        fail(f"{label}: exit {status} after SIGTERM")
    if not os.path.exists(os.path.join(workdir, "data", "parley.sqlite")):
        fail(f"{label}: no database in the data directory")
    print(f"{label}: started with env -i, registered over IRC, served the web client, stopped cleanly")


def main():
    tarball = os.path.abspath(sys.argv[1])
    root = tempfile.mkdtemp(prefix="parley-release-check-")
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(root, filter="data")
        (name,) = os.listdir(root)
        unpacked = os.path.join(root, name)
        for item in ["bin/parley-server", "bin/parley", "bin/parley-bench", "bin/parley_ParleyWeb.resources",
                     "README.md", "parley.yaml", "parley-server.service", "install"]:
            if not os.path.exists(os.path.join(unpacked, item)):
                fail(f"{item} is missing from the tarball")
        for binary in ["parley-server", "parley", "parley-bench"]:
            path = os.path.join(unpacked, "bin", binary)
            libraries = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
            swift = [line.strip() for line in libraries.splitlines() if "swift" in line.lower()]
            if swift:
                fail(f"{binary} still links the toolchain's Swift libraries: {swift}")
            version = subprocess.run(["env", "-i", path, "--version"], capture_output=True, text=True)
            if version.returncode != 0 or not version.stdout.startswith(f"{binary} "):
                fail(f"{binary} --version: {version.stdout!r} {version.stderr!r}")
            print(f"{binary}: {version.stdout.strip()}, no Swift library linked dynamically")

        run = os.path.join(root, "run")
        os.mkdir(run)
        serve_and_probe(os.path.join(unpacked, "bin", "parley-server"), run, "packed")

        prefix = os.path.join(root, "prefix")
        subprocess.run([os.path.join(unpacked, "install"), prefix], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(unpacked)  # the installed copy must stand on its own
        installed = os.path.join(prefix, "bin", "parley-server")
        run2 = os.path.join(root, "run2")
        os.mkdir(run2)
        serve_and_probe(installed, run2, "installed")

        if shutil.which("systemd-analyze"):
            with tarfile.open(tarball) as archive:
                member = next(m for m in archive.getmembers() if m.name.endswith("/parley-server.service"))
                unit = archive.extractfile(member).read().decode()
            # The unit names /usr/local/bin/parley-server; verify it against the installed copy.
            unit_dir = os.path.join(root, "units")
            os.mkdir(unit_dir)
            unit_path = os.path.join(unit_dir, "parley-server.service")
            with open(unit_path, "w") as handle:
                handle.write(unit.replace("/usr/local/bin/parley-server", installed))
            verified = subprocess.run(["systemd-analyze", "verify", unit_path], capture_output=True, text=True)
            if verified.returncode != 0 or verified.stderr.strip():
                fail(f"systemd-analyze verify: {verified.stdout}{verified.stderr}")
            print("parley-server.service: systemd-analyze verify passed")
        else:
            print("parley-server.service: systemd-analyze is not installed here; not verified")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("release check passed")


if __name__ == "__main__":
    main()
