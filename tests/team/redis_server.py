"""A real redis-server for the shared-cache tests: started on a random free port of 127.0.0.1
with `--save '' --appendonly no` (nothing written to disk), and stopped by the test run.

The binary is `$TIERWISE_REDIS_SERVER`, else `redis-server` on PATH (scripts/redis.sh installs
Debian's, which scripts/test.sh calls). A missing binary fails the tests that need it, naming
the fix: the promises of the shared cache are tested against a real server, never skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

START_TIMEOUT_S = 10.0


def _binary() -> str:
    explicit = os.environ.get("TIERWISE_REDIS_SERVER")
    found = explicit or shutil.which("redis-server")
    if not found:
        pytest.fail(
            "no redis-server for the shared-cache tests: run `bash scripts/redis.sh` (apt) or "
            "set TIERWISE_REDIS_SERVER=/path/to/redis-server"
        )
    return found


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def text(value: bytes | str) -> str:
    """A reply of the plain client as text (its type says bytes or str: it is bytes here)."""
    return value.decode() if isinstance(value, bytes) else value


class RedisServer:
    """One redis-server process; `stop()` kills it, `start()` brings it back on the same port."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The redis:// URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                _binary(),
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
                "--protected-mode", "yes",
                # Redis 7 turns DEBUG off by default; the fault tests use DEBUG SLEEP.
                *(["--enable-debug-command", "local"] if self._version() >= (7, 0) else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _version(self) -> tuple[int, int]:
        out = subprocess.run([_binary(), "--version"], capture_output=True, text=True).stdout
        for word in out.split():
            if word.startswith("v="):
                major, minor = word[2:].split(".")[:2]
                return int(major), int(minor)
        return (0, 0)

    def ping(self) -> bool:
        """Whether the server answers PING (a raw socket: no client library involved)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server (SIGKILL: a crash, not a shutdown) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
