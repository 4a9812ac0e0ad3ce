"""Random framing through the frame parser (in process, so thousands of cases are cheap).

The real server runs the same parser; tests/protocol/test_framing.py and test_fuzz_server.py
send bytes over its stdio. Here the properties are checked on every split of the stream:
messages come out whole and in order, each request's id survives any header damage, nothing
raises, and what the parser holds stays bounded.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.protocol.fuzzing import count, examples
from tests.rpc import frame
from tierwise.server.framing import MAX_HEADER_BYTES, BadFrame, Event, FrameParser, Message

LIMIT = 4096  # a small message limit, so that oversized bodies are cheap to generate

json_leaf = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=30)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def requests(draw: st.DrawFn, ident: int) -> dict[str, Any]:
    """A request with a known id and random params (including header-like text)."""
    params = draw(json_value | st.just({"t": "Content-Length: 12\r\n\r\n{}"}))
    return {
        "jsonrpc": "2.0",
        "id": ident,
        "method": draw(st.text(min_size=1, max_size=20)),
        "params": params,
    }


def run(parser: FrameParser, data: bytes, cuts: list[int]) -> list[Event]:
    """Feed `data` split at `cuts`, settle at the end as a quiet stream would."""
    events: list[Event] = []
    last = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        events += parser.feed(data[last:cut])
        last = cut
        assert parser.buffered <= MAX_HEADER_BYTES + LIMIT + 64 * 1024
    events += parser.stalled()
    return events


def ids_seen(events: list[Event]) -> list[Any]:
    """Every request id an event lets the server answer (a message, or a bad frame's id)."""
    out = []
    for event in events:
        value = event.value if isinstance(event, Message | BadFrame) else None
        if isinstance(value, dict) and "id" in value:
            out.append(value["id"])
        elif isinstance(event, BadFrame) and event.ident is not None:
            out.append(event.ident)
    return out


@examples(500)
@given(
    messages=st.lists(st.integers(1, 10**6).flatmap(requests), min_size=1, max_size=6),
    cuts=st.lists(st.integers(0, 10**6), max_size=12),
)
def test_well_framed_messages_come_out_whole_in_order_however_split(
    messages: list[dict[str, Any]], cuts: list[int]
) -> None:
    count("framing: split streams")
    data = b"".join(frame(m) for m in messages)
    events = run(FrameParser(LIMIT * 1000), data, cuts)
    assert events == [Message(m) for m in messages]


HEADER_DAMAGE = {
    "lowercase": lambda body: b"content-length: %d\r\n\r\n" % len(body) + body,
    "lf only": lambda body: b"Content-Length: %d\n\n" % len(body) + body,
    "extra header": lambda body: b"Content-Length: %d\r\nX-A: b\r\n\r\n" % len(body) + body,
    "duplicate": lambda body: (
        b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body)) + body
    ),
    "conflict": lambda body: b"Content-Length: %d\r\nContent-Length: 3\r\n\r\n" % len(body) + body,
    "non-numeric": lambda body: b"Content-Length: twelve\r\n\r\n" + body,
    "negative": lambda body: b"Content-Length: -%d\r\n\r\n" % len(body) + body,
    "missing": lambda body: b"Content-Type: a\r\n\r\n" + body,
    "no headers": lambda body: body,
    "too small": lambda body: b"Content-Length: %d\r\n\r\n" % (len(body) // 2) + body,
    "too large": lambda body: b"Content-Length: %d\r\n\r\n" % (len(body) + 17) + body,
    "zero": lambda body: b"Content-Length: 0\r\n\r\n" + body,
    "oversized": lambda body: b"Content-Length: 99999999999\r\n\r\n" + body,
    "nul": lambda body: b"Content-Length: 1\x002\r\n\r\n" + body,
    "garbage first": lambda body: b"\x00garbage\xff\r\n" + frame(json.loads(body)),
}


@examples(1500)
@given(
    damage=st.lists(st.sampled_from(sorted(HEADER_DAMAGE)), min_size=1, max_size=5),
    ident=st.integers(1, 10**9),
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    params=json_value,
)
def test_every_request_id_survives_header_damage(
    damage: list[str], ident: int, cuts: list[int], params: Any
) -> None:
    count("framing: damaged headers")
    sent: list[int] = []
    data = b""
    for i, kind in enumerate(damage):
        body = json.dumps(
            {"jsonrpc": "2.0", "id": ident + i, "method": "m", "params": params}
        ).encode()
        data += HEADER_DAMAGE[kind](body)
        sent.append(ident + i)
    sentinel = {"jsonrpc": "2.0", "id": "sentinel", "method": "m"}
    events = run(FrameParser(LIMIT * 1000), data + frame(sentinel), cuts)
    # The well-framed message after the damage always comes through as itself.
    assert events[-1] == Message(sentinel)
    seen = ids_seen(events)
    # An oversized length swallows bytes up to the next Content-Length line: a message right
    # after it that has no such line cannot be told apart from the skipped body.
    lost, swallowing = set(), False
    for i, kind in enumerate(damage):
        if swallowing and kind in ("missing", "no headers"):
            lost.add(ident + i)
        else:
            swallowing = kind == "oversized"
    assert all(i in seen for i in sent if i not in lost), (damage, seen)


@examples(1000)
@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 10**6), max_size=10))
def test_random_bytes_never_raise_and_a_good_message_still_gets_through(
    data: bytes, cuts: list[int]
) -> None:
    count("framing: random bytes")
    parser = FrameParser(LIMIT)
    run(parser, data, cuts)
    parser.close()  # whatever was left is reported, not raised
    good = {"jsonrpc": "2.0", "id": 7, "method": "m"}
    assert parser.feed(frame(good)) == [Message(good)]


@examples(700)
@given(
    junk=st.binary(max_size=600).filter(lambda b: b"content-length" not in b.lower()),
    good=st.integers(1, 10**6).flatmap(requests),
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
)
def test_resynchronises_on_the_next_header_after_garbage(
    junk: bytes, good: dict[str, Any], cuts: list[int]
) -> None:
    count("framing: garbage then a message")
    sentinel = {"jsonrpc": "2.0", "id": "sentinel", "method": "m"}
    events = run(FrameParser(LIMIT * 1000), junk + frame(good) + frame(sentinel), cuts)
    assert events[-1] == Message(sentinel)
    # The message right after the garbage is either read whole or answered by its id.
    assert good["id"] in ids_seen(events) or junk.strip()[:1] in (b"{", b"[")


@examples(200)
@given(size=st.integers(LIMIT + 1, LIMIT * 50), ident=st.integers(1, 10**6))
def test_an_oversized_message_is_skipped_unbuffered_and_its_id_read(size: int, ident: int) -> None:
    count("framing: oversized")
    parser = FrameParser(LIMIT)
    head = json.dumps({"jsonrpc": "2.0", "id": ident, "method": "m", "params": {"t": ""}}).encode()
    body = head[:-3] + b"x" * (size - len(head)) + b'"}}'
    events = []
    for start in range(0, len(body) + 100, 1000):
        chunk = (b"Content-Length: %d\r\n\r\n" % size + body)[start : start + 1000]
        events += parser.feed(chunk)
        assert parser.buffered <= MAX_HEADER_BYTES + 1000 + 64
    events += parser.feed(frame({"jsonrpc": "2.0", "id": "next", "method": "m"}))
    assert isinstance(events[0], BadFrame) and events[0].oversized
    assert events[0].ident == ident
    assert events[-1] == Message({"jsonrpc": "2.0", "id": "next", "method": "m"})


@examples(500)
@given(
    kind=st.sampled_from(sorted(HEADER_DAMAGE)),
    junk=st.binary(max_size=40).filter(lambda b: b"content-length" not in b.lower()),
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
)
def test_a_damaged_request_then_silence_is_still_answered(
    kind: str, junk: bytes, cuts: list[int]
) -> None:
    # The client sends one broken request (maybe with junk after it) and waits: nothing else
    # will come, so the quiet period has to settle it.
    count("framing: damaged, then quiet")
    body = json.dumps({"jsonrpc": "2.0", "id": 42, "method": "m"}).encode()
    events = run(FrameParser(LIMIT * 1000), HEADER_DAMAGE[kind](body) + junk, cuts)
    assert 42 in ids_seen(events), (kind, events)
