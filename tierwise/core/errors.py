"""The error hierarchy shared by every stage.

The CLI maps these to exit codes and the server to LSP errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tierwise.core.models import Usage


def clip(value: object, limit: int = 60) -> str:
    """A short repr of user input for an error message (never the whole of a large value)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        return f"{text[:limit]}… ({len(value)} characters)"
    return f"{text[:limit]}…"


def cut(text: str, limit: int = 200) -> str:
    """Text the user sent (a URI, a name), as is when short, else its start and its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


class TierwiseError(Exception):
    """Base of every error tierwise raises on purpose; its text is shown to the user as is."""


class UsageError(TierwiseError):
    """The request itself is wrong: unknown action or tier, bad position, excluded file."""


class ConfigError(TierwiseError):
    """A configuration file or value is invalid; the message names the file and the key."""


class BudgetExceeded(TierwiseError):
    """A hard budget cap refuses the request."""


class ProviderError(TierwiseError):
    """A model provider failed; subclasses say how.

    `usage` holds the tokens the failed call used when it got far enough to use any (an answer
    that died mid-stream still costs its input and the text sent so far), so the ledger records
    real spend; `ref` is the "provider:model" that failed, and `retry_after` the seconds the
    server asked us to wait (429), when it said.
    """

    def __init__(
        self,
        message: str = "",
        *,
        usage: Usage | None = None,
        ref: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.usage = usage
        self.ref = ref
        self.retry_after = retry_after
        # Set by the engine once the failure is in the ledger: all the request's tokens and
        # dollars (every attempt), as its row holds them.
        self.spent: tuple[Usage, float] | None = None


class MissingKey(ProviderError):
    """No API key is set for a provider; the message names the variable to set.

    `other_tiers` says whether another tier could answer the request instead, so a surface
    offers picking one only when that would help (explain with nothing configured: it would not).
    """

    def __init__(self, message: str = "", *, other_tiers: bool = True) -> None:
        super().__init__(message)
        self.other_tiers = other_tiers


class RateLimited(ProviderError):
    """The provider answered 429 (after the one retry tierwise allows a model)."""


class Timeout(ProviderError):
    """The provider did not finish within the tier's timeout (the whole answer, retry included)."""


class BadResponse(ProviderError):
    """The provider (or the model) returned something we cannot use."""


class Truncated(BadResponse):
    """The reply stopped at the output token limit: incomplete, so it is never applied."""


class Unavailable(ProviderError):
    """The provider could not be reached, answered 5xx, or was overloaded (also mid-answer)."""
