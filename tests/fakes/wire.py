"""A real HTTP server on 127.0.0.1 speaking the Anthropic Messages and OpenAI Chat Completions
wire protocols, with scriptable failures. Tests drive the official SDKs against it.

    with FakeProvider() as fake:
        fake.script(("status", 429, 0.01), "ok")
        ... AsyncAnthropic(base_url=fake.url) / AsyncOpenAI(base_url=fake.openai_base_url) ...
        ... or tierwise providers with base_url = fake.anthropic_base_url / fake.openai_base_url
        fake.requests      # what arrived (path, lower-cased headers, JSON body)
        fake.closed_early  # clients that hung up mid-answer (fake.disconnected is set too)

Run it by hand with `python -m tests.fakes.wire --port 8080`.
"""

from __future__ import annotations

import argparse
import collections
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.wire_formats import (
    AnthropicFormat,
    Numbers,
    OpenAIFormat,
    WireFormat,
    pieces,
    prompt_tokens,
    text_of,
    tokens,
)

# A behaviour is one of:
#   "ok"                                   the whole answer
#   "truncate"                             drop the connection mid-body (a reset)
#   "end_early"                            end the HTTP body cleanly but without the final events
#   "malformed"                            a data line that is not JSON
#   "empty"                                a complete answer with no text at all
#   ("status", code[, retry_after_s[, message]])  an HTTP error before any streaming
#   ("hang", seconds)                      no response headers for that long (a slow first byte)
#   ("slow", n_chunks, delay_s)            n "tickN " chunks, delay_s apart
#   ("stream_error", after_chunks, error_type[, message])
#                                          HTTP 200, some text, then the API's in-stream error
#                                          event (Anthropic `event: error`, OpenAI {"error": ...})
#   ("length", n_chunks)                   n chunks of the answer, then the output-limit stop
#                                          (Anthropic stop_reason "max_tokens", OpenAI
#                                          finish_reason "length")
#   ("stall", after_chunks, seconds[, keepalive_every_s])
#                                          some text, then silence (or only keep-alive pings, so
#                                          no single read ever times out), then the rest
#   ("long", n_chars)                      an answer of n_chars characters, whatever max_tokens
Behaviour = str | tuple[Any, ...]
_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]


def default_responder(body: dict[str, Any]) -> str:
    """A short reply derived from the last user message, so every prompt gets its own answer."""
    prompt = text_of(body.get("messages", [])[-1:])
    words = prompt.split()[:8]
    return "Fake answer about " + (" ".join(words) if words else "nothing") + "."


class _Disconnected(Exception):
    """The client closed the connection while we were writing."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 refuses connections when fifty requests arrive at
    # once (the concurrency benchmark); a real provider accepts them all.
    request_queue_size = 128
    fake: FakeProvider


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    # -- plumbing -------------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _chunk(self, text: str) -> None:
        data = text.encode()
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        except _DISCONNECTS as exc:
            raise _Disconnected from exc

    def _end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except _DISCONNECTS as exc:
            raise _Disconnected from exc

    def _abort(self) -> None:
        """Drop the connection mid-body: the client sees an incomplete chunked message."""
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- routes ---------------------------------------------------------------------------------

    def do_GET(self) -> None:
        """GET /v1/models: enough for reachability probes."""
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]}
            )
        else:
            self._send_json(404, {"error": {"type": "not_found_error", "message": self.path}})

    def do_POST(self) -> None:
        """Route to the Anthropic or OpenAI protocol, applying the next scripted behaviour."""
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(
                400, {"error": {"type": "invalid_request_error", "message": "bad JSON"}}
            )
            return
        path = self.path.split("?", 1)[0]
        fake._record(Recorded(path, {k.lower(): v for k, v in self.headers.items()}, body))
        formats = {f.path: f for f in (AnthropicFormat, OpenAIFormat)}
        if path not in formats:
            self._send_json(404, {"error": {"type": "not_found_error", "message": path}})
            return
        fmt = formats[path](body, fake.responder(body), fake.request_count)
        try:
            _Exchange(self, fake, fmt).serve(fake._next_behaviour())
        except _Disconnected:
            fake._client_left()


class _Exchange:
    """One request: the scripted behaviour decides what happens, the format what is sent."""

    def __init__(self, handler: _Handler, fake: FakeProvider, fmt: WireFormat) -> None:
        self.h = handler
        self.fake = fake
        self.fmt = fmt

    def numbers(self) -> Numbers:
        """Usage derived from the request: its size, and whether its prefix was seen before."""
        total = prompt_tokens(self.fmt.body)
        prefix = self.fmt.cache_prefix()
        read = write = 0
        if self.fake.cache_read_tokens is not None:
            read = min(self.fake.cache_read_tokens, total)
        elif prefix and tokens(prefix) >= self.fake.min_cache_tokens(self.fmt.model):
            if self.fake._seen_prefix(prefix):
                read = tokens(prefix)
            else:
                write = tokens(prefix)
        return Numbers(total - read - write, read, write, max(1, tokens(self.fmt.reply)))

    def serve(self, behaviour: Behaviour) -> None:
        """Answer according to the behaviour (see Behaviour above)."""
        kind = behaviour if isinstance(behaviour, str) else behaviour[0]
        if kind == "status":
            code = int(behaviour[1])
            retry_after = behaviour[2] if len(behaviour) > 2 else None
            message = str(behaviour[3]) if len(behaviour) > 3 else None
            headers = {}
            if retry_after is not None:
                headers = {
                    "retry-after-ms": str(max(1, round(float(retry_after) * 1000))),
                    "retry-after": str(retry_after),
                }
            self.h._send_json(code, self.fmt.error_body(code, message), headers)
            return
        if kind == "hang":
            self.fake._stop.wait(float(behaviour[1]))
        invalid = self.fmt.invalid()
        if invalid:
            self.h._send_json(400, self.fmt.error_body(400, invalid))
            return
        chunks, delay = pieces(self.fmt.reply), 0.0
        if kind == "slow":
            chunks = [f"tick{i} " for i in range(int(behaviour[1]))]
            delay = float(behaviour[2])
        elif kind == "empty":
            chunks = []
        elif kind == "long":
            size = int(behaviour[1])
            chunks = pieces(("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size])
        elif kind == "length":
            chunks = chunks[: int(behaviour[1])]
        self.fmt.reply = "".join(chunks)
        if not self.fmt.body.get("stream"):
            self.h._send_json(200, self.fmt.whole(self.numbers()))
            return
        asked = bool((self.fmt.body.get("stream_options") or {}).get("include_usage"))
        self.fmt.usage_in_stream = asked and not self.fake.ignore_include_usage
        numbers = self.numbers()
        head = list(self.fmt.head(numbers))
        deltas = [self.fmt.delta(chunk) for chunk in chunks]
        tail = list(self.fmt.tail(numbers, finish="length" if kind == "length" else "stop"))
        self.h._start_stream()
        if kind in ("truncate", "end_early"):
            events = head + deltas + tail
            for event in events[: max(2, len(events) // 2)]:
                self.h._chunk(event)
            if kind == "truncate":
                self.h._abort()
            else:
                self.h._end_stream()
            return
        if kind == "stream_error":
            for event in head + deltas[: int(behaviour[1])]:
                self.h._chunk(event)
            message = str(behaviour[3]) if len(behaviour) > 3 else "Overloaded"
            self.h._chunk(self.fmt.stream_error(str(behaviour[2]), message))
            self.h._end_stream()
            return
        if kind == "stall":
            after = int(behaviour[1])
            for event in head + deltas[:after]:
                self.h._chunk(event)
            if self._stall(float(behaviour[2]), behaviour[3] if len(behaviour) > 3 else None):
                return
            head, deltas = [], deltas[after:]
        for i, event in enumerate(head + deltas + tail):
            if kind == "malformed" and i == 2:
                self.h._chunk(self.fmt.malformed())
            self.h._chunk(event)
            if delay and self.fake._stop.wait(delay):
                return
        self.h._end_stream()

    def _stall(self, seconds: float, keepalive_every: Any) -> bool:
        """Say nothing (or only keep-alives) for `seconds`; True when the fake is stopping."""
        if keepalive_every is None:
            return self.fake._stop.wait(seconds)
        step = float(keepalive_every)
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.fake._stop.wait(min(step, left)):
                return True
            self.h._chunk(self.fmt.keepalive())
        return False


class FakeProvider:
    """The fake server; a context manager that listens on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, port: int = 0) -> None:
        self.responder: Callable[[dict[str, Any]], str] = default_responder
        # None: simulate a prompt cache (first sight of a prefix writes it, later ones read it);
        # an int: report that many cache-read tokens on every request.
        self.cache_read_tokens: int | None = None
        # The shortest prefix a simulated prompt cache holds, per model (the real APIs cache
        # nothing shorter: 1,024 to 4,096 tokens by model); 0 caches any prefix.
        self.min_cache_tokens: Callable[[str], int] = lambda _model: 0
        # True: behave like a compatible server that ignores stream_options.include_usage.
        self.ignore_include_usage = False
        self.disconnected = threading.Event()
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._script: collections.deque[Behaviour] = collections.deque()
        self._prefixes: set[str] = set()
        self._closed_early = 0
        self._stop = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeProvider:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-wire", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake any hanging handler, stop serving and close the socket."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def anthropic_base_url(self) -> str:
        """The base URL as configured for tierwise's anthropic provider."""
        return f"{self.url}/v1"

    @property
    def openai_base_url(self) -> str:
        """The base URL an OpenAI client needs."""
        return f"{self.url}/v1"

    # -- scripting and inspection ---------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order; once used up, requests answer "ok"."""
        with self._lock:
            self._script.extend(behaviours)

    @property
    def requests(self) -> list[Recorded]:
        """A snapshot of the requests received so far."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """How many requests arrived."""
        with self._lock:
            return len(self._requests)

    @property
    def closed_early(self) -> int:
        """How many times a client disconnected before its response was fully written."""
        with self._lock:
            return self._closed_early

    def _record(self, recorded: Recorded) -> None:
        with self._lock:
            self._requests.append(recorded)

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._script.popleft() if self._script else "ok"

    def _seen_prefix(self, prefix: str) -> bool:
        with self._lock:
            seen = prefix in self._prefixes
            self._prefixes.add(prefix)
            return seen

    def _client_left(self) -> None:
        with self._lock:
            self._closed_early += 1
        self.disconnected.set()


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted and print the URL."""
    parser = argparse.ArgumentParser(description="A fake Anthropic + OpenAI wire server.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = FakeProvider(args.port).start()
    print(
        f"fake provider listening on {fake.url} "
        f"(base_url for tierwise's anthropic and openai providers: {fake.openai_base_url})",
        flush=True,
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
