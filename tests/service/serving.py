"""Helpers for tests that run `rampart serve` as a real process (start, wait, keys, stop)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rampart.service.keys import KeyStore, Role


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(data_dir: Path, port: int, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`rampart serve --demo` on 127.0.0.1:``port``, its output appended to ``log``."""
    command = [
        sys.executable, "-m", "rampart.cli", "serve", "--demo",
        "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir), *extra,
    ]  # fmt: skip
    with log.open("ab") as stderr:
        return subprocess.Popen(command, stdout=stderr, stderr=stderr)


def ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``/readyz`` answers 200 (or fail with the server's log)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not get ready:\n{log.read_text()}")


def key(data_dir: Path, role: Role) -> str:
    """A new API key with ``role`` for the server of ``data_dir`` (what `rampart keys create`
    does, in this process: each `rampart` command pays for importing the whole CLI)."""
    return KeyStore(data_dir).create(role)


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it does not stop within 30 s."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
