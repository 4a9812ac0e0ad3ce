"""A bug in a handler reaches the client as a plain -32603, never as Python text or a traceback.

In process, on a real server object: a feature registered for the test raises, as a bug in a
handler would. pygls 2.1.1 alone sends the traceback in the error's data.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tierwise.server import create_server
from tierwise.server.transport import Transport


class Capture:
    """A writer that keeps what the server sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        self.sent.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))

    def close(self) -> None:
        pass


async def test_a_failing_handler_answers_without_its_text() -> None:
    server = create_server()

    @server.feature("tierwise/boom")
    async def boom(ls: Any, params: Any) -> None:
        raise ValueError("a secret detail of the internals")

    @server.feature("tierwise/boomSync")
    def boom_sync(ls: Any, params: Any) -> None:
        raise KeyError("another internal detail")

    writer = Capture()
    server.protocol.set_writer(writer)
    transport = Transport(server, 1 << 20)
    transport.lifecycle.initialized = True  # these tests start past initialize
    for ident, method in ((1, "tierwise/boom"), (2, "tierwise/boomSync")):
        body = json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": {}})
        transport.dispatch(
            transport.parser.feed(b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode()))
        )
    for _ in range(50):
        if len(writer.sent) >= 2:
            break
        await asyncio.sleep(0.01)
    errors = {m["id"]: m["error"] for m in writer.sent}
    for ident in (1, 2):
        assert errors[ident]["code"] == -32603
        assert "details are in the server log" in errors[ident]["message"]
        assert "detail" not in errors[ident]["message"].replace("details", "")
        assert "data" not in errors[ident]
