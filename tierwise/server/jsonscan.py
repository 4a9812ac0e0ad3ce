"""JSON for the framing layer: decoding a body, where a JSON object ends, a prefix's id.

These work on raw bytes from the connection, so each one bounds what it does: no echo of the
input, no recursion error escaping, no conversion of a 5,000-digit number.
"""

from __future__ import annotations

import json
import re
from typing import Any


class BodyError(ValueError):
    """A body that is not a JSON message (the text says why)."""


def decode_body(body: bytes) -> Any:
    """The JSON value of a body: UTF-8 (a BOM is tolerated)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(
            f"the body is not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        value = json.loads(text.removeprefix("\ufeff"))
    except RecursionError:
        raise BodyError("the JSON is nested too deeply to parse") from None
    except json.JSONDecodeError as exc:
        raise BodyError(f"invalid JSON: {exc.msg} at offset {exc.pos}") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise BodyError(f"invalid JSON: {str(exc)[:120]}") from None
    return value


def json_end(buffer: bytes | bytearray, start: int) -> int | None:
    """Where a complete JSON object starting at `start` (after blanks) ends, else None."""
    text_start = start
    while text_start < len(buffer) and buffer[text_start] in b" \t\r\n":
        text_start += 1
    if text_start >= len(buffer) or buffer[text_start] not in b"{[":
        return None
    # JSON is ASCII-transparent in UTF-8: decoding with surrogateescape keeps offsets in bytes
    # equal to offsets in characters only for ASCII, so count bytes of the decoded prefix.
    text = bytes(buffer[text_start:]).decode("utf-8", "surrogateescape")
    try:
        _value, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):
        return None
    return text_start + len(text[:end].encode("utf-8", "surrogateescape"))


_TOKEN = re.compile(
    r'\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)|([{}\[\]:,]))'
)


def top_level_fields(prefix: bytes) -> tuple[Any, str | None]:
    """The top-level "id" and "method" of a JSON object from its first bytes (best effort).

    Used for an oversized body that is skipped unread, so that a request still gets an answer.
    Only keys at the top level count: an "id" inside params is not the message's id.
    """
    text = prefix.decode("utf-8", "ignore")
    found: dict[str, Any] = {}
    depth, pos = 0, 0
    key: Any = None
    value_of: Any = None
    expecting_key = False
    while (token := _TOKEN.match(text, pos)) is not None:
        pos = token.end()
        string, scalar, punct = token.groups()
        if punct in ("{", "["):
            if depth == 0 and punct == "[":
                break  # a batch: no single id
            value_of = None
            depth += 1
            expecting_key = depth == 1
        elif punct in ("}", "]"):
            depth -= 1
            if depth <= 0:
                break  # the end of the message: what follows is another one
        elif depth != 1:
            continue
        elif punct == ",":
            expecting_key = True
        elif punct == ":":
            value_of, expecting_key = key, False
        elif expecting_key:
            key = _loads(string) if string else None
        else:
            if value_of in ("id", "method"):
                found[value_of] = _loads(string or scalar)
            value_of = None
    ident, method = found.get("id"), found.get("method")
    valid_id = isinstance(ident, int | str) and not isinstance(ident, bool)
    return (ident if valid_id else None), (method if isinstance(method, str) else None)


def _loads(literal: str) -> Any:
    try:
        return json.loads(literal)
    except ValueError:
        return None
