"""Handler wrappers: tierwise errors become JSON-RPC errors, failing notifications are logged."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcRequestCancelled,
)

from tierwise.core.errors import TierwiseError, UsageError
from tierwise.server.app import TierwiseServer

logger = logging.getLogger("tierwise.server")

# LSP 3.17 RequestFailed: the request was valid but could not be done (a provider failed).
REQUEST_FAILED = -32803

T = TypeVar("T")


def guarded(name: str) -> Callable[[Callable[..., Awaitable[T]]], Callable[..., Awaitable[T]]]:
    """Map tierwise errors to JSON-RPC errors for a request handler; log the unexpected ones."""

    def decorate(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> T:
            server = args[0] if args and isinstance(args[0], TierwiseServer) else None
            task = asyncio.current_task()
            if server is not None and task is not None:
                server.jobs.add(task)
            try:
                if server is not None:
                    await server.ready()
                return await fn(*args, **kwargs)
            except JsonRpcException:
                raise
            except UsageError as exc:
                raise JsonRpcInvalidParams(f"{name}: {exc}") from None
            except TierwiseError as exc:
                raise JsonRpcException(message=f"{name}: {exc}", code=REQUEST_FAILED) from None
            except asyncio.CancelledError:
                raise JsonRpcRequestCancelled(
                    f"{name} was cancelled; nothing was applied"
                ) from None
            except Exception as exc:
                logger.exception("%s failed", name)
                raise JsonRpcInternalError(
                    # A bug, not bad input: the user gets no Python text, the log gets it all.
                    f"{name} failed: an internal error ({type(exc).__name__}); the details "
                    "are in the server log"
                ) from None
            finally:
                if server is not None and task is not None:
                    server.jobs.discard(task)

        return wrapper

    return decorate


def logged(name: str) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    """Log a failing notification handler instead of letting pygls show a generic message."""

    def decorate(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            try:
                await fn(*args, **kwargs)
            except Exception:
                logger.exception("%s failed", name)

        return wrapper

    return decorate
