"""The LSP base protocol's framing, parsed defensively: headers, bodies and resynchronisation.

pygls 2.1.1 reads `Content-Length: N\\r\\n` with an exact regex and otherwise waits forever, and
reads any declared length into memory. `FrameParser` is a sans-IO parser (bytes in, events
out) that never goes silent on a message it could answer and never holds more than its limit:

- header names are case-insensitive and LF-only line ends are accepted (both are unambiguous);
- garbage before a header is dropped up to the next `Content-Length` (resynchronisation);
- a missing, non-numeric, negative or conflicting length, or a length that does not match the
  JSON that follows, is a `BadFrame`; the JSON message after the headers is recovered when it
  can be, so that its id gets an answer;
- a declared length over the limit is skipped as it arrives, without buffering it.

A `Content-Length:` line whose value holds no quote, followed by a raw line end, can never
occur inside valid JSON: outside strings the letters cannot appear, and inside one the line
end would need a closing quote before it. Seeing one inside a body is a safe sign that the
body ended and the next message starts there.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from tierwise.server.jsonscan import BodyError, decode_body, json_end, top_level_fields

# Large enough for a big document sent whole (server.max_file_bytes refuses those with a clear
# message later); small enough that a hostile length cannot exhaust memory.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERLESS_BYTES = 1024 * 1024  # JSON sent without headers is recovered up to this size
CHUNK = 64 * 1024

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = re.compile(rb"\r?\n")
# A Content-Length header line anywhere: where the next message starts after garbage.
# Its value never holds a quote, so it cannot match inside valid JSON: see the module docstring.
_LENGTH_LINE = re.compile(rb'content-length[ \t]*:[ \t]*[^\r\n"]*\r?\n', re.IGNORECASE)
_LENGTH_NAME = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
_HEADER = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*")
_DIGITS = re.compile(rb"[0-9]{1,18}")
# Longest tail of a chunk that could be the start of a header split across reads.
_TAIL = 64


@attrs.frozen
class Message:
    """A well-framed message: its parsed JSON value."""

    value: Any


@attrs.frozen
class BadFrame:
    """A message that could not be taken as framed.

    `value` is the JSON message recovered after bad headers (so its id can be answered), or
    None; `ident` is an id read from the start of an oversized body that was skipped.
    """

    problem: str
    value: Any = None
    ident: Any = None
    method: str | None = None
    oversized: bool = False


Event = Message | BadFrame


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _clip(raw: bytes, limit: int = 40) -> str:
    text = raw.decode("utf-8", "backslashreplace")
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _recovered(raw: bytes) -> Any:
    """The JSON value of recovered bytes, or None when they are not a usable message."""
    try:
        return decode_body(raw)
    except BodyError:
        return None


@attrs.define
class _Pending:
    """Headers read, body awaited: `length` is None when the headers gave no usable length."""

    body_start: int
    length: int | None
    problem: str | None = None
    oversized: bool = False
    scanned: int = 0  # bytes after body_start already searched for the next header


class FrameParser:
    """Bytes in, events out; see the module docstring for the rules."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self.max_message_bytes = max_message_bytes
        self._buffer = bytearray()
        self._pending: _Pending | None = None
        self._skip = 0  # bytes of an oversized body still to discard
        self.garbage_bytes = 0  # dropped while resynchronising (the transport logs it)

    @property
    def buffered(self) -> int:
        """Bytes held now (bounded by the header limit plus the message limit)."""
        return len(self._buffer)

    @property
    def idle(self) -> bool:
        """Whether no message is partly read (nothing to settle when the stream goes quiet)."""
        return self._pending is None and not self._skip and not self._buffer.strip()

    def feed(self, data: bytes) -> list[Event]:
        """Take bytes from the stream; return the events they complete."""
        self._buffer += data
        return self._drain(stalled=False)

    def stalled(self) -> list[Event]:
        """The stream went quiet mid-message: settle what can be settled without more bytes."""
        return self._drain(stalled=True)

    def close(self) -> list[Event]:
        """End of stream: settle what can be, and report a message left incomplete."""
        events = self._drain(stalled=True)
        if self._pending is not None or self._buffer.strip():
            events.append(BadFrame("the stream ended inside a message"))
        self._buffer.clear()
        self._pending = None
        self._skip = 0
        return events

    # -- the state machine ------------------------------------------------------------------

    def _drain(self, *, stalled: bool) -> list[Event]:
        events: list[Event] = []
        progress = True
        while progress:
            if self._skip:
                progress = self._skip_oversized()
            elif self._pending is None:
                progress = self._read_headers(events, stalled=stalled)
            else:
                progress = self._read_body(self._pending, events, stalled=stalled)
        return events

    def _drop(self, count: int) -> None:
        del self._buffer[:count]

    def _next_header(self, start: int, end: int | None = None) -> int | None:
        """Offset of the next complete Content-Length line at or after `start`."""
        match = _LENGTH_LINE.search(self._buffer, start, len(self._buffer) if end is None else end)
        return match.start() if match is not None else None

    def _skip_oversized(self) -> bool:
        """Discard an oversized body as it arrives; a header inside it ends the skip early."""
        found = self._next_header(0, min(len(self._buffer), self._skip + _TAIL))
        if found is not None and found < self._skip:
            self._drop(found)
            self._skip = 0
            return True
        # Keep a tail in case a header is split across reads.
        count = min(self._skip, max(0, len(self._buffer) - _TAIL))
        self._drop(count)
        self._skip -= count
        return self._skip == 0

    def _read_headers(self, events: list[Event], *, stalled: bool) -> bool:
        """Parse the next header block into self._pending; False when more bytes are needed."""
        blank = 0
        while blank < len(self._buffer) and self._buffer[blank] in b"\r\n \t":
            blank += 1
        self._drop(blank)  # blank lines between messages are harmless
        if not self._buffer:
            return False
        if self._buffer[:1] in (b"{", b"["):
            return self._headerless(events, stalled=stalled)
        end = _HEADER_END.search(self._buffer, 0, MAX_HEADER_BYTES + 4)
        if end is None:
            if len(self._buffer) <= MAX_HEADER_BYTES:
                return False
            return self._resync(1)  # no header block within the limit: garbage
        headers = self._headers(bytes(self._buffer[: end.start()]))
        body_start = end.end()
        lengths = [value for name, value in headers if name == b"content-length"]
        if not headers:
            self.garbage_bytes += body_start  # nothing but junk: drop it and look again
            self._drop(body_start)
            return True
        if not lengths:
            self._pending = _Pending(body_start, None, "there is no Content-Length header")
        elif len(set(lengths)) > 1:
            shown = ", ".join(_clip(v, 20) for v in lengths)
            self._pending = _Pending(
                body_start, None, f"conflicting Content-Length headers ({shown})"
            )
        elif lengths[0].isdigit() and (
            len(lengths[0]) > 18 or int(lengths[0]) > self.max_message_bytes
        ):
            length = int(lengths[0]) if len(lengths[0]) <= 18 else None
            self._pending = _Pending(body_start, length, oversized=True)
        elif _DIGITS.fullmatch(lengths[0]) is None:
            problem = f"Content-Length {_clip(lengths[0])} is not a byte count"
            self._pending = _Pending(body_start, None, problem)
        else:
            self._pending = _Pending(body_start, int(lengths[0]))
        return True

    def _headers(self, block: bytes) -> list[tuple[bytes, bytes]]:
        """(lower-case name, value) per header line; junk lines are dropped."""
        out: list[tuple[bytes, bytes]] = []
        for line in _LINE_END.split(block):
            # Junk glued before a Content-Length: the message starts at the header.
            inside = _LENGTH_NAME.search(line)
            if inside is not None and inside.start() > 0:
                self.garbage_bytes += inside.start()
                line = line[inside.start() :]
            header = _HEADER.fullmatch(line)
            if header is None:
                self.garbage_bytes += len(line)
                continue
            out.append((header.group(1).lower(), header.group(2)))
        return out

    def _resync(self, start: int) -> bool:
        """Drop everything before the next Content-Length at or after `start`."""
        match = _LENGTH_NAME.search(self._buffer, start)
        if match is None:
            keep = min(len(self._buffer), _TAIL)
            self.garbage_bytes += len(self._buffer) - keep
            self._drop(len(self._buffer) - keep)
            return False
        self.garbage_bytes += match.start()
        self._drop(match.start())
        return True

    def _headerless(self, events: list[Event], *, stalled: bool) -> bool:
        """JSON where a header should be: recover it when whole, else wait or resync."""
        following = self._next_header(1)
        limit = following if following is not None else len(self._buffer)
        settle = following is not None or stalled or limit > MAX_HEADERLESS_BYTES
        end = None
        if settle or self._buffer[:limit].rstrip()[-1:] in (b"}", b"]"):
            end = json_end(self._buffer[: min(limit, MAX_HEADERLESS_BYTES)], 0)
        if end is not None:
            value = _recovered(bytes(self._buffer[:end]))
            self._drop(end)
            events.append(BadFrame("a message without headers", value=value))
            return True
        if settle:
            events.append(BadFrame("a message without headers that is not whole JSON"))
            if following is not None:
                self.garbage_bytes += following
                self._drop(following)
                return True
            self._resync(1)
            return False
        return False

    def _read_body(self, pending: _Pending, events: list[Event], *, stalled: bool) -> bool:
        available = len(self._buffer) - pending.body_start
        if pending.oversized:
            return self._oversized(pending, events, stalled=stalled)
        # A header inside the body means the body ended there (see the module docstring).
        scan_from = pending.body_start + max(0, pending.scanned - _TAIL)
        scan_to = len(self._buffer)
        if pending.length is not None:
            scan_to = min(scan_to, pending.body_start + pending.length + _TAIL)
        following = self._next_header(scan_from, scan_to)
        pending.scanned = available
        if following is not None and (
            pending.length is None or following < pending.body_start + pending.length
        ):
            body = bytes(self._buffer[pending.body_start : following])
            if pending.length is None and not body.strip():
                # A header block with no length and no body: junk before the next message.
                self.garbage_bytes += following
                self._drop(following)
                self._pending = None
                return True
            problem = pending.problem or (
                f"Content-Length {pending.length} is longer than the message "
                f"({len(body.rstrip())} bytes before the next header)"
            )
            self._settle(problem, body, following, events)
            return True
        if pending.length is None:
            return self._recover(pending, events, stalled=stalled)
        if available < pending.length:
            return stalled and self._settle_short_body(pending, events)
        body = bytes(self._buffer[pending.body_start : pending.body_start + pending.length])
        try:
            value = decode_body(body)
        except BodyError as exc:
            return self._bad_body(pending, str(exc), events, stalled=stalled)
        self._drop(pending.body_start + pending.length)
        self._pending = None
        events.append(Message(value))
        return True

    def _settle(self, problem: str, body: bytes, end: int, events: list[Event]) -> None:
        """Report a bad frame whose message (if any) starts `body`, which ends by `end`.

        With a message recovered, reading goes on right after it: what follows may be
        another message with broken headers of its own.
        """
        assert self._pending is not None
        whole = json_end(body, 0)
        value = _recovered(body[:whole]) if whole is not None else None
        events.append(BadFrame(problem, value=value))
        if value is not None and whole is not None:
            end = min(end, self._pending.body_start + whole)
        self._drop(end)
        self._pending = None

    def _settle_short_body(self, pending: _Pending, events: list[Event]) -> bool:
        """Quiet with fewer bytes than declared: settle if what came starts with a whole message.

        A body of the declared length that is valid JSON cannot begin with a complete object
        and go on, so a whole object at the start means the length was too large (what
        follows it is junk, dropped with it).
        """
        start = pending.body_start
        end = json_end(self._buffer, start)
        if end is None:
            return False  # not a whole message yet: a slow client, still sending
        self._settle(
            f"Content-Length {pending.length} is longer than the message ({end - start} bytes)",
            bytes(self._buffer[start:end]),
            len(self._buffer),
            events,
        )
        return True

    def _bad_body(
        self, pending: _Pending, problem: str, events: list[Event], *, stalled: bool
    ) -> bool:
        """A body of the declared length that does not parse: cut short, or just bad."""
        assert pending.length is not None
        start, cut = pending.body_start, pending.body_start + pending.length
        following = self._next_header(cut)
        limit = following if following is not None else len(self._buffer)
        # Parsing is only tried when it can succeed, so a long body is not re-parsed per read.
        ends_whole = self._buffer[cut:limit].rstrip()[-1:] in (b"}", b"]")
        settle = stalled or following is not None
        end = json_end(self._buffer[:limit], start) if ends_whole or settle else None
        if end is not None:
            relation = "shorter" if end > cut else "longer"
            self._settle(
                problem
                if end == cut
                else f"Content-Length {pending.length} is {relation} than the message "
                f"({end - start} bytes)",
                bytes(self._buffer[start:end]),
                end,
                events,
            )
            return True
        starts_json = self._buffer[start:cut].lstrip()[:1] in (b"{", b"[")
        if end is None and starts_json and not settle:
            return False  # the rest of a message cut short may still be on its way
        events.append(BadFrame(problem))
        self._drop(cut)
        self._pending = None
        return True

    def _recover(self, pending: _Pending, events: list[Event], *, stalled: bool) -> bool:
        """No usable length: take the JSON object after the headers once it is whole."""
        assert pending.problem is not None
        start = pending.body_start
        last = self._buffer[start:].rstrip()[-1:]
        # Parsing is only tried when it can succeed, so a long body is not re-parsed per read.
        if last in (b"}", b"]") or stalled:
            end = json_end(self._buffer, start)
            if end is not None:
                self._settle(pending.problem, bytes(self._buffer[start:end]), end, events)
                return True
        if stalled or len(self._buffer) - start > self.max_message_bytes:
            self._settle(pending.problem, b"", len(self._buffer), events)
            return True
        return False

    def _oversized(self, pending: _Pending, events: list[Event], *, stalled: bool) -> bool:
        """Refuse a message over the limit: read its id from the first bytes, skip the rest."""
        available = len(self._buffer) - pending.body_start
        if available < 4096 and not stalled:
            return False  # wait for the start of the body: it names the id to answer
        prefix = bytes(self._buffer[pending.body_start : pending.body_start + 4096])
        ident, method = top_level_fields(prefix)
        declared = _size(pending.length) if pending.length is not None else "over an exabyte"
        events.append(
            BadFrame(
                f"a message of {declared} is over the limit of {_size(self.max_message_bytes)}",
                ident=ident,
                method=method,
                oversized=True,
            )
        )
        self._drop(pending.body_start)
        self._pending = None
        # Without a usable length, skip until the next header.
        self._skip = pending.length if pending.length is not None else 1 << 62
        return True
