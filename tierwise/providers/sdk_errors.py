"""The error translation both official SDKs share: they name their exception classes alike."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from tierwise.core.errors import BadResponse, ProviderError, RateLimited, Timeout, Unavailable
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
    detail: Callable[[Any], str],
    overloaded: Callable[[Any], bool] = lambda _exc: False,
) -> ProviderError | None:
    """Our error for an SDK or transport exception, or None when it is not one of those.

    `sdk` is the `anthropic` or `openai` module. `detail` reads a status error's message from
    its provider-specific body (already scrubbed of keys); `overloaded` marks a status error
    that means "busy, try later" whatever its code.
    """
    import json

    import httpx2
    import pydantic

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
    if isinstance(exc, sdk.APIStatusError):
        said = detail(exc)
        if exc.status_code >= 500 or overloaded(exc):
            return Unavailable(
                f"the {name} provider at {endpoint} answered {exc.status_code}"
                + (f" ({said})" if said else "")
                + f" after {retries} retries; try again later"
            )
        if exc.status_code == 404:
            return ProviderError(
                f"the {name} provider does not know model {request.model!r} (404): check the "
                "model id in your tiers config"
            )
        return ProviderError(
            f"the {name} provider refused the request ({exc.status_code})"
            + (f": {said}" if said else "")
        )
    if isinstance(
        exc, json.JSONDecodeError | pydantic.ValidationError | sdk.APIResponseValidationError
    ):
        return BadResponse(
            f"the {name} provider sent a response tierwise cannot parse "
            f"({type(exc).__name__}); try again"
        )
    return None
