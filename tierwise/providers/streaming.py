"""What both adapters do around one streamed call: a single deadline for the whole answer, a
bound on its length, and the tokens a call that fails part-way has already used.

The SDKs' own timeout applies to each read, so a server that sends a keep-alive every few
seconds, or stalls after its first tokens, never trips it: the deadline here bounds the whole
answer (connecting, waiting for the first token, streaming, and the pool's one retry).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from tierwise.core.code import estimate_tokens
from tierwise.core.errors import BadResponse, ProviderError, Timeout, Truncated
from tierwise.core.models import Usage
from tierwise.providers.base import ProviderRequest

T = TypeVar("T")

# A reply longer than this many characters per requested output token ran past its cap: the
# server ignores max_tokens. Real tokens average about 4 characters; 12 leaves room for long
# runs of indentation, which some tokenizers count as one token.
MAX_CHARS_PER_TOKEN = 12
CHAR_SLACK = 2000


def char_cap(max_tokens: int) -> int:
    """The most characters a reply of `max_tokens` tokens can plausibly hold."""
    return max_tokens * MAX_CHARS_PER_TOKEN + CHAR_SLACK


class StreamGuard:
    """One call's deadline, the text it streamed, and what it has cost so far."""

    def __init__(self, name: str, request: ProviderRequest, *, sent: str) -> None:
        self.name = name
        self.request = request
        loop = asyncio.get_running_loop()
        self.deadline = (
            request.deadline if request.deadline is not None else loop.time() + request.timeout
        )
        self.sent_tokens = estimate_tokens(sent)
        self.pieces: list[str] = []
        self.chars = 0
        self.opened = False  # the server accepted the request (HTTP 200, stream started)
        self.reported = Usage()  # what the server reported so far (input side, output so far)
        self.reported_input = False

    async def call(self, awaitable: Awaitable[T]) -> T:
        """Await the request itself under the deadline."""
        async with asyncio.timeout_at(self.deadline):
            return await awaitable

    async def each(self, events: AsyncIterator[T]) -> AsyncIterator[T]:
        """The stream's items, each read under the same deadline (raises TimeoutError)."""
        iterator = aiter(events)
        while True:
            try:
                async with asyncio.timeout_at(self.deadline):
                    item = await anext(iterator)
            except StopAsyncIteration:
                return
            yield item

    def add(self, text: str) -> None:
        """Keep a piece of streamed text; a reply past its cap is refused, not kept growing."""
        self.pieces.append(text)
        self.chars += len(text)
        cap = char_cap(self.request.max_tokens)
        if self.chars > cap:
            raise BadResponse(
                f"the {self.name} provider's reply for {self.request.model} ran past its "
                f"{self.request.max_tokens}-token cap ({self.chars} characters; the server "
                "ignores max_tokens): not used",
                usage=self.spent(),
            )

    @property
    def text(self) -> str:
        """The text streamed so far."""
        return "".join(self.pieces)

    def spent(self) -> Usage | None:
        """What the call has used so far: None before the server accepted it (nothing billed).

        The input side is what the server reported (Anthropic reports it when the stream
        starts), else an estimate of what was sent; the output side is the larger of the
        reported count and an estimate of the text received.
        """
        if not self.opened:
            return None
        received = estimate_tokens(self.text)
        out = max(self.reported.output_tokens, received)
        if self.reported_input:
            return Usage(
                self.reported.input_tokens,
                out,
                self.reported.cache_read_tokens,
                self.reported.cache_write_tokens,
                estimated=received > self.reported.output_tokens,
            )
        return Usage(self.sent_tokens, out, estimated=True)

    def with_spent(self, error: ProviderError) -> ProviderError:
        """The error with this call's usage attached (unless it already carries some)."""
        if error.usage is None:
            error.usage = self.spent()
        return error

    def timed_out(self) -> Timeout:
        """The Timeout for a deadline that passed, saying how far the answer had got."""
        request, name = self.request, self.name
        bound = (
            f"the tier timeout of {request.timeout:g}s, which bounds the whole answer "
            "(retry included)"
        )
        if self.pieces:
            message = (
                f"{request.model} on the {name} provider stalled mid-answer: about "
                f"{estimate_tokens(self.text)} tokens arrived, then nothing more within {bound}; "
                "the partial answer was not used"
            )
        elif self.opened:
            message = (
                f"the {name} provider accepted the request for {request.model} but sent no text "
                f"within {bound}; try again, or raise the tier's timeout"
            )
        else:
            message = (
                f"the {name} provider did not answer {request.model} within {bound}; "
                "try again, or raise the tier's timeout"
            )
        return Timeout(message, usage=self.spent())

    def cut_at_limit(self, usage: Usage) -> Truncated:
        """The error for a reply that stopped at the output token limit (a whole exchange, so
        `usage` is what the server reported)."""
        request = self.request
        return Truncated(
            f"{request.model}'s reply stopped at its {request.max_tokens}-token output limit "
            "before it was complete; an incomplete answer is never applied",
            usage=usage,
        )
