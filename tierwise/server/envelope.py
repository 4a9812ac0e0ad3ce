"""The JSON-RPC 2.0 and LSP lifecycle rules, checked before pygls sees a message.

pygls 2.1.1 answers none of these: a batch, a message without `"jsonrpc": "2.0"`, a method
that is not a string, a request before `initialize` or after `shutdown`. Each request that
carries an id gets an error here instead; anything else that breaks the rules gets the
JSON-RPC answer for an unidentifiable message (id null). Nothing is echoed at length.
"""

from __future__ import annotations

from typing import Any

import attrs

from tierwise.server.validation import clip, json_type

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002
# Far deeper than any LSP message, far below what recursive code downstream can take.
MAX_DEPTH = 64

INITIALIZE = "initialize"
SHUTDOWN = "shutdown"
EXIT = "exit"


def is_id(value: Any) -> bool:
    """Whether a value can be a request id (an integer or a string)."""
    return isinstance(value, int | str) and not isinstance(value, bool)


@attrs.frozen
class Refusal:
    """An error answer to a message that breaks the rules."""

    ident: int | str | None
    code: int
    message: str

    def response(self) -> dict[str, Any]:
        """The JSON-RPC error response."""
        return {
            "jsonrpc": "2.0",
            "id": self.ident,
            "error": {"code": self.code, "message": self.message},
        }


def check(value: Any) -> tuple[dict[str, Any] | None, list[Refusal]]:
    """The message to hand on (or None) and the refusals to send for it."""
    if isinstance(value, list):
        return None, _batch(value)
    if not isinstance(value, dict):
        return None, [
            Refusal(
                None, INVALID_REQUEST, f"a message must be a JSON object, got {json_type(value)}"
            )
        ]
    has_id = "id" in value
    ident = value.get("id")
    answer_to = ident if is_id(ident) else None
    if has_id and not is_id(ident):
        return None, [
            Refusal(
                None,
                INVALID_REQUEST,
                f"id must be an integer or a string, got {json_type(ident)} {clip(ident, 30)}",
            )
        ]
    if _too_deep(value):
        return None, [
            Refusal(
                answer_to, INVALID_REQUEST, f"the message is nested deeper than {MAX_DEPTH} levels"
            )
        ]
    if value.get("jsonrpc") != "2.0":
        got = "none" if "jsonrpc" not in value else clip(value.get("jsonrpc"), 30)
        return None, [Refusal(answer_to, INVALID_REQUEST, f'"jsonrpc" must be "2.0", got {got}')]
    if "method" in value:
        method = value["method"]
        if not isinstance(method, str):
            return None, [
                Refusal(
                    answer_to,
                    INVALID_REQUEST,
                    f"method must be a string, got {json_type(method)} {clip(method, 30)}",
                )
            ]
        params = value.get("params")
        if params is not None and not isinstance(params, dict | list):
            what = f"{method!r}" if len(method) <= 60 else clip(method)
            return None, [
                Refusal(
                    answer_to,
                    INVALID_PARAMS,
                    f"params of {what} must be an object or an array, got {json_type(params)}",
                )
            ]
        return value, []
    if has_id and ("result" in value or "error" in value):
        return value, []  # a response to one of our requests
    return None, [
        Refusal(
            answer_to,
            INVALID_REQUEST,
            "a message needs a method (a request or notification), "
            "or a result or an error (a response)",
        )
    ]


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _batch(items: list[Any]) -> list[Refusal]:
    message = "batches are not part of the LSP: send each message on its own"
    refusals = [
        Refusal(item["id"], INVALID_REQUEST, message)
        for item in items
        if isinstance(item, dict) and is_id(item.get("id")) and "method" in item
    ]
    return refusals or [Refusal(None, INVALID_REQUEST, message)]


@attrs.define
class Lifecycle:
    """initialize, shutdown and exit, as the LSP orders them."""

    initialized: bool = False
    shutting_down: bool = False

    def admit(self, message: dict[str, Any]) -> Refusal | None:
        """A refusal for a message that comes at the wrong time; None lets it through.

        Notifications that come at the wrong time are dropped by the caller (they get no
        answer by definition); `exit` always passes.
        """
        method = message.get("method")
        if method is None or method == EXIT:
            return None
        ident = message.get("id")
        if method in (INITIALIZE, SHUTDOWN) and "id" not in message:
            return Refusal(None, INVALID_REQUEST, f"{method} must be a request (with an id)")
        if not self.initialized:
            if method == INITIALIZE:
                self.initialized = True
                return None
            return Refusal(
                ident,
                SERVER_NOT_INITIALIZED,
                f"the server is not initialized: send initialize before {clip(method)}",
            )
        if self.shutting_down:
            return Refusal(
                ident,
                INVALID_REQUEST,
                f"the server is shutting down: {clip(method)} came after shutdown, "
                "and only exit is accepted now",
            )
        if method == INITIALIZE:
            return Refusal(ident, INVALID_REQUEST, "initialize was already received")
        if method == SHUTDOWN:
            self.shutting_down = True
        return None

    @property
    def exit_code(self) -> int:
        """The process exit code for `exit`: 0 after shutdown, 1 without (as the LSP says)."""
        return 0 if self.shutting_down else 1
