"""The two wire formats the fake server speaks, as pure encoders (no sockets, no state).

tests/fakes/wire.py decides what happens to a request (the scripted behaviour) and writes
bytes; these classes only say what the Anthropic Messages API and the OpenAI Chat Completions
API would send for it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def text_of(value: Any) -> str:
    """Every text an Anthropic or OpenAI request carries in system/messages/content, joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(text_of(item) for item in value)
    if isinstance(value, dict):
        if "content" in value:
            return text_of(value["content"])
        if value.get("type") == "text":
            return str(value.get("text", ""))
    return ""


def tokens(text: str) -> int:
    """The fake's token count: four characters a token."""
    return len(text) // 4


def pieces(text: str) -> list[str]:
    """Split a reply into word-sized stream chunks (spaces kept, so they join back exactly)."""
    return re.findall(r"\s*\S+\s*", text) or [text]


def prompt_tokens(body: dict[str, Any]) -> int:
    """Tokens of everything the request sends: system text plus every message."""
    return tokens(text_of(body.get("system", "")) + text_of(body.get("messages", [])))


@dataclass(frozen=True)
class Numbers:
    """Usage for one exchange: fresh input, cache read, cache write, output tokens."""

    fresh: int
    read: int
    write: int
    out: int


class WireFormat:
    """What one API sends back for a request body, a reply text and its usage numbers."""

    path = ""

    def __init__(self, body: dict[str, Any], reply: str, ident: int) -> None:
        self.body = body
        self.reply = reply
        self.ident = ident
        self.model = str(body.get("model", "fake-model"))
        # OpenAI: whether the client asked for usage (stream_options.include_usage) and gets it.
        self.usage_in_stream = False

    def cache_prefix(self) -> str:
        """The request's text that a prompt cache would hold ("" when nothing is cacheable)."""
        raise NotImplementedError

    def invalid(self) -> str | None:
        """Why the real API would answer 400 to this body, or None."""
        raise NotImplementedError

    def error_body(self, code: int, message: str | None = None) -> dict[str, Any]:
        """The JSON error body for a status code."""
        raise NotImplementedError

    def whole(self, n: Numbers) -> dict[str, Any]:
        """The non-streaming JSON answer."""
        raise NotImplementedError

    def events(
        self, chunks: list[str], n: Numbers, *, usage_in_stream: bool, finish: str = "stop"
    ) -> Iterator[str]:
        """The streamed answer as SSE event texts, in the real API's order: the head events,
        one event per chunk, then the tail. `finish` is "stop" (a whole answer) or "length"
        (cut at the output token limit), spelled as each API spells it."""
        self.usage_in_stream = usage_in_stream
        yield from self.head(n)
        for chunk in chunks:
            yield self.delta(chunk)
        yield from self.tail(n, finish=finish)

    def head(self, n: Numbers) -> Iterator[str]:
        """The events before the first text delta."""
        raise NotImplementedError

    def delta(self, text: str) -> str:
        """One text delta event."""
        raise NotImplementedError

    def tail(self, n: Numbers, *, finish: str) -> Iterator[str]:
        """The events after the last text delta (stop reason, usage, end marker)."""
        raise NotImplementedError

    def malformed(self) -> str:
        """An SSE event whose data is not JSON."""
        raise NotImplementedError

    def stream_error(self, kind: str, message: str) -> str:
        """The error the API sends inside an already started (HTTP 200) stream."""
        raise NotImplementedError

    def keepalive(self) -> str:
        """What the API sends while the model is thinking: keeps every read alive."""
        raise NotImplementedError


class AnthropicFormat(WireFormat):
    """POST /v1/messages: named SSE events, usage in message_start and message_delta."""

    path = "/v1/messages"

    def invalid(self) -> str | None:
        for key in ("model", "max_tokens", "messages"):
            if key not in self.body:
                return f"{key}: Field required"
        # API version 2026-10-21 removed the sampling parameters.
        for key in ("temperature", "top_p", "top_k"):
            if key in self.body:
                return f"{key}: Extra inputs are not permitted"
        return None

    def cache_prefix(self) -> str:
        # Everything up to and including the last system block marked cache_control is cached.
        system = self.body.get("system")
        if not isinstance(system, list):
            return ""
        marked = [i for i, b in enumerate(system) if isinstance(b, dict) and b.get("cache_control")]
        return text_of(system[: marked[-1] + 1]) if marked else ""

    def error_body(self, code: int, message: str | None = None) -> dict[str, Any]:
        kind = ERROR_TYPES.get(code, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message or f"fake {code}"}}

    def _message(
        self, content: list[Any], n: Numbers, out: int, stop: str | None
    ) -> dict[str, Any]:
        usage = {
            "input_tokens": n.fresh,
            "cache_read_input_tokens": n.read,
            "cache_creation_input_tokens": n.write,
            "output_tokens": out,
        }
        return {
            "id": f"msg_fake_{self.ident}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }

    def whole(self, n: Numbers) -> dict[str, Any]:
        return self._message([{"type": "text", "text": self.reply}], n, n.out, "end_turn")

    @staticmethod
    def _event(name: str, **data: Any) -> str:
        return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

    # The Messages API always streams usage: message_start has the input side and
    # message_delta the cumulative output tokens.
    def head(self, n: Numbers) -> Iterator[str]:
        yield self._event("message_start", message=self._message([], n, 1, None))
        yield self._event(
            "content_block_start", index=0, content_block={"type": "text", "text": ""}
        )
        yield self._event("ping")

    def delta(self, text: str) -> str:
        return self._event(
            "content_block_delta", index=0, delta={"type": "text_delta", "text": text}
        )

    def tail(self, n: Numbers, *, finish: str) -> Iterator[str]:
        yield self._event("content_block_stop", index=0)
        yield self._event(
            "message_delta",
            delta={"stop_reason": "max_tokens" if finish == "length" else "end_turn",
                   "stop_sequence": None},
            usage={"output_tokens": n.out},
        )  # fmt: skip
        yield self._event("message_stop")

    def stream_error(self, kind: str, message: str) -> str:
        # What the API sends when, say, it is overloaded after the answer has begun.
        return self._event("error", error={"type": kind, "message": message})

    def keepalive(self) -> str:
        return self._event("ping")

    def malformed(self) -> str:
        # The data line breaks off mid-object.
        return 'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": \n\n'


class OpenAIFormat(WireFormat):
    """POST /v1/chat/completions: `data: {chunk}` lines, usage last, then `data: [DONE]`."""

    path = "/v1/chat/completions"

    def invalid(self) -> str | None:
        for key in ("model", "messages"):
            if key not in self.body:
                return f"you must provide a {key} parameter"
        return None

    def cache_prefix(self) -> str:
        # OpenAI caches automatically: the system message is the stable prefix here.
        messages = self.body.get("messages") or []
        first = messages[0] if messages else {}
        system = isinstance(first, dict) and first.get("role") in ("system", "developer")
        return text_of(first) if system else ""

    def error_body(self, code: int, message: str | None = None) -> dict[str, Any]:
        kind = ERROR_TYPES.get(code, "server_error")
        error = {"message": message or f"fake {code}", "type": kind, "param": None, "code": None}
        return {"error": error}

    @staticmethod
    def _usage(n: Numbers) -> dict[str, Any]:
        prompt = n.fresh + n.read + n.write  # prompt_tokens includes the cached tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": n.out,
            "total_tokens": prompt + n.out,
            "prompt_tokens_details": {"cached_tokens": n.read},
        }

    def _envelope(self, kind: str, choices: list[Any], **extra: Any) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{self.ident}",
            "object": kind,
            "created": int(time.time()),
            "model": self.model,
            "choices": choices,
            **extra,
        }

    def whole(self, n: Numbers) -> dict[str, Any]:
        message = {"role": "assistant", "content": self.reply}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return self._envelope("chat.completion", [choice], usage=self._usage(n))

    def _chunk(self, delta: dict[str, Any], finish: str | None) -> str:
        extra: dict[str, Any] = {"usage": None} if self.usage_in_stream else {}
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        data = self._envelope("chat.completion.chunk", [choice], **extra)
        return f"data: {json.dumps(data)}\n\n"

    def head(self, n: Numbers) -> Iterator[str]:
        yield self._chunk({"role": "assistant", "content": ""}, None)

    def delta(self, text: str) -> str:
        return self._chunk({"content": text}, None)

    def tail(self, n: Numbers, *, finish: str) -> Iterator[str]:
        yield self._chunk({}, finish)
        if self.usage_in_stream:
            final = self._envelope("chat.completion.chunk", [], usage=self._usage(n))
            yield f"data: {json.dumps(final)}\n\n"
        yield "data: [DONE]\n\n"

    def stream_error(self, kind: str, message: str) -> str:
        # OpenAI-style servers put an error object in a data line of the open stream.
        error = {"message": message, "type": kind, "param": None, "code": None}
        return f"data: {json.dumps({'error': error})}\n\n"

    def keepalive(self) -> str:
        return ": keepalive\n\n"  # an SSE comment, as proxies and llama-server send

    def malformed(self) -> str:
        return 'data: {"id": "chatcmpl-broken", "choices": [\n\n'
