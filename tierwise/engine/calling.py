"""Pieces of a provider call: streaming the chain, the answering ref, redaction, hints."""

from __future__ import annotations

import time
from collections.abc import Callable

from tierwise import privacy
from tierwise.core.code import estimate_tokens
from tierwise.core.errors import BadResponse, TierwiseError
from tierwise.core.models import ModelRef
from tierwise.core.records import evolve
from tierwise.core.task import Task
from tierwise.engine.memo import Memo
from tierwise.engine.outcome import Event, EventSink
from tierwise.handlers.base import Handler, Prompt
from tierwise.providers.base import Completion, Delta, ProviderRequest
from tierwise.providers.pool import ProviderPool, Spent
from tierwise.routing.router import Decision

# Report streaming progress at most this often, so a fast stream does not flood the editor.
PROGRESS_EVERY_S = 0.1
# A prompt shorter than this is scanned for secrets on the event loop (about 2 ms here at most);
# a longer one in a worker thread.
INLINE_REDACT_CHARS = 8_000
# Distinct system and context texts whose redaction is remembered.
REDACTION_MEMORY = 32


async def stream_once(
    pool: ProviderPool,
    decision: Decision,
    request_for: Callable[[str], ProviderRequest],
    spent: Spent,
    streamed: list[str],
    emit: EventSink,
) -> Completion:
    """One pass over the tier's chain: progress events, then the final Completion."""
    completion: Completion | None = None
    last_report = 0.0
    async for item in pool.stream_chain(decision.models, request_for, spent):
        if isinstance(item, Delta):
            streamed.append(item.text)
            now = time.perf_counter()
            if now - last_report >= PROGRESS_EVERY_S:
                last_report = now
                tokens = estimate_tokens("".join(streamed))
                emit(Event("delta", f"{tokens} tokens", tokens, decision.estimate_usd))
        elif isinstance(item, Completion):
            completion = item
    if completion is None:
        raise BadResponse("the provider stream ended without a final message")
    return completion


def ref_for(decision: Decision, model: str | None) -> str:
    """The chain ref whose model answered (providers report the model id they used)."""
    if model:
        for ref in decision.models:
            if ModelRef.parse(ref).model == model or model.startswith(ModelRef.parse(ref).model):
                return ref
    return decision.model or ""


def redact_prompt(
    prompt: Prompt, found: list[privacy.Redaction], memory: Memo[privacy.Redaction] | None = None
) -> tuple[str, str, str]:
    """Redacted system prompt, context and question; `found` keeps the latest attempt's
    redactions for the note. The system prompt holds workspace [prompts] text, which a cloned
    repository controls, so it is redacted like the code. `memory` remembers the redaction of
    each system and context text (a pure function of the text, so a remembered one is the same
    redaction); the question holds the target itself and is always scanned."""

    def scan(text: str) -> privacy.Redaction:
        if memory is None:
            return privacy.redact(text)
        return memory.get(text, lambda: privacy.redact(text))

    parts = [scan(prompt.system), scan(prompt.context), privacy.redact(prompt.question)]
    found[:] = parts
    return parts[0].text, parts[1].text, parts[2].text


def cut_message(decision: Decision, ref: str, caps: list[int]) -> str:
    """Why a reply cut at its output limit was not used, and what the user can do."""
    tier = decision.tier.label
    tries = (
        f"its {caps[0]}-token limit, and again at {caps[-1]}"
        if len(caps) > 1
        else f"its {caps[-1]}-token limit"
    )
    return (
        f"{ref}'s reply stopped at {tries} (tiers.{tier}.max_output_tokens) before it was "
        "complete: an incomplete answer is never applied; raise that limit, or escalate to "
        "the next tier"
    )


async def with_hints(task: Task, handler: Handler) -> Task:
    """Give model reviews the static (ruff) findings as hints, when the handler can make them."""
    import asyncio

    hints_fn = getattr(handler, "static_findings_text", None)
    if hints_fn is None or task.context.target.language != "python":
        return task
    try:
        hints = await asyncio.to_thread(hints_fn, task)
    except TierwiseError:
        return task
    if not hints:
        return task

    return evolve(task, options={**task.options, "hints": hints})
