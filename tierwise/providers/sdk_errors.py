"""The error translation both official SDKs share: they name their exception classes alike."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from tierwise.core.errors import BadResponse, ProviderError, RateLimited, Timeout, Unavailable
from tierwise.providers.base import ProviderRequest

# In-stream error types (Anthropic `event: error`, OpenAI-style {"error": ...} data lines) that
# mean "busy or broken on the server's side, try again": worth the next model of the chain.
BUSY_ERROR_TYPES = frozenset(
    {"overloaded_error", "api_error", "server_error", "overloaded", "internal_error", "timeout"}
)
RATE_LIMIT_ERROR_TYPES = frozenset({"rate_limit_error", "rate_limit_exceeded", "tokens"})


def in_stream_error(name: str, model: str, kind: str, said: str) -> ProviderError:
    """Our error for an error the server sent inside an answer it had already started (HTTP 200).

    Not "answered 200": the request was accepted and the model failed mid-answer.
    """
    what = f"{kind}: {said}" if kind and said else kind or said or "no details"
    if kind in RATE_LIMIT_ERROR_TYPES:
        return RateLimited(
            f"the {name} provider stopped {model} mid-answer: rate limited ({what}); "
            "wait a minute, or pick another tier"
        )
    if kind in BUSY_ERROR_TYPES or not kind:
        return Unavailable(
            f"the {name} provider stopped {model} mid-answer: the server is busy or failed "
            f"({what}); try again later"
        )
    return ProviderError(f"the {name} provider stopped {model} mid-answer with an error ({what})")


def retry_after(exc: Any) -> float | None:
    """The seconds a status error's response asks us to wait (retry-after-ms or retry-after)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        try:
            seconds = float(value) / scale if value is not None else None
        except ValueError:
            continue  # an HTTP date: rare from these APIs, and a retry is skipped then
        if seconds is not None and seconds >= 0:
            return seconds
    return None


def common_error(
    sdk: ModuleType,
    exc: Exception,
    request: ProviderRequest,
    *,
    name: str,
    env: str,
    endpoint: str,
    opened: bool,
    detail: Callable[[Any], str],
    overloaded: Callable[[Any], bool] = lambda _exc: False,
) -> ProviderError | None:
    """Our error for an SDK or transport exception, or None when it is not one of those.

    `sdk` is the `anthropic` or `openai` module. `detail` reads a status error's message from
    its provider-specific body (already scrubbed of keys); `overloaded` marks a status error
    that means "busy, try later" whatever its code. The SDKs make no retries of their own
    (max_retries=0): the pool retries a model once, so no message here counts retries.
    """
    import json

    import httpx2
    import pydantic

    if isinstance(exc, sdk.APITimeoutError | httpx2.TimeoutException):
        return Timeout(
            f"the {name} provider did not answer {request.model} within the tier timeout of "
            f"{request.timeout:g}s (one bound for the whole answer, retry included); try again, "
            "or raise the tier's timeout"
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
    if isinstance(exc, sdk.APIStatusError) and exc.status_code < 400 and opened:
        # Anthropic's `event: error` inside a started stream arrives as a status error that
        # carries the stream's own 200.
        kind = getattr(exc, "type", None) or ""
        return in_stream_error(name, request.model, str(kind), detail(exc))
    if isinstance(exc, sdk.RateLimitError):
        wait = retry_after(exc)
        return RateLimited(
            f"the {name} provider is rate limiting requests (429"
            + (f", retry after {wait:g}s" if wait is not None else "")
            + "); wait a minute, or pick another tier",
            retry_after=wait,
        )
    if isinstance(exc, sdk.APIStatusError):
        said = detail(exc)
        if exc.status_code >= 500 or overloaded(exc):
            return Unavailable(
                f"the {name} provider at {endpoint} answered {exc.status_code}"
                + (f" ({said})" if said else "")
                + "; try again later",
                retry_after=retry_after(exc),
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
