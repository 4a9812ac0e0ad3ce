"""Bad framing and broken JSON-RPC over the real stdio server: every request gets an answer.

Each case sends bytes exactly as a broken client would, then checks what came back for each id
(handled normally, which for the probe method is MethodNotFound, or refused with a precise
code), how many id-null errors came, and that a well-framed request right after is answered.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from tests.protocol.conftest import spawn
from tests.rpc import RpcServer, frame

HANDLED = -32601  # the probe method has no handler: pygls answering it means it got through
PARSE_ERROR, INVALID_REQUEST, INVALID_PARAMS, NOT_INITIALIZED = -32700, -32600, -32602, -32002


def body(ident: Any, method: Any = "tierwise/probe", **extra: Any) -> bytes:
    """A request body (JSON bytes)."""
    return json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, **extra}).encode()


def with_length(length: bytes, payload: bytes) -> bytes:
    return b"Content-Length: " + length + b"\r\n\r\n" + payload


@attrs.frozen
class Case:
    """Bytes built from request ids; the code expected for each id; id-null errors expected."""

    name: str
    send: Callable[[list[int]], list[bytes]]  # chunks, written with a short pause between
    expect: list[int]  # one code per id, in order
    null_errors: int = 0
    message: str = ""  # a substring of the first id's error message


def _one(make: Callable[[bytes], bytes]) -> Callable[[list[int]], list[bytes]]:
    return lambda ids: [make(body(ids[0]))]


CASES = [
    # Unambiguous variations are accepted.
    Case(
        "lowercase header name",
        _one(lambda b: b"content-length: %d\r\n\r\n" % len(b) + b),
        [HANDLED],
    ),
    Case(
        "upper-case header name",
        _one(lambda b: b"CONTENT-LENGTH: %d\r\n\r\n" % len(b) + b),
        [HANDLED],
    ),
    Case("LF-only line ends", _one(lambda b: b"Content-Length: %d\n\n" % len(b) + b), [HANDLED]),
    Case("mixed line ends", _one(lambda b: b"Content-Length: %d\r\n\n" % len(b) + b), [HANDLED]),
    Case(
        "spaces around the value",
        _one(lambda b: b"Content-Length:   %d  \r\n\r\n" % len(b) + b),
        [HANDLED],
    ),
    Case(
        "Content-Type as well",
        _one(
            lambda b: (
                b"Content-Length: %d\r\n"
                b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n" % len(b) + b
            )
        ),
        [HANDLED],
    ),
    Case(
        "Content-Type first",
        _one(lambda b: b"Content-Type: x\r\nContent-Length: %d\r\n\r\n" % len(b) + b),
        [HANDLED],
    ),
    Case(
        "an unknown header",
        _one(lambda b: b"X-Trace: 1\r\nContent-Length: %d\r\n\r\n" % len(b) + b),
        [HANDLED],
    ),
    Case(
        "a duplicate, same value",
        _one(lambda b: b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(b), len(b)) + b),
        [HANDLED],
    ),
    Case("blank lines before", _one(lambda b: b"\r\n\r\n\n" + frame(json.loads(b))), [HANDLED]),
    Case(
        "a UTF-8 BOM in the body",
        _one(lambda b: with_length(b"%d" % (len(b) + 3), b"\xef\xbb\xbf" + b)),
        [HANDLED],
    ),
    Case(
        "pretty-printed JSON",
        lambda ids: [frame_raw(json.dumps(json.loads(body(ids[0])), indent=2).encode())],
        [HANDLED],
    ),
    Case(
        "a header-like string inside the body",
        lambda ids: [
            frame(
                {
                    "jsonrpc": "2.0",
                    "id": ids[0],
                    "method": "tierwise/probe",
                    "params": {"t": "Content-Length: 5\r\n\r\n{}"},
                }
            )
        ],
        [HANDLED],
    ),
    Case(
        "two messages in one write",
        lambda ids: [body_frame(ids[0]) + body_frame(ids[1])],
        [HANDLED, HANDLED],
    ),
    Case("one byte per write", lambda ids: [bytes([c]) for c in body_frame(ids[0])], [HANDLED]),
    Case(
        "a pause longer than the quiet period inside the body",
        lambda ids: [body_frame(ids[0])[:30], b"<pause>", body_frame(ids[0])[30:]],
        [HANDLED],
    ),
    # Garbage before a header: resynchronised on the next Content-Length.
    Case(
        "text before the header",
        _one(lambda b: b"hello there" + with_length(b"%d" % len(b), b)),
        [HANDLED],
    ),
    Case(
        "NULs before the header",
        _one(lambda b: b"\x00\x00\x00" + with_length(b"%d" % len(b), b)),
        [HANDLED],
    ),
    Case(
        "binary before the header",
        _one(lambda b: bytes(range(256)) + with_length(b"%d" % len(b), b)),
        [HANDLED],
    ),
    Case(
        "20 KB of junk before the header",
        _one(lambda b: b"x" * 20_000 + with_length(b"%d" % len(b), b)),
        [HANDLED],
    ),
    Case(
        "junk lines with blank lines",
        _one(lambda b: b"junk\r\n\r\nmore: junk\r\n\r\n" + with_length(b"%d" % len(b), b)),
        [HANDLED],
    ),
    Case(
        "junk glued to the header",
        _one(lambda b: b"xyzContent-Length: %d\r\n\r\n" % len(b) + b),
        [HANDLED],
    ),
    # Lengths that cannot be used: the request is answered with its id, and refused.
    Case(
        "a non-numeric length",
        _one(lambda b: with_length(b"abc", b)),
        [PARSE_ERROR],
        message="'abc' is not a byte count",
    ),
    Case(
        "a negative length",
        _one(lambda b: with_length(b"-5", b)),
        [PARSE_ERROR],
        message="'-5' is not a byte count",
    ),
    Case("a fractional length", _one(lambda b: with_length(b"12.5", b)), [PARSE_ERROR]),
    Case("a hex length", _one(lambda b: with_length(b"0x40", b)), [PARSE_ERROR]),
    Case("an empty length", _one(lambda b: with_length(b"", b)), [PARSE_ERROR]),
    Case("a NUL in the length", _one(lambda b: with_length(b"4\x002", b)), [PARSE_ERROR]),
    Case(
        "no Content-Length",
        _one(lambda b: b"Content-Type: application/json\r\n\r\n" + b),
        [PARSE_ERROR],
        message="no Content-Length",
    ),
    Case(
        "conflicting duplicates",
        _one(lambda b: b"Content-Length: %d\r\nContent-Length: 7\r\n\r\n" % len(b) + b),
        [PARSE_ERROR],
        message="conflicting",
    ),
    Case("no headers at all", _one(lambda b: b), [PARSE_ERROR], message="without headers"),
    Case(
        "a length too small",
        _one(lambda b: with_length(b"10", b)),
        [PARSE_ERROR],
        message="shorter than the message",
    ),
    Case(
        "a length too small, then a good message",
        lambda ids: [with_length(b"10", body(ids[0])) + body_frame(ids[1])],
        [PARSE_ERROR, HANDLED],
    ),
    Case(
        "a length too large, alone",
        _one(lambda b: with_length(b"%d" % (len(b) + 50), b)),
        [PARSE_ERROR],
        message="longer than the message",
    ),
    Case(
        "a length too large, then a good message",
        lambda ids: [
            with_length(b"%d" % (len(body(ids[0])) + 500), body(ids[0])) + body_frame(ids[1])
        ],
        [PARSE_ERROR, HANDLED],
    ),
    Case(
        "a length of 100 GB",
        lambda ids: [with_length(b"100000000000", body(ids[0])), body_frame(ids[1])],
        [INVALID_REQUEST, HANDLED],
        message="over the limit",
    ),
    Case(
        "a length of 30 digits",
        lambda ids: [with_length(b"9" * 30, body(ids[0])), body_frame(ids[1])],
        [INVALID_REQUEST, HANDLED],
    ),
    Case(
        "over the limit, sent in full",
        lambda ids: [
            with_length(b"%d" % len(big := body(ids[0], params={"t": "x" * 70_000})), big)
        ],
        [INVALID_REQUEST],
        message="--max-message-bytes",
    ),
    # Bodies that are not one JSON-RPC message.
    Case(
        "a length of zero",
        lambda ids: [b"Content-Length: 0\r\n\r\n" + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "invalid JSON",
        lambda ids: [with_length(b"5", b"hello") + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "truncated JSON, padded",
        lambda ids: [with_length(b"12", b'{"jsonrpc": ') + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "invalid UTF-8",
        lambda ids: [with_length(b"4", b'"\xff\xfe"') + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "a huge integer",
        lambda ids: [
            frame_raw(b'{"jsonrpc":"2.0","id":' + b"9" * 5000 + b',"method":"x"}')
            + body_frame(ids[0])
        ],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "nested 20,000 deep",
        lambda ids: [frame_raw(b"[" * 20_000 + b"]" * 20_000) + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "nested 100 deep in params",
        lambda ids: [frame_raw(body(ids[0], params={"a": json.loads("[" * 100 + "]" * 100)}))],
        [INVALID_REQUEST],
        message="nested deeper",
    ),
    Case(
        "a batch",
        lambda ids: [frame([json.loads(body(ids[0])), json.loads(body(ids[1]))])],
        [INVALID_REQUEST, INVALID_REQUEST],
        message="batches",
    ),
    Case("an empty batch", lambda ids: [frame([]) + body_frame(ids[0])], [HANDLED], null_errors=1),
    Case("a number", lambda ids: [frame(5) + body_frame(ids[0])], [HANDLED], null_errors=1),
    Case("a string", lambda ids: [frame("hello") + body_frame(ids[0])], [HANDLED], null_errors=1),
    Case("null", lambda ids: [frame(None) + body_frame(ids[0])], [HANDLED], null_errors=1),
    Case(
        "no jsonrpc",
        lambda ids: [frame({"id": ids[0], "method": "tierwise/probe"})],
        [INVALID_REQUEST],
        message='"jsonrpc" must be "2.0"',
    ),
    Case(
        "jsonrpc 1.0",
        lambda ids: [frame({"jsonrpc": "1.0", "id": ids[0], "method": "x"})],
        [INVALID_REQUEST],
    ),
    Case(
        "method null",
        lambda ids: [frame({"jsonrpc": "2.0", "id": ids[0], "method": None})],
        [INVALID_REQUEST],
        message="method must be a string",
    ),
    Case(
        "a numeric method",
        lambda ids: [frame({"jsonrpc": "2.0", "id": ids[0], "method": 5})],
        [INVALID_REQUEST],
        message="got a number",
    ),
    Case(
        "an object method",
        lambda ids: [frame({"jsonrpc": "2.0", "id": ids[0], "method": {"a": 1}})],
        [INVALID_REQUEST],
    ),
    Case(
        "params a string",
        lambda ids: [frame({"jsonrpc": "2.0", "id": ids[0], "method": "x", "params": "p"})],
        [INVALID_PARAMS],
        message="must be an object or an array",
    ),
    Case(
        "neither method nor result",
        lambda ids: [frame({"jsonrpc": "2.0", "id": ids[0]})],
        [INVALID_REQUEST],
        message="needs a method",
    ),
    Case(
        "an object id",
        lambda ids: [frame({"jsonrpc": "2.0", "id": {"n": 1}, "method": "x"}) + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "a fractional id",
        lambda ids: [frame({"jsonrpc": "2.0", "id": 1.5, "method": "x"}) + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "a boolean id",
        lambda ids: [frame({"jsonrpc": "2.0", "id": True, "method": "x"}) + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "a null id",
        lambda ids: [frame({"jsonrpc": "2.0", "id": None, "method": "x"}) + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "a notification with method null",
        lambda ids: [frame({"jsonrpc": "2.0", "method": None}) + body_frame(ids[0])],
        [HANDLED],
        null_errors=1,
    ),
    Case(
        "a response to an unknown id",
        lambda ids: [frame({"jsonrpc": "2.0", "id": "nobody", "result": 1}) + body_frame(ids[0])],
        [HANDLED],
    ),
    Case(
        "a cancel for an unknown id",
        lambda ids: [
            frame({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 999}})
            + body_frame(ids[0])
        ],
        [HANDLED],
    ),
    Case(
        "an unknown $/ notification",
        lambda ids: [
            frame({"jsonrpc": "2.0", "method": "$/tierwise/x", "params": {}}) + body_frame(ids[0])
        ],
        [HANDLED],
    ),
]


def body_frame(ident: int) -> bytes:
    return frame(json.loads(body(ident)))


def frame_raw(payload: bytes) -> bytes:
    return with_length(b"%d" % len(payload), payload)


@pytest.fixture(scope="module")
def small_limit_server(workspace: tuple[Path, Path]) -> Any:
    """A server with a 64 KB message limit (so that an over-limit message can be sent whole)."""
    home, root = workspace
    rpc = spawn(home, "--max-message-bytes", "65536")
    rpc.initialize(root)
    yield rpc
    rpc.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_framing_case_is_answered_and_the_server_keeps_serving(
    case: Case, small_limit_server: RpcServer
) -> None:
    rpc = small_limit_server
    ids = [rpc.next_id() for _ in case.expect]
    nulls_before = len(rpc.null_id_errors)
    for chunk in case.send(ids):
        if chunk == b"<pause>":
            time.sleep(1.0)  # twice the server's quiet period: a slow client is not cut off
            continue
        rpc.send_raw(chunk)
        time.sleep(0.002 if len(chunk) == 1 else 0.05)
    replies = [rpc.response(ident) for ident in ids]
    for reply, code in zip(replies, case.expect, strict=True):
        assert reply.get("error", {}).get("code") == code, (case.name, reply)
        assert "Traceback" not in json.dumps(reply)
    assert case.message in replies[0]["error"]["message"]
    if case.null_errors:
        errors = rpc.wait_null_errors(nulls_before + case.null_errors)
        assert all(e["error"]["code"] in (PARSE_ERROR, INVALID_REQUEST) for e in errors)
    rpc.ping()
    assert len(rpc.null_id_errors) == nulls_before + case.null_errors
    assert rpc.output_problems == []
