"""Deferred writes (cache sets) share worker-thread hops, and drain() still waits for each one.

A burst of answers queued one executor submission per write; the engine now queues them for
the one hop under way (engine/stores.py: Stores.defer). Each write must still run, in order, a
failing one must not drop the rest, a write queued while the hop was finishing must neither
wait for the next defer() nor be missed by drain(), and a hop whose loop closed before it
reported back must not hold the writes queued after it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from tierwise.config import Config
from tierwise.engine.stores import Stores


def test_every_deferred_write_runs_in_order_and_drain_waits_for_them() -> None:
    async def main() -> tuple[list[int], int]:
        stores = Stores(Config())
        done: list[int] = []
        gate = threading.Event()

        def first() -> None:
            gate.wait(5)  # the hop is busy with this one while the rest are queued
            done.append(0)

        def append(i: int) -> Callable[[], None]:
            return lambda: done.append(i)

        stores.defer(first)
        for i in range(1, 50):
            stores.defer(append(i))
        stores.defer(lambda: 1 / 0)  # a full disk, say
        stores.defer(lambda: done.append(50))
        gate.set()
        await stores.drain()
        return list(done), stores.pending

    done, pending = asyncio.run(main())
    assert done == list(range(51))
    assert pending == 0


class HoldingExecutor(ThreadPoolExecutor):
    """Runs the first job, then holds its completion until `release` is set: the moment after a
    hop has seen an empty queue and before the loop hears that it ended."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.ran = threading.Event()
        self.release = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def held() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                if not self.release.is_set():
                    self.ran.set()
                    self.release.wait(5)

        return super().submit(held)


def test_a_write_queued_as_the_hop_finishes_is_run_and_awaited() -> None:
    async def main() -> list[str]:
        executor = HoldingExecutor()
        asyncio.get_running_loop().set_default_executor(executor)
        stores = Stores(Config())
        done: list[str] = []
        stores.defer(lambda: done.append("first"))
        while not executor.ran.is_set():
            await asyncio.sleep(0.001)

        def late() -> None:
            time.sleep(0.05)  # a slow disk: drain() must still wait for it
            done.append("late")

        stores.defer(late)  # the hop under way will not look at the queue again
        executor.release.set()
        await stores.drain()
        return list(done)  # as drain() left it

    assert asyncio.run(main()) == ["first", "late"]


def test_a_hop_of_a_closed_loop_does_not_hold_later_writes() -> None:
    stores = Stores(Config())
    gate = threading.Event()
    done: list[str] = []

    def stuck() -> None:
        gate.wait(5)
        done.append("stuck")

    first = asyncio.new_event_loop()

    async def start() -> None:
        stores.defer(stuck)

    first.run_until_complete(start())
    first.close()  # closed while its hop still runs: that hop never reports back
    gate.set()
    while "stuck" not in done:
        time.sleep(0.01)
    time.sleep(0.1)  # and the hop's thread has left its queue behind

    async def later() -> list[str]:
        stores.defer(lambda: done.append("later"))
        for _ in range(500):
            if "later" in done:
                break
            await asyncio.sleep(0.01)
        return list(done)

    assert "later" in asyncio.run(later())
