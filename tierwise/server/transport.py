"""The read loop: bytes from stdio or TCP, through the framing and the rules, into pygls.

It replaces pygls' `run_async`, which goes silent on any framing it does not expect, reads a
declared length into memory whatever it is, and loses the exit code (`exit` without
`shutdown` must exit 1). Here every request with an id gets an answer, a bad frame is
reported and skipped, and the loop returns the exit code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import select
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer

from tierwise.server.envelope import (
    EXIT,
    INITIALIZE,
    INVALID_REQUEST,
    PARSE_ERROR,
    Lifecycle,
    Refusal,
    check,
    is_id,
)
from tierwise.server.framing import CHUNK, BadFrame, Event, FrameParser, Message
from tierwise.server.validation import clip, well_formed

logger = logging.getLogger("tierwise.server")

# How long the stream must be quiet before a message shorter than its Content-Length is
# settled (the client is then waiting for an answer, not still sending).
QUIET_S = 0.5
# Bytes the stdin thread reads (while more is waiting) before it hands them to the event loop.
# Each hand-over waits for the loop, and the loop for the GIL: a worker thread holding it
# (the engine's imports at start-up, a parse) lets the loop in once per switch interval. A
# 1 MB didOpen arrives in 16 pipe-fuls of 64 KB, and handed over one by one it took 0.1-0.4
# s (5 MB: up to 0.8 s) during which a request sent after it waited (bench/hostile.py).
BATCH_BYTES = 1 << 20
HOW_TO_FRAME = "frame each message as 'Content-Length: <bytes>\\r\\n\\r\\n<JSON body>'"


class Transport:
    """Feeds one connection's bytes to the server's protocol; knows the exit code at the end."""

    def __init__(self, server: LanguageServer, max_message_bytes: int) -> None:
        self.server = server
        self.protocol = server.protocol
        self.parser = FrameParser(max_message_bytes)
        self.lifecycle = Lifecycle()
        self.exit_code: int | None = None
        self._garbage_logged = 0

    async def pump(self, read: Callable[[], Awaitable[bytes]]) -> int:
        """Read until `exit` or the end of the stream; returns the exit code."""
        reading = asyncio.ensure_future(read())
        settled = False
        try:
            while self.exit_code is None:
                quiet = None if self.parser.idle or settled else QUIET_S
                done, _ = await asyncio.wait({reading}, timeout=quiet)
                if not done:
                    self.dispatch(self.parser.stalled())
                    settled = True
                    continue
                data = reading.result()
                if not data:
                    self.dispatch(self.parser.close())
                    break
                settled = False
                reading = asyncio.ensure_future(read())
                self.dispatch(self.parser.feed(data))
        except BrokenPipeError:
            logger.error("the client closed the connection")
        finally:
            reading.cancel()
        return self.exit_code if self.exit_code is not None else self.lifecycle.exit_code

    # -- events -------------------------------------------------------------------------------

    def dispatch(self, events: list[Event]) -> None:
        """Hand each event on, answer or report it."""
        for event in events:
            if self.exit_code is not None:
                return
            if isinstance(event, Message):
                self._message(event.value)
            else:
                self._bad_frame(event)
        if self.parser.garbage_bytes > self._garbage_logged:
            logger.warning(
                "skipped %d bytes that were not LSP messages (%s)",
                self.parser.garbage_bytes - self._garbage_logged,
                HOW_TO_FRAME,
            )
            self._garbage_logged = self.parser.garbage_bytes

    def _message(self, value: Any) -> None:
        message, refusals = check(value)
        for refusal in refusals:
            logger.warning("refused a message: %s", refusal.message)
            self._send(refusal)
        if message is None:
            return
        if "method" not in message:
            self._hand_on(message)  # a response to one of our requests
            return
        untimely = self.lifecycle.admit(message)
        if untimely is not None:
            if "id" in message:
                self._send(untimely)
            else:
                logger.info("dropped a notification: %s", untimely.message)
            return
        if message["method"] == EXIT:
            self.exit_code = self.lifecycle.exit_code
            return
        self._hand_on(message)
        if message["method"] == INITIALIZE and getattr(self.protocol, "_workspace", None) is None:
            # Its params were refused (InvalidParams was sent): still not initialized, and
            # the client may try again.
            self.lifecycle.initialized = False

    def _hand_on(self, message: dict[str, Any]) -> None:
        # Everything but the id (which must be echoed exactly) is made encodable here, once,
        # so no stage after this (prompt, ruff, cache key, ledger, logs) meets a lone surrogate.
        message = {k: v if k == "id" else well_formed(v) for k, v in message.items()}
        method = message.get("method")
        if method is not None and "params" not in message:
            # Optional in JSON-RPC, but pygls' generic message classes require the field.
            message = {**message, "params": None}
        try:
            self.protocol.handle_message(self.protocol.structure_message(message))
        except BrokenPipeError:
            raise
        except Exception as exc:
            if "id" not in message:
                # A notification that did not deserialize (the protocol answers requests).
                logger.warning("ignored %s: %s", clip(method), _reason(exc))
                return
            logger.exception("failed to handle %s", clip(method))
            what = f"{clip(method)} failed" if method is not None else "a response failed"
            self._send(Refusal(message["id"], -32603, f"{what} (details in the server log)"))

    def _bad_frame(self, event: BadFrame) -> None:
        problem = f"bad framing: {event.problem}"
        logger.warning("%s", problem)
        value = event.value
        if isinstance(value, dict) and is_id(value.get("id")):
            if "method" in value:
                self._send(
                    Refusal(value["id"], PARSE_ERROR, f"{problem}; not processed ({HOW_TO_FRAME})")
                )
            else:
                # A response to one of our requests: fail it rather than leave it waiting.
                error = types.ResponseError(code=PARSE_ERROR, message=problem)
                self.protocol._handle_response(value["id"], None, error)
            return
        if isinstance(value, list):
            for refusal in check(value)[1]:
                self._send(refusal)
            return
        if event.oversized:
            limit = "raise it with tierwise serve --max-message-bytes"
            if event.ident is not None:
                self._send(Refusal(event.ident, INVALID_REQUEST, f"{event.problem} ({limit})"))
                return
            what = clip(event.method) if event.method else "a message"
            self._show(f"{what} was refused: {event.problem} ({limit})")
            return
        if isinstance(value, dict) and "method" in value and "id" not in value:
            logger.warning("dropped a notification with bad framing: %s", clip(value))
            return
        self._send(Refusal(None, PARSE_ERROR, f"{problem} ({HOW_TO_FRAME})"))

    def _send(self, refusal: Refusal) -> None:
        self.protocol._send_data(refusal.response())

    def _show(self, text: str) -> None:
        logger.warning("%s", text)
        if self.lifecycle.initialized and not self.lifecycle.shutting_down:
            self.server.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=f"tierwise: {text}")
            )


def _reason(exc: BaseException) -> str:
    cause = exc.__cause__
    return str(exc) if cause is None else f"{exc}: {str(cause)[:200]}"


def _widen_pipe(fd: int) -> None:
    """Give a stdin pipe a 1 MiB buffer (Linux; 64 KB by default), where the system allows it.

    The editor's side then writes a 1 MB didOpen in one go instead of waiting for this side
    to empty the pipe sixteen times, each a wake-up of the reading thread.
    """
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, BATCH_BYTES)
    except (ImportError, AttributeError, OSError, ValueError):
        pass  # not a pipe, not Linux, or over /proc/sys/fs/pipe-max-size: the default stays


class _ThreadReader:
    """Reads a file descriptor in a daemon thread (stdin may be a pipe, a file or a tty).

    A daemon thread, unlike pygls' executor, never keeps the process alive after `exit`
    while it waits for input; the bounded queue keeps a fast client from filling memory.
    """

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self._loop = loop
        _widen_pipe(fd)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)
        threading.Thread(target=self._run, name="tierwise-stdin", daemon=True).start()

    def _run(self) -> None:
        ended = False
        while not ended:
            chunks = [self._read()]
            size = len(chunks[0])
            ended = not chunks[0]
            # What is already waiting goes over with it, up to BATCH_BYTES: one hand-over.
            while not ended and size < BATCH_BYTES and self._waiting():
                more = self._read()
                ended = not more
                chunks.append(more)
                size += len(more)
            batch = [b"".join(chunks), b""] if ended and size else [b"".join(chunks)]
            for data in batch:
                try:
                    asyncio.run_coroutine_threadsafe(self._queue.put(data), self._loop).result()
                except (RuntimeError, asyncio.CancelledError, concurrent.futures.CancelledError):
                    # The loop is gone, or ended with this hand-over waiting (asyncio.run
                    # cancels it, and the thread sees concurrent.futures' CancelledError).
                    return

    def _read(self) -> bytes:
        try:
            return os.read(self._fd, CHUNK)
        except OSError:
            return b""

    def _waiting(self) -> bool:
        """Whether a read would return at once (more input is there, or its end)."""
        try:
            return bool(select.select([self._fd], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    async def read(self) -> bytes:
        """The next chunk; b"" at the end of the stream."""
        return await self._queue.get()


async def _finish(server: LanguageServer) -> None:
    """Stop jobs and close the engine (bounded): the close a shutdown started, finished (an
    `exit` can come before it is), or without a shutdown, one started now."""
    close = getattr(server, "aclose", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(close(), timeout=10)


async def serve_stdio(server: LanguageServer, max_message_bytes: int) -> int:
    """Serve on stdin/stdout until `exit` or the end of input; returns the exit code."""
    server.protocol.set_writer(StdoutWriter(sys.stdout.buffer))
    transport = Transport(server, max_message_bytes)
    reader = _ThreadReader(sys.stdin.fileno(), asyncio.get_running_loop())
    code = await transport.pump(reader.read)
    await _finish(server)
    return code


async def serve_tcp(server: LanguageServer, host: str, port: int, max_message_bytes: int) -> int:
    """Serve one TCP connection (debugging); returns the exit code."""
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.protocol.set_writer(writer)
        transport = Transport(server, max_message_bytes)
        code = await transport.pump(lambda: reader.read(CHUNK))
        await _finish(server)
        writer.close()
        if not finished.done():
            finished.set_result(code)

    listener = await asyncio.start_server(connection, host, port)
    logger.info("listening on %s:%d", host, port)
    async with listener:
        return await finished
