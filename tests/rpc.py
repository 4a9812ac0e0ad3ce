"""A raw JSON-RPC client over the real `tierwise serve` stdio process, for hostile tests.

Unlike pytest-lsp it sends bytes exactly as given (bad headers, garbage, batches, ids of any
type), keeps every message the server sends, and parses the server's own output strictly: a
frame the server gets wrong fails the test. It answers the server's requests the way a
minimal editor does. Synchronous (a reader thread), so hypothesis tests can drive it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ANSWER_S = 30.0  # a generous hang bound: an answer later than this is a stall, not slowness


class ServerSilent(AssertionError):
    """The server did not answer within the bound."""


def frame(message: Any) -> bytes:
    """A correctly framed message (any JSON value)."""
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class RpcServer:
    """`python -m tierwise serve` with pipes; every message it sends is kept."""

    def __init__(
        self, env: dict[str, str], *, args: tuple[str, ...] = (), stderr: Path | None = None
    ) -> None:
        self._stderr = open(stderr or os.devnull, "wb")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tierwise", "serve", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._write_lock = threading.Lock()  # the reader thread answers server requests too
        self.responses: dict[Any, dict[str, Any]] = {}
        self.null_id_errors: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.output_problems: list[str] = []
        self.unanswered: set[str] = set()  # server request methods left waiting on purpose
        self.eof = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- sending ---------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        """Write bytes to the server's stdin exactly as given."""
        assert self.process.stdin is not None
        with self._write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message: Any) -> None:
        """Write one correctly framed message."""
        self.send_raw(frame(message))

    def next_id(self) -> int:
        """A fresh request id."""
        return next(self._ids)

    def request(self, method: str, params: Any = None, *, timeout: float = ANSWER_S) -> Any:
        """Send a request and wait for its response (the whole response message)."""
        ident = self.next_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": ident, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.response(ident, timeout=timeout)

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def response(self, ident: Any, *, timeout: float = ANSWER_S) -> dict[str, Any]:
        """Wait for the response to `ident`; raises ServerSilent after `timeout`."""
        key = _key(ident)
        deadline = time.monotonic() + timeout
        with self._lock:
            while key not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    state = "exited" if self.eof else f"silent for {timeout:.0f} s"
                    raise ServerSilent(f"no response to id {ident!r}: the server {state}")
                self._lock.wait(min(left, 0.5))
            return self.responses.pop(key)

    def wait_null_errors(self, count: int, *, timeout: float = ANSWER_S) -> list[dict[str, Any]]:
        """Wait until `count` error responses with id null have come; returns them all."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.null_id_errors) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise ServerSilent(f"{len(self.null_id_errors)} of {count} id-null errors")
                self._lock.wait(min(left, 0.5))
            return list(self.null_id_errors)

    # -- the session ------------------------------------------------------------------------

    def initialize(self, root: Path, capabilities: dict[str, Any] | None = None) -> Any:
        """initialize + initialized for a workspace; returns the initialize result."""
        caps = capabilities or {"general": {"positionEncodings": ["utf-16"]}}
        reply = self.request(
            "initialize",
            {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": caps},
        )
        assert "result" in reply, reply
        self.notify("initialized", {})
        return reply["result"]

    def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        """didOpen."""
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )

    def ping(self, *, timeout: float = ANSWER_S) -> dict[str, Any]:
        """A bare round trip: a request no handler knows, which must get MethodNotFound."""
        reply = self.request("tierwise/ping", {}, timeout=timeout)
        assert reply.get("error", {}).get("code") == -32601, reply
        return reply

    def exit(self, *, shutdown: bool = True, timeout: float = 20) -> int:
        """(shutdown +) exit; returns the exit code."""
        if shutdown:
            reply = self.request("shutdown")
            assert "result" in reply, reply
        self.notify("exit")
        return self.wait(timeout)

    def wait(self, timeout: float = 20) -> int:
        """Wait for the process to end; its exit code."""
        try:
            return self.process.wait(timeout)
        finally:
            self.close()

    def close(self) -> None:
        """Kill the process if it still runs; close the pipes."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._stderr.close()

    # -- introspection (from /proc) -----------------------------------------------------------

    def rss_kib(self) -> int:
        """Resident memory of the server process."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def open_fds(self) -> int:
        """File descriptors the server process holds."""
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def threads(self) -> int:
        """Threads of the server process."""
        return len(os.listdir(f"/proc/{self.process.pid}/task"))

    # -- the reader ---------------------------------------------------------------------------

    def _frames(self) -> Iterator[dict[str, Any]]:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            headers: dict[str, str] = {}
            while True:
                line = stdout.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if not line.endswith(b"\r\n") or b":" not in line:
                    self.output_problems.append(f"bad header line from the server: {line[:80]!r}")
                    continue
                name, _, value = line[:-2].decode("ascii", "replace").partition(":")
                headers[name.strip().lower()] = value.strip()
            length = headers.get("content-length", "")
            if not length.isdigit():
                self.output_problems.append(f"server frame without a length: {headers}")
                return
            body = stdout.read(int(length))
            try:
                yield json.loads(body)
            except ValueError as exc:
                self.output_problems.append(f"server sent invalid JSON ({exc}): {body[:80]!r}")

    def _read(self) -> None:
        try:
            for message in self._frames():
                if "method" in message and "id" in message:
                    self._answer(message)
                    continue
                with self._lock:
                    if "method" in message:
                        self.notifications.append(message)
                    elif message.get("id") is None:
                        self.null_id_errors.append(message)
                    else:
                        self.responses[_key(message["id"])] = message
                    self._lock.notify_all()
        finally:
            with self._lock:
                self.eof = True
                self._lock.notify_all()

    def _answer(self, message: dict[str, Any]) -> None:
        """Answer a server request as a minimal editor would."""
        self.server_requests.append(message)
        method, params = message["method"], message.get("params") or {}
        if method in self.unanswered:
            return
        result: Any = None
        if method == "workspace/configuration":
            result = [None] * len(params.get("items", []))
        elif method == "workspace/applyEdit":
            result = {"applied": False, "failureReason": "the raw test client applies nothing"}
        elif method == "window/showDocument":
            result = {"success": False}
        with contextlib.suppress(BrokenPipeError, ValueError):  # the server may be gone
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})


def _key(ident: Any) -> str:
    """Ids compare by JSON value (1 and "1" are different ids)."""
    return json.dumps(ident)
