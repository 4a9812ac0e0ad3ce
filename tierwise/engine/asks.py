"""Escalation memory: which earlier asks say that an answer was not good enough.

A repeat is the same action on the same target (file, kind and name) within the window. Only an
answer a model actually gave counts: a cache hit, a static answer, a refusal, a failure before
any model answered, a cancelled run and an edit that could not be applied (the document had
changed) say nothing about the answer's quality; a reply the model gave but tierwise could
not use (no docstring in it, invalid JSON) does. An answer whose edit was applied (or a review
whose quick fix the user chose, once the document holds it) was accepted:
it resets the count, so the next ask starts at the routed tier again. A declined edit (the
editor or the user said no to it) always counts, even one served from the cache: it was seen and
refused. A `refresh` request is routed without the repeat step
(it asks for a fresh answer, not a better tier) and, once answered, counts like any other.

The memory is the ledger when there is one (so the CLI, one process per run, remembers too),
else the engine's own rows.
"""

from __future__ import annotations

from tierwise.core.records import FrozenRecord, setfield

# Outcomes of a request a model answered: served, declined, or a reply tierwise could not use.
_ANSWERED = frozenset({"ok", "declined", "error"})


class Ask(FrozenRecord):
    """One earlier request for the same action on the same target."""

    __slots__ = ("ts", "cache_hit", "tier", "output_tokens", "outcome", "applied")
    ts: float  # Unix time
    cache_hit: bool
    tier: str
    output_tokens: int
    outcome: str
    applied: bool | None

    def __init__(
        self,
        ts: float,
        cache_hit: bool,
        tier: str,
        output_tokens: int,
        outcome: str,
        applied: bool | None,
    ) -> None:
        setfield(self, "ts", ts)
        setfield(self, "cache_hit", cache_hit)
        setfield(self, "tier", tier)
        setfield(self, "output_tokens", output_tokens)
        setfield(self, "outcome", outcome)
        setfield(self, "applied", applied)

    @property
    def counts(self) -> bool:
        """Whether this request says its answer was asked for again (see the module doc)."""
        if self.outcome == "declined":
            return True  # seen and refused, whatever answered it
        model_answered = not self.cache_hit and self.tier != "static" and self.output_tokens > 0
        return model_answered and self.outcome in _ANSWERED


def repeats(asks: list[Ask], *, now: float, window_s: float) -> int:
    """Earlier asks within the window that count, after the last applied answer."""
    recent = [a for a in asks if now - a.ts <= window_s]
    accepted = max((i for i, a in enumerate(recent) if a.applied), default=-1)
    return sum(1 for a in recent[accepted + 1 :] if a.counts)
