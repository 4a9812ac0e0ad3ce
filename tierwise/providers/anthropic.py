"""The Anthropic adapter: the Messages API, streamed, with prompt caching on the stable prefix.

The official SDK is imported on first use only: importing it takes over a second, and the
language server must start without paying for it.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from tierwise.config import ProviderConfig
from tierwise.core.errors import BadResponse, ProviderError, Unavailable
from tierwise.core.models import Usage
from tierwise.providers.base import Completion, Delta, ProviderRequest
from tierwise.providers.keys import api_key, scrub
from tierwise.providers.sdk_errors import common_error
from tierwise.providers.streaming import StreamGuard

if TYPE_CHECKING:
    import httpx2
    from anthropic import AsyncAnthropic
    from anthropic.types import TextBlockParam

DEFAULT_URL = "https://api.anthropic.com"


def sdk_base_url(base_url: str | None) -> str | None:
    """The SDK's base URL for a configured one.

    The SDK appends "/v1/messages" itself, while tierwise's config (like every OpenAI-style URL
    and `tierwise doctor`) writes endpoints with the "/v1" suffix: drop it so both spellings work.
    """
    if base_url is None:
        return None
    trimmed = base_url.rstrip("/")
    return trimmed[: -len("/v1")] if trimmed.endswith("/v1") else trimmed


def system_blocks(request: ProviderRequest) -> list[TextBlockParam]:
    """The stable prefix as text blocks, the last one marked as a prompt-cache breakpoint.

    One breakpoint at the end of the stable part caches everything before it (instructions,
    then file context); the volatile question goes in the user message, after the breakpoint.
    The API rejects empty text blocks, so those are left out.
    """
    blocks: list[TextBlockParam] = [
        {"type": "text", "text": text} for text in (request.system, request.context) if text
    ]
    if blocks:
        blocks[-1]["cache_control"] = {"type": "ephemeral"}
    return blocks


class AnthropicProvider:
    """One configured Anthropic endpoint (the official API or a compatible proxy)."""

    def __init__(
        self,
        name: str,
        config: ProviderConfig,
        *,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self.name = name
        self.local = config.local
        self.config = config
        self._http_client = http_client
        self._client: AsyncAnthropic | None = None

    @property
    def endpoint(self) -> str:
        """The URL requests go to, for messages."""
        return self.config.base_url or DEFAULT_URL

    def _sdk(self) -> AsyncAnthropic:
        if self._client is None:
            key = api_key(self.name, self.config)  # raises MissingKey before any import or I/O
            from anthropic import AsyncAnthropic

            self._client = AsyncAnthropic(
                api_key=key,
                base_url=sdk_base_url(self.config.base_url),
                max_retries=0,  # the pool retries once within the tier timeout (see pool.py)
                http_client=self._http_client,
            )
        return self._client

    async def _ready(self) -> AsyncAnthropic:
        """The SDK client; the first time, the SDK is imported in a thread (it takes a second or
        more, and the language server must keep answering meanwhile)."""
        if self._client is None:
            api_key(self.name, self.config)  # raises MissingKey before any import or I/O
            await asyncio.to_thread(importlib.import_module, "anthropic")
        return self._sdk()

    async def prepare(self) -> None:
        """Be ready to call: the SDK imported (in a thread) and the client built."""
        await self._ready()

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Delta | Completion]:
        """Stream text deltas, then one Completion with the usage the API reported.

        The whole answer must arrive before the request's deadline; an error raised part-way
        carries the usage spent so far; a reply cut at max_tokens raises Truncated.
        """
        client = await self._ready()
        started = time.perf_counter()
        sent = request.system + request.context + request.prompt
        guard = StreamGuard(self.name, request, sent=sent)
        usage: dict[str, int] = {}
        model = request.model
        stop_reason: str | None = None
        stopped = False
        system = system_blocks(request)
        try:
            events = await guard.call(
                client.messages.create(
                    model=request.model,
                    max_tokens=request.max_tokens,
                    system=system if system else _omit(),
                    messages=[{"role": "user", "content": request.prompt}],
                    # No temperature: API version 2026-10-21 (what SDK 2.x speaks) answers 400 to
                    # any sampling parameter, so request.temperature only applies to OpenAI-style
                    # servers.
                    stream=True,
                    timeout=request.timeout,
                )
            )
            guard.opened = True
            # `async with` closes the HTTP response on any exit, cancellation included, so the
            # server sees the connection close instead of generating tokens nobody reads.
            async with events:
                async for event in guard.each(events):
                    if event.type == "message_start":
                        model = event.message.model or model
                        _merge_usage(usage, event.message.usage)
                        _report(guard, usage)
                    elif event.type == "content_block_delta":
                        if event.delta.type == "text_delta" and event.delta.text:
                            guard.add(event.delta.text)
                            yield Delta(event.delta.text)
                    elif event.type == "message_delta":
                        _merge_usage(usage, event.usage)
                        _report(guard, usage)
                        stop_reason = event.delta.stop_reason or stop_reason
                    elif event.type == "message_stop":
                        stopped = True
        except ProviderError as exc:
            guard.with_spent(exc)
            raise
        except TimeoutError:
            raise guard.timed_out() from None
        except Exception as exc:
            mapped = self._translate(exc, request, opened=guard.opened)
            if mapped is None:
                raise
            raise guard.with_spent(mapped) from exc
        if not stopped:
            raise guard.with_spent(
                BadResponse(
                    f"the {self.name} provider's stream for {request.model} ended before "
                    "message_stop (the answer was cut short); try again"
                )
            )
        if "input_tokens" not in usage or "output_tokens" not in usage:
            raise BadResponse(
                f"the {self.name} provider's stream for {request.model} carried no usage "
                "(no message_start); tierwise cannot price the call"
            )
        used = Usage(
            input_tokens=usage["input_tokens"],
            output_tokens=usage["output_tokens"],
            cache_read_tokens=usage.get("cache_read_tokens", 0),
            cache_write_tokens=usage.get("cache_write_tokens", 0),
        )
        if stop_reason == "max_tokens":
            raise guard.cut_at_limit(used)
        yield Completion(guard.text, used, model, time.perf_counter() - started)

    def _translate(
        self, exc: Exception, request: ProviderRequest, *, opened: bool
    ) -> ProviderError | None:
        """Our error for an SDK or transport exception, or None when it is not one of those."""
        import anthropic

        name = self.name
        common = common_error(
            anthropic,
            exc,
            request,
            name=name,
            env=self.config.api_key_env or "its key variable",
            endpoint=self.endpoint,
            opened=opened,
            detail=lambda exc: scrub(exc.api_message or "", self.config),
            overloaded=lambda exc: exc.type in ("overloaded_error", "api_error"),
        )
        if common is not None:
            return common
        if isinstance(exc, anthropic.APIError):
            return Unavailable(
                f"the {name} provider reported an error: {scrub(exc.message, self.config)}"
            )
        return None

    async def aclose(self) -> None:
        """Close the SDK client and its HTTP connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        elif self._http_client is not None:
            await self._http_client.aclose()


def _omit() -> Any:
    """The SDK's marker for "leave this parameter out" (imported lazily with the SDK)."""
    from anthropic import omit

    return omit


def _report(guard: StreamGuard, usage: dict[str, int]) -> None:
    """Tell the guard what the API has reported so far (message_start has the input side)."""
    guard.reported = Usage(
        usage.get("input_tokens", 0),
        usage.get("output_tokens", 0),
        usage.get("cache_read_tokens", 0),
        usage.get("cache_write_tokens", 0),
    )
    guard.reported_input = "input_tokens" in usage


def _merge_usage(into: dict[str, int], usage: Any) -> None:
    """Fold message_start / message_delta usage in; later (cumulative) values win."""
    fields = {
        "input_tokens": "input_tokens",
        "output_tokens": "output_tokens",
        "cache_read_input_tokens": "cache_read_tokens",
        "cache_creation_input_tokens": "cache_write_tokens",
    }
    for theirs, ours in fields.items():
        value = getattr(usage, theirs, None)
        if isinstance(value, int):
            into[ours] = value
