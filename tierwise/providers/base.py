"""The provider protocol and the plain data it streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from tierwise.core.models import Usage
from tierwise.core.records import FrozenRecord, setfield

# The sampling temperature a request is sent with unless it says otherwise (cache keys hold it).
DEFAULT_TEMPERATURE = 0.0


class ProviderRequest(FrozenRecord):
    """One model call. `system` and `context` are the stable, cacheable prefix; `prompt` is last."""

    __slots__ = (
        "model",
        "system",
        "context",
        "prompt",
        "max_tokens",
        "timeout",
        "temperature",
        "cache_key",
        "deadline",
    )
    model: str
    system: str
    context: str
    prompt: str
    max_tokens: int
    timeout: float
    temperature: float
    cache_key: str | None  # a stable id for provider-side prompt caching hints
    # The event loop time by which the whole answer must be in (the pool sets it once per model
    # so that its retry shares the bound); None: `timeout` seconds from the start of the call.
    deadline: float | None

    def __init__(
        self,
        model: str,
        system: str,
        context: str,
        prompt: str,
        max_tokens: int,
        timeout: float,
        temperature: float = DEFAULT_TEMPERATURE,
        cache_key: str | None = None,
        deadline: float | None = None,
    ) -> None:
        setfield(self, "model", model)
        setfield(self, "system", system)
        setfield(self, "context", context)
        setfield(self, "prompt", prompt)
        setfield(self, "max_tokens", max_tokens)
        setfield(self, "timeout", timeout)
        setfield(self, "temperature", temperature)
        setfield(self, "cache_key", cache_key)
        setfield(self, "deadline", deadline)


class Delta(FrozenRecord):
    """A chunk of streamed text."""

    __slots__ = ("text",)
    text: str

    def __init__(self, text: str) -> None:
        setfield(self, "text", text)


class Completion(FrozenRecord):
    """The end of a stream: the whole text, the usage, the model that answered, seconds taken."""

    __slots__ = ("text", "usage", "model", "latency")
    text: str
    usage: Usage
    model: str
    latency: float

    def __init__(self, text: str, usage: Usage, model: str, latency: float) -> None:
        setfield(self, "text", text)
        setfield(self, "usage", usage)
        setfield(self, "model", model)
        setfield(self, "latency", latency)


class Provider(Protocol):
    """One configured endpoint. Cancelling the consuming task must close the HTTP stream."""

    name: str
    local: bool  # True when the marginal cost is $0 (a server the user runs)

    async def prepare(self) -> None:
        """Get ready to call (import the SDK off the event loop, build the client); raises
        MissingKey or Unavailable when the provider cannot be used. Local work only: the pool
        calls it before the tier timeout starts."""
        ...

    def stream(self, request: ProviderRequest) -> AsyncIterator[Delta | Completion]:
        """Stream Deltas, then exactly one Completion; raise ProviderError subclasses on failure."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP client."""
        ...
