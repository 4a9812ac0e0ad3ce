"""The shared cache (L2) in a request: whether the request may use it at all, the read-through
after an L1 miss, the stampede lock and the bounded wait, and publishing the answer.

What never reaches L2 (docs/team.md says why for each): requests for `privacy.local_only` or
excluded paths; requests whose target or context holds something the secret scanner would
redact; answers in which it finds a secret; answers from a local model (its name means another
model on each machine); answers over the size cap. Such a request does not even look L2 up or
take a lock there: its keys, hashes though they are, stay on this machine.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from tierwise import privacy
from tierwise.config import Config
from tierwise.core.code import CodeContext
from tierwise.core.models import ModelRef
from tierwise.engine.memo import Memo
from tierwise.engine.outcome import Event, EventSink

if TYPE_CHECKING:
    from tierwise.cache.shared import SharedCache

# A secret shorter than this is no secret: it is refused at load with a way to make a good one.
MIN_SECRET_CHARS = 16
# Counters of refused L2 values kept in L1's counters (and shown by `tierwise cache stats`).
REFUSALS = ("mac_failures", "invalid", "too_large")
# The first poll while a teammate computes an answer, and the longest pause between polls.
FIRST_POLL_S = 0.02
MAX_POLL_S = 0.25


def open_shared(config: Config) -> tuple[SharedCache | None, str | None]:
    """The configured L2, or None with the reason it is off when configured but unusable."""
    shared = config.cache.shared
    if not config.cache.enabled or shared.url is None:
        return None, None
    secret = os.environ.get(shared.secret_env, "")
    if len(secret.strip()) < MIN_SECRET_CHARS:
        state = "is not set" if not secret.strip() else "is shorter than 16 characters"
        return None, (
            f"cache.shared: {shared.secret_env} {state}, so the shared cache is off (every "
            "answer in it is signed and checked with the team's secret); export the team's "
            f"secret in {shared.secret_env} (make one with `python3 -c 'import secrets; "
            "print(secrets.token_hex(32))'` and give it to the team)"
        )
    from tierwise.cache.shared import SharedCache

    return (
        SharedCache(
            shared.url,
            shared.team,
            secret.strip().encode("utf-8"),
            ttl_s=int(shared.ttl_days * 86400),
            timeout_s=shared.timeout_ms / 1000,
            max_entry_bytes=shared.max_entry_kb * 1024,
            lock_ms=int(shared.lock_wait_s * 1000) or 1,
        ),
        None,
    )


def has_secret(texts: Sequence[str]) -> bool:
    """Whether the secret scanner (privacy.redact) finds anything in these texts."""
    return any(privacy.redact(text).count for text in texts if text)


@attrs.define
class Plan:
    """L2 for one request: the keys it may look up there, its lock, and what happened."""

    shared: SharedCache
    keys: list[str]
    lock: str
    locked: bool = False
    waited_s: float = 0.0
    gave_up: bool = False  # waited the whole bound for a teammate, then asked a model


class Sharing:
    """The executor's L2 side; `stores` gives the L2 client and the L1 counters."""

    def __init__(self, stores: Any) -> None:
        self.stores = stores
        self._secrets: Memo[bool] = Memo()
        self._synced: Counter[str] = Counter()
        self._mac_warned = False

    def plan(
        self,
        context: CodeContext,
        keyed: Sequence[tuple[str, str]],
        *,
        never: str | None,
        is_local: Callable[[str], bool],
    ) -> Plan | None:
        """The L2 plan of a request (`keyed`: its (model ref, key) lookups, the first is the
        one it would store under), or None when it must not touch L2 (`never`: local_only or
        excluded) or L2 is off."""
        shared = self.stores.shared
        if shared is None or never is not None or not keyed:
            return None
        if self.input_has_secret(context):
            return None
        keys = [key for ref, key in keyed if not is_local(ModelRef.parse(ref).provider)]
        if not keys:
            return None
        return Plan(shared, keys, shared.lock_key(keyed[0][1]))

    def input_has_secret(self, context: CodeContext) -> bool:
        """Whether the target or its context holds a secret (remembered per input)."""
        texts = (context.target.text, *context.imports, context.enclosing or "", *context.callees)
        return self._secrets.get(texts, lambda: has_secret(texts))

    def warnings(self) -> list[str]:
        """L2 warnings not shown yet: one per outage, the unusable configuration once, and the
        first refused value's MAC."""
        out = list(self.stores.take_shared_notes())
        shared = self.stores.shared_if_open
        if shared is not None:
            out += shared.health.take_warnings()
            if shared.counts["mac_failures"] and not self._mac_warned:
                self._mac_warned = True
                out.append(
                    "refused a shared-cache answer whose MAC did not match (signed with another "
                    "team secret, or planted): it was not used; `tierwise cache stats` counts them"
                )
        return out

    def sync_counts(self, plan: Plan) -> None:
        """Add the L2 refusals since the last call to L1's persisted counters."""
        cache = self.stores.cache
        if cache is None:
            return
        for name in REFUSALS:
            delta = plan.shared.counts[name] - self._synced[name]
            if delta:
                cache.count(f"shared_{name}", delta)
                self._synced[name] = plan.shared.counts[name]

    async def lookup(
        self, plan: Plan, emit: EventSink, wait_s: float
    ) -> tuple[str, dict[str, Any]] | None:
        """After an L1 miss: L2's answer, or None with the lock taken (or L2 failing). When a
        teammate holds the lock, wait for their answer up to `wait_s`, then go on."""
        found = await plan.shared.lookup(plan.keys, lock=plan.lock)
        self.sync_counts(plan)
        if found.hit is not None or found.failed or found.locked or wait_s <= 0:
            plan.locked = found.locked
            return found.hit
        emit(Event("start", "a teammate is asking the same question: waiting for their answer"))
        started = time.monotonic()
        pause = FIRST_POLL_S
        try:
            while time.monotonic() - started < wait_s:
                await _asyncio().sleep(min(pause, max(0.0, wait_s - (time.monotonic() - started))))
                pause = min(pause * 2, MAX_POLL_S)
                found = await plan.shared.poll(plan.keys, plan.lock)
                self.sync_counts(plan)
                if found.hit is not None or found.failed or found.locked:
                    plan.locked = found.locked
                    return found.hit
            plan.gave_up = True
            emit(
                Event(
                    "warning",
                    f"waited {wait_s:g} s for a teammate's answer (cache.shared.lock_wait_s): "
                    "asking the model",
                )
            )
            return None
        finally:
            plan.waited_s = time.monotonic() - started

    def publish(self, plan: Plan, key: str, entry: dict[str, Any]) -> None:
        """Share an answer off the request path (and let go of the lock), unless it holds a
        secret or was stored under a key L2 may not have (a local model's)."""
        shareable = key in plan.keys and not has_secret(_strings(entry.get("result")))
        if shareable:
            release = plan.lock if plan.locked else None
            self._background(plan.shared.put(key, entry, release=release))
        else:
            self.release(plan)

    def release(self, plan: Plan) -> None:
        """Let go of the lock after a failure or a cancellation (off the request path)."""
        if plan.locked:
            plan.locked = False
            self._background(plan.shared.release(plan.lock))

    def _background(self, job: Any) -> None:
        self.stores.track(_asyncio().get_running_loop().create_task(job))


def _strings(value: Any) -> list[str]:
    """Every string in a JSON value (the answer's text fields), for the secret scanner."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []  # numbers, booleans, null: nothing a secret could hide in


def _asyncio() -> Any:
    """asyncio, imported when a request first waits on the shared cache: `tierwise route`
    never does, and importing it was a sixth of that command's start-up."""
    import asyncio

    return asyncio
