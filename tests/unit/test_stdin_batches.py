"""The stdin thread hands big input to the event loop in few hand-overs (server/transport.py).

Each hand-over waits for the loop, and the loop for the GIL while a worker thread holds it: a
1 MB didOpen handed over in 64 KB pieces delayed a request sent after it by 0.1-0.4 s
(bench/hostile.py). Read from a file, all of the input is waiting, so the batches are
deterministic: 1 MiB each, then the end of the input.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from tierwise.server.framing import CHUNK
from tierwise.server.transport import BATCH_BYTES, _ThreadReader, _widen_pipe


async def _read_all(path: Path) -> list[bytes]:
    fd = os.open(path, os.O_RDONLY)
    try:
        reader = _ThreadReader(fd, asyncio.get_running_loop())
        pieces: list[bytes] = []
        while True:
            data = await asyncio.wait_for(reader.read(), 30)
            pieces.append(data)
            if not data:
                return pieces
    finally:
        os.close(fd)


def test_waiting_input_goes_to_the_loop_in_batches(tmp_path: Path) -> None:
    body = bytes(range(256)) * (3 * BATCH_BYTES // 256 + 1000)
    path = tmp_path / "input"
    path.write_bytes(body)
    pieces = asyncio.run(_read_all(path))
    assert b"".join(pieces) == body  # nothing lost, nothing reordered
    assert pieces[-1] == b""
    assert [len(p) for p in pieces[:3]] == [BATCH_BYTES] * 3
    assert len(pieces) == 5  # three full batches, the rest, the end (not 49 chunks of 64 KB)
    assert BATCH_BYTES > CHUNK


def test_empty_input_is_just_the_end(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert asyncio.run(_read_all(path)) == [b""]


def test_a_stdin_pipe_gets_a_wider_buffer() -> None:
    import fcntl

    read, write = os.pipe()
    try:
        _widen_pipe(read)
        size = fcntl.fcntl(read, fcntl.F_GETPIPE_SZ)
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        assert size == min(BATCH_BYTES, limit) or (limit < BATCH_BYTES and size >= 65536)
    finally:
        os.close(read)
        os.close(write)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        _widen_pipe(null)  # not a pipe: left as it is, no error
    finally:
        os.close(null)


def test_the_loop_ending_while_a_hand_over_waits_prints_no_traceback() -> None:
    # When the server exits, asyncio.run cancels a hand-over still waiting for room in the
    # queue; the thread then gets concurrent.futures.CancelledError (not asyncio's), and it
    # escaped as "Exception in thread tierwise-stdin" on stderr, the editor's log.
    read, write = os.pipe()
    failures: list[threading.ExceptHookArgs] = []
    previous = threading.excepthook
    threading.excepthook = failures.append
    try:

        async def fill_and_leave() -> None:
            reader = _ThreadReader(read, asyncio.get_running_loop())
            while reader._queue.qsize() < reader._queue.maxsize:
                os.write(write, b"x")
                await asyncio.sleep(0.01)
            os.write(write, b"y")  # this hand-over waits: nobody reads the queue
            await asyncio.sleep(0.1)

        asyncio.run(fill_and_leave())
        for thread in threading.enumerate():
            if thread.name == "tierwise-stdin":
                thread.join(10)
    finally:
        threading.excepthook = previous
        os.close(write)
        os.close(read)
    assert [f.exc_type for f in failures] == []
