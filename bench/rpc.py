"""A minimal JSON-RPC client over a subprocess's stdio, as lean as an editor's (for benchmarks)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any


class RawClient:
    """Frames LSP messages by hand; answers server requests with empty results."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def spawn(cls, command: list[str], env: dict[str, str]) -> RawClient:
        """Start the server process."""
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=2**26,  # a code-action listing or a 1 MB document's diagnostics is one line
        )
        return cls(process)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: Any) -> Any:
        """Send a request and wait for its result; a JSON-RPC error comes back as the error dict."""
        _, future = self.start_request(method, params)
        return await future

    def start_request(self, method: str, params: Any) -> tuple[int, asyncio.Future[Any]]:
        """Send a request; returns its id and the future of its result (or error dict)."""
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[ident] = future
        self._send({"id": ident, "method": method, "params": params})
        return ident, future

    def cancel(self, ident: int) -> None:
        """Send $/cancelRequest for a request in flight."""
        self.notify("$/cancelRequest", {"id": ident})

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._send({"method": method, "params": params})

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while (line := await stdout.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(await stdout.readexactly(length))
            if "method" in message and "id" in message:
                params = message.get("params") or {}
                items = params.get("items") if isinstance(params, dict) else None
                result: Any = [None] * len(items) if items is not None else None
                if message["method"] == "workspace/applyEdit":
                    result = {"applied": False}
                self._send({"id": message["id"], "result": result})
            elif "id" in message and message["id"] in self._waiting:
                future = self._waiting.pop(message["id"])
                future.set_result(message.get("result", message.get("error")))

    async def close(self) -> None:
        """shutdown, exit, and wait for the process."""
        await self.request("shutdown", None)
        self.notify("exit", None)
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
        self._reader.cancel()
