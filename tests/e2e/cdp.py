"""A minimal Chrome DevTools Protocol client over `--remote-debugging-pipe` (stdlib only).

Chromium reads commands from fd 3 and writes replies and events to fd 4, each a JSON
message ended by a NUL byte. Used to open the workbench page, take screenshots and click.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any


class CdpError(RuntimeError):
    """A CDP command failed or the browser went away."""


class CdpPipe:
    """Send commands and wait for their replies; events are ignored."""

    def __init__(self, to_browser: int, from_browser: int) -> None:
        self._out = to_browser
        self._in = from_browser
        self._next = 0
        self._lock = threading.Lock()
        self._replies: dict[int, dict[str, Any]] = {}
        self._arrived = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._in, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._arrived:
                        self._replies[message["id"]] = message
                        self._arrived.notify_all()
        with self._arrived:
            self._closed = True
            self._arrived.notify_all()

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None
    ) -> dict[str, Any]:
        """Run one command and return its result (CdpError on an error reply or a timeout)."""
        with self._lock:
            self._next += 1
            msg_id = self._next
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        with self._arrived:
            if not self._arrived.wait_for(
                lambda: msg_id in self._replies or self._closed, timeout=60
            ):
                raise CdpError(f"{method}: no reply within 60 s")
            if msg_id not in self._replies:
                raise CdpError(f"{method}: the browser closed the pipe")
            reply = self._replies.pop(msg_id)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def evaluate(self, expression: str, *, session: str) -> Any:
        """Evaluate JavaScript in the page and return its JSON value."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=session,
        )
        if "exceptionDetails" in result:
            raise CdpError(f"page script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def click(self, x: float, y: float, *, session: str) -> None:
        """A real left click at page coordinates (pressed, then released)."""
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                session=session,
            )
