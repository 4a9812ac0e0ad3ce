"""The error hierarchy shared by every stage.

The CLI maps these to exit codes and the server to LSP errors.
"""

from __future__ import annotations


class TierwiseError(Exception):
    """Base of every error tierwise raises on purpose; its text is shown to the user as is."""


class UsageError(TierwiseError):
    """The request itself is wrong: unknown action or tier, bad position, excluded file."""


class ConfigError(TierwiseError):
    """A configuration file or value is invalid; the message names the file and the key."""


class BudgetExceeded(TierwiseError):
    """A hard budget cap refuses the request."""


class ProviderError(TierwiseError):
    """A model provider failed; subclasses say how."""


class MissingKey(ProviderError):
    """No API key is set for a provider; the message names the variable to set."""


class RateLimited(ProviderError):
    """The provider answered 429 after the SDK's retries."""


class Timeout(ProviderError):
    """The provider did not answer within the tier's timeout."""


class BadResponse(ProviderError):
    """The provider (or the model) returned something we cannot use."""


class Unavailable(ProviderError):
    """The provider could not be reached or answered 5xx after retries."""
