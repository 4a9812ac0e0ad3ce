"""The five actions and one request for an action on a target."""

from __future__ import annotations

import enum

from tierwise.core.code import CodeContext, Target
from tierwise.core.errors import UsageError, clip
from tierwise.core.records import FrozenRecord, setfield
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
            raise UsageError(f"unknown action {clip(value)}; expected one of: {names}") from None


def display_name(action: Action, target: Target) -> str:
    """How an action on a target is named to the user: "Docstring", or "Update docstring" where
    the target already has one (the edit then changes the user's own text, and must say so)."""
    slot = target.doc_slot
    if action is Action.DOCSTRING and slot is not None and slot.existing is not None:
        return "Update docstring"
    return action.value.capitalize()


class Task(FrozenRecord):
    """One request: an action on a target, with the per-request options."""

    __slots__ = ("action", "context", "tier", "refresh", "options", "doc_version", "uri")
    action: Action
    context: CodeContext
    tier: Tier | None  # per-request override
    refresh: bool
    options: dict[str, str]  # e.g. {"style": "google"}
    doc_version: int | None
    uri: str | None

    def __init__(
        self,
        action: Action,
        context: CodeContext,
        tier: Tier | None = None,
        refresh: bool = False,
        options: dict[str, str] | None = None,
        doc_version: int | None = None,
        uri: str | None = None,
    ) -> None:
        setfield(self, "action", action)
        setfield(self, "context", context)
        setfield(self, "tier", tier)
        setfield(self, "refresh", refresh)
        setfield(self, "options", {} if options is None else options)
        setfield(self, "doc_version", doc_version)
        setfield(self, "uri", uri)
