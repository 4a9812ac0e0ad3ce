"""Which answers are checked, and the ledger fields a check's verdict fills."""

from __future__ import annotations

from typing import Any

from tierwise.core.results import Result
from tierwise.core.task import Task
from tierwise.core.tiers import Tier
from tierwise.handlers.checks import CheckFailure, check

# The tiers whose answers are checked (docs/routing.md, "Verified answers"): static answers are
# deterministic and frontier has no tier above it to retry on.
CHECKED_TIERS = frozenset({Tier.LOCAL, Tier.BUDGET, Tier.MID})


def verify(task: Task, tier: Tier, result: Result) -> tuple[bool | None, CheckFailure | None]:
    """Whether a tier's answer passed its action's check (None: not checked), and why not."""
    if tier not in CHECKED_TIERS:
        return None, None
    failure = check(task, result)
    return failure is None, failure


def checked_fields(verified: bool | None, failure: CheckFailure | None) -> dict[str, Any]:
    """The ledger row's `verified` and `failed_check` for a verdict."""
    return {"verified": verified, "failed_check": failure.name if failure else ""}
