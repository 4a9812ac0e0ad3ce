"""The error translation both official SDKs share: they name their exception classes alike."""

from __future__ import annotations

from types import ModuleType

from tierwise.errors import ProviderError, RateLimited, Timeout, Unavailable
from tierwise.providers.base import ProviderRequest


def common_error(
    sdk: ModuleType,
    exc: Exception,
    request: ProviderRequest,
    *,
    name: str,
    env: str,
    retries: int,
    endpoint: str,
    opened: bool,
) -> ProviderError | None:
    """Our error for a timeout, a transport, key or rate-limit failure; None for anything else.

    `sdk` is the `anthropic` or `openai` module; status errors with provider-specific bodies
    are left to the caller.
    """
    import httpx2

    if isinstance(exc, sdk.APITimeoutError | httpx2.TimeoutException):
        return Timeout(
            f"the {name} provider did not answer {request.model} within the tier timeout of "
            f"{request.timeout:g}s; try again, or raise the tier's timeout"
        )
    if isinstance(exc, sdk.APIConnectionError | httpx2.TransportError):
        if opened:
            return Unavailable(
                f"the connection to {endpoint} dropped in the middle of the answer "
                f"({type(exc.__cause__ or exc).__name__}); try again"
            )
        return Unavailable(f"cannot reach {endpoint}: is the server running?")
    if isinstance(exc, sdk.AuthenticationError):
        return ProviderError(
            f"the {name} provider rejected the key in {env} (401): check it, or set a new one"
        )
    if isinstance(exc, sdk.PermissionDeniedError):
        return ProviderError(
            f"the key in {env} may not use {request.model} on the {name} provider (403)"
        )
    if isinstance(exc, sdk.RateLimitError):
        return RateLimited(
            f"the {name} provider is rate limiting requests (429) after {retries} retries; "
            "wait a minute, or pick another tier with --tier"
        )
    return None
