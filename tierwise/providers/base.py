"""The provider protocol and the plain data it streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import attrs


@attrs.frozen
class ModelRef:
    """A concrete model: a configured provider name plus the model id it serves."""

    provider: str
    model: str

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse "provider:model" (the model id may itself contain colons, as Ollama's do)."""
        provider, sep, model = text.partition(":")
        if not sep or not provider or not model:
            raise ValueError(f"model reference {text!r} must look like 'provider:model'")
        return cls(provider, model)

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


@attrs.frozen
class ProviderRequest:
    """One model call. `system` and `context` are the stable, cacheable prefix; `prompt` is last."""

    model: str
    system: str
    context: str
    prompt: str
    max_tokens: int
    timeout: float
    temperature: float = 0.0
    cache_key: str | None = None  # a stable id for provider-side prompt caching hints


@attrs.frozen
class Usage:
    """Token usage as the provider reports it; input_tokens excludes cache reads and writes."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


@attrs.frozen
class Delta:
    """A chunk of streamed text."""

    text: str


@attrs.frozen
class Completion:
    """The end of a stream: the whole text, the usage, the model that answered, seconds taken."""

    text: str
    usage: Usage
    model: str
    latency: float


class Provider(Protocol):
    """One configured endpoint. Cancelling the consuming task must close the HTTP stream."""

    name: str
    local: bool  # True when the marginal cost is $0 (a server the user runs)

    def stream(self, request: ProviderRequest) -> AsyncIterator[Delta | Completion]:
        """Stream Deltas, then exactly one Completion; raise ProviderError subclasses on failure."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP client."""
        ...
