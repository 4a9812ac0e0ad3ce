"""The OpenAI adapter: Chat Completions, streamed with usage; any OpenAI-compatible base_url
(llama-server, Ollama, LM Studio, vLLM, OpenRouter, LiteLLM) works through it.

The official SDK is imported on first use only, so that the language server starts fast.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tierwise.config import ProviderConfig
from tierwise.core.code import estimate_tokens
from tierwise.core.errors import BadResponse, ProviderError
from tierwise.core.models import Usage
from tierwise.providers.base import Completion, Delta, ProviderRequest
from tierwise.providers.keys import api_key, scrub
from tierwise.providers.sdk_errors import common_error, in_stream_error
from tierwise.providers.streaming import StreamGuard

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionMessageParam
    from openai.types.completion_usage import CompletionUsage

DEFAULT_URL = "https://api.openai.com/v1"
# Reasoning families (gpt-5*, o1/o3/o4...) reject max_tokens and a non-default temperature.
_REASONING = re.compile(r"^(?:gpt-5|o\d)")


def is_reasoning_model(model: str) -> bool:
    """Whether a model id (optionally "vendor/"-prefixed, as on OpenRouter) is a reasoning model."""
    return _REASONING.match(model.rsplit("/", 1)[-1]) is not None


def chat_messages(request: ProviderRequest) -> list[ChatCompletionMessageParam]:
    """System (instructions, then file context: the stable, cacheable prefix), then the question."""
    system = "\n\n".join(part for part in (request.system, request.context) if part)
    messages: list[ChatCompletionMessageParam] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": request.prompt})
    return messages


class OpenAIProvider:
    """One configured OpenAI or OpenAI-compatible endpoint."""

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
        self._client: AsyncOpenAI | None = None

    @property
    def endpoint(self) -> str:
        """The base URL requests go to."""
        return self.config.base_url or DEFAULT_URL

    @property
    def official(self) -> bool:
        """Whether this is OpenAI's own API (which accepts every documented parameter)."""
        return self.config.base_url is None

    def _sdk(self) -> AsyncOpenAI:
        if self._client is None:
            key = api_key(self.name, self.config)  # raises before any import or I/O
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                api_key=key,
                base_url=self.config.base_url,
                max_retries=0,  # the pool retries once within the tier timeout (see pool.py)
                http_client=self._http_client,
            )
        return self._client

    async def _ready(self) -> AsyncOpenAI:
        """The SDK client; the first time, the SDK is imported in a thread (it takes most of a
        second, and the language server must keep answering meanwhile)."""
        if self._client is None:
            api_key(self.name, self.config)  # raises before any import or I/O
            await asyncio.to_thread(importlib.import_module, "openai")
        return self._sdk()

    async def prepare(self) -> None:
        """Be ready to call: the SDK imported (in a thread) and the client built."""
        await self._ready()

    async def stream(self, request: ProviderRequest) -> AsyncIterator[Delta | Completion]:
        """Stream text deltas, then one Completion with the usage from the final chunk.

        The whole answer must arrive before the request's deadline; an error raised part-way
        carries the usage spent so far; a reply cut at the token limit raises Truncated.
        """
        client = await self._ready()
        from openai import omit

        started = time.perf_counter()
        messages = chat_messages(request)
        guard = StreamGuard(self.name, request, sent=_sent_text(messages))
        reasoning = is_reasoning_model(request.model)
        reported: CompletionUsage | None = None
        finish: str | None = None
        model = request.model
        try:
            chunks = await guard.call(
                client.chat.completions.create(
                    model=request.model,
                    messages=messages,
                    stream=True,
                    stream_options={"include_usage": True},
                    max_tokens=omit if reasoning else request.max_tokens,
                    max_completion_tokens=request.max_tokens if reasoning else omit,
                    temperature=omit if reasoning else request.temperature,
                    # Compatible servers may reject parameters they do not know: official API
                    # only.
                    prompt_cache_key=request.cache_key
                    if self.official and request.cache_key
                    else omit,
                    timeout=request.timeout,
                )
            )
            guard.opened = True
            # `async with` closes the HTTP response on any exit, cancellation included.
            async with chunks:
                async for chunk in guard.each(chunks):
                    model = chunk.model or model
                    if chunk.usage is not None:
                        reported = chunk.usage
                    for choice in chunk.choices or ():
                        piece = choice.delta.content if choice.delta is not None else None
                        if piece:
                            guard.add(piece)
                            yield Delta(piece)
                        if choice.finish_reason:
                            finish = choice.finish_reason
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
        answer = guard.text
        if finish is None:
            raise guard.with_spent(
                BadResponse(
                    f"the {self.name} provider's stream for {request.model} ended without a "
                    "finish_reason (the answer was cut short); try again"
                )
            )
        usage = self._usage(reported, messages, answer, request)
        if finish == "length":
            if not answer:
                raise BadResponse(
                    f"{request.model} used all {request.max_tokens} output tokens before "
                    "answering (reasoning models count their thinking); raise the tier's "
                    "max_output_tokens",
                    usage=usage,
                )
            raise guard.cut_at_limit(usage)
        yield Completion(answer, usage, model, time.perf_counter() - started)

    def _usage(
        self,
        reported: CompletionUsage | None,
        messages: list[ChatCompletionMessageParam],
        answer: str,
        request: ProviderRequest,
    ) -> Usage:
        if reported is not None:
            details = reported.prompt_tokens_details
            cached = (details.cached_tokens or 0) if details is not None else 0
            # prompt_tokens includes the cached tokens; our input_tokens excludes them.
            return Usage(
                input_tokens=max(0, reported.prompt_tokens - cached),
                output_tokens=reported.completion_tokens,
                cache_read_tokens=cached,
            )
        if self.official:
            raise BadResponse(
                f"the {self.name} provider sent no usage for {request.model} although the request "
                "asked for it (stream_options.include_usage); tierwise cannot price the call"
            )
        # Some compatible servers (older llama.cpp, some proxies) ignore include_usage. Their
        # calls are mostly $0 local ones, so an estimate keeps the ledger's token counts useful.
        # Labelled as an estimate (the ledger's usage_estimated, the CLI's "estimated"), never
        # passed off as the server's count.
        return Usage(
            input_tokens=estimate_tokens(_sent_text(messages)),
            output_tokens=estimate_tokens(answer),
            estimated=True,
        )

    def _translate(
        self, exc: Exception, request: ProviderRequest, *, opened: bool
    ) -> ProviderError | None:
        """Our error for an SDK or transport exception, or None when it is not one of those."""
        import openai

        name = self.name
        common = common_error(
            openai,
            exc,
            request,
            name=name,
            env=self.config.api_key_env or "its key variable",
            endpoint=self.endpoint,
            opened=opened,
            detail=lambda exc: scrub(_status_detail(exc.body), self.config),
        )
        if common is not None:
            return common
        if isinstance(exc, openai.APIError):
            # An {"error": ...} object inside the stream: the server gave up mid-answer.
            body = exc.body if isinstance(exc.body, dict) else {}
            kind = body.get("type") or body.get("code") or ""
            return in_stream_error(name, request.model, str(kind), scrub(exc.message, self.config))
        return None

    async def aclose(self) -> None:
        """Close the SDK client and its HTTP connections."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        elif self._http_client is not None:
            await self._http_client.aclose()


def _sent_text(messages: list[ChatCompletionMessageParam]) -> str:
    """Every message's text, for estimating input tokens when the server reports none."""
    return "".join(str(message.get("content", "")) for message in messages)


def _status_detail(body: object) -> str:
    """The server's own error message from an error body, when it has one."""
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return ""
