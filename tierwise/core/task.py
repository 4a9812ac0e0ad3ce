"""The five actions and one request for an action on a target."""

from __future__ import annotations

import enum

import attrs

from tierwise.core.code import CodeContext
from tierwise.core.errors import UsageError
from tierwise.core.tiers import Tier


class Action(enum.StrEnum):
    """The five actions."""

    DOCSTRING = "docstring"
    RENAME = "rename"
    EXPLAIN = "explain"
    REVIEW = "review"
    DESIGN = "design"

    @classmethod
    def parse(cls, value: str | Action) -> Action:
        """Parse an action name, raising UsageError with the valid names on failure."""
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(a.value for a in cls)
            raise UsageError(f"unknown action {value!r}; expected one of: {names}") from None


@attrs.frozen
class Task:
    """One request: an action on a target, with the per-request options."""

    action: Action
    context: CodeContext
    tier: Tier | None = None  # per-request override
    refresh: bool = False
    options: dict[str, str] = attrs.field(factory=dict)  # e.g. {"style": "google"}
    doc_version: int | None = None
    uri: str | None = None
