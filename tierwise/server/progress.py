"""Cancellable work-done progress for one request, fed by the engine's events.

Progress is sent only to clients that advertise `window.workDoneProgress`; the others get
nothing (sending `window/workDoneProgress/create` to them is a protocol violation).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.capabilities import get_capability

from tierwise.core.models import Usage

if TYPE_CHECKING:
    from tierwise.engine import Engine, Event

logger = logging.getLogger(__name__)

# Report streamed tokens at most this often; a fast stream must not flood the editor.
REPORT_EVERY_S = 0.1


class Progress:
    """One request's progress: begin "tier · model", report tokens and cost, end with the cost.

    `cancel_target` is the asyncio task to cancel when the user presses cancel in the editor.
    """

    def __init__(
        self,
        server: Any,
        title: str,
        *,
        cancel_target: asyncio.Task[Any] | None,
        engine: Engine | None = None,
        input_tokens: int = 0,
    ) -> None:
        self.server = server
        self.title = title
        self.cancel_target = cancel_target
        self.engine = engine
        self.input_tokens = input_tokens
        self.token: str | None = None
        self.begun = False
        self.model: str | None = None
        self.cancelled_by_user = False
        self._last_report = 0.0

    @property
    def supported(self) -> bool:
        """Whether the client takes server-initiated progress."""
        return bool(
            get_capability(self.server.client_capabilities, "window.work_done_progress", False)
        )

    async def create(self) -> None:
        """Ask the client for a progress token (a no-op for clients without progress)."""
        if not self.supported:
            return
        token = f"tierwise-{uuid.uuid4().hex}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:  # the client refused: run without progress
            logger.info("no progress: the client refused a progress token: %s", exc)
            return
        self.token = token
        future: Future[Any] | None = self.server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(self._on_client_cancel)

    def _on_client_cancel(self, future: Future[Any]) -> None:
        if future.cancelled() and self.cancel_target is not None and not self.cancel_target.done():
            logger.info("%s: cancelled from the editor's progress", self.title)
            self.cancelled_by_user = True
            self.cancel_target.cancel()

    def __call__(self, event: Event) -> None:
        """The engine's event sink."""
        if event.kind == "warning":
            logger.warning("%s: %s", self.title, event.message)
        if self.token is None:
            return
        if event.kind == "start":
            # "review · frontier · anthropic:claude-opus-5" -> "frontier · anthropic:..."
            head, _, rest = event.message.partition(" · ")
            self.model = rest.rpartition(" · ")[2] or None
            self._begin(rest or head)
        elif event.kind == "cached":
            self._begin("from cache")
        elif event.kind == "delta":
            now = time.monotonic()
            if now - self._last_report >= REPORT_EVERY_S:
                self._last_report = now
                # Estimates until the provider's usage arrives with the end: labelled so that
                # a running figure above the final one is not read as a charge.
                cost = self._running_cost(event)
                self._report(f"~{event.output_tokens} tokens · est. ${cost:.4f}")
        elif event.kind == "warning":
            self._begin(event.message) if not self.begun else self._report(event.message)

    def _running_cost(self, event: Event) -> float:
        if self.engine is None or not self.model or ":" not in self.model:
            return event.cost_usd
        try:
            usage = Usage(input_tokens=self.input_tokens, output_tokens=event.output_tokens)
            return self.engine.model_cost(self.model, usage)
        except Exception:  # an unpriced model: show the routing estimate instead
            return event.cost_usd

    def _begin(self, message: str) -> None:
        if self.begun or self.token is None:
            return
        self.begun = True
        self.server.work_done_progress.begin(
            self.token,
            types.WorkDoneProgressBegin(title=self.title, message=message, cancellable=True),
        )

    def _report(self, message: str) -> None:
        if self.token is None:
            return
        self._begin(message)
        self.server.work_done_progress.report(
            self.token, types.WorkDoneProgressReport(message=message, cancellable=True)
        )

    def end(self, message: str) -> None:
        """Close the progress (always, also after errors and cancellation)."""
        if self.token is None:
            return
        self._begin(message)
        self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        with contextlib.suppress(KeyError):
            # pygls never forgets tokens; a long session would keep every one of them.
            del self.server.work_done_progress.tokens[self.token]
        self.token = None
