"""The provider protocol and the plain data it streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import attrs

from tierwise.core.models import Usage


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
    # The event loop time by which the whole answer must be in (the pool sets it once per model
    # so that its retry shares the bound); None: `timeout` seconds from the start of the call.
    deadline: float | None = None


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
