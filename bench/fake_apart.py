"""The wire-protocol fake in a process of its own, for benchmarks that must not share their
own process (and its GIL) with the fake's fifty streaming threads.

`FakeApart` offers what bench/concurrency.py uses of `tests.fakes.wire.FakeProvider`: the
base URLs, `script`, `request_count`, `closed_early`, and the arrival times of requests
(recorded in the child, where they arrive). Commands go over a pipe; each is answered.
"""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any


def _serve(conn: Connection) -> None:
    """The child: a FakeProvider answering fake_reply, and a loop over the pipe's commands."""
    from tests.e2e.lsp_helpers import fake_reply
    from tests.fakes.wire import FakeProvider

    arrivals: list[float] = []

    def reply(body: dict[str, Any]) -> str:
        arrivals.append(time.perf_counter())
        return fake_reply(body)

    with FakeProvider() as fake:
        fake.responder = reply
        conn.send((fake.anthropic_base_url, fake.openai_base_url))
        while True:
            command, args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "script":
                fake.script(*args)
                conn.send(None)
            elif command == "arrivals":
                conn.send(list(arrivals))
                arrivals.clear()
            elif command == "counts":
                conn.send((fake.request_count, fake.closed_early))


class FakeApart:
    """A FakeProvider in a spawned child process; a context manager."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.anthropic_base_url, self.openai_base_url = self._conn.recv()

    def _ask(self, command: str, *args: Any) -> Any:
        self._conn.send((command, args))
        return self._conn.recv()

    def script(self, *steps: Any) -> None:
        """The next requests' behaviours, as FakeProvider.script takes them."""
        self._ask("script", *steps)

    def take_arrivals(self) -> list[float]:
        """When the requests since the last call reached the fake (the child's clock)."""
        found: list[float] = self._ask("arrivals")
        return found

    @property
    def request_count(self) -> int:
        """Requests the fake has received."""
        count: int = self._ask("counts")[0]
        return count

    @property
    def closed_early(self) -> int:
        """Streams the client closed before their end."""
        closed: int = self._ask("counts")[1]
        return closed

    def __enter__(self) -> FakeApart:
        return self

    def __exit__(self, *exc: object) -> None:
        self._ask("stop")
        self._process.join(timeout=10)
