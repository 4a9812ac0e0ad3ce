"""The handler protocol every action module provides, and the prompt it builds."""

from __future__ import annotations

from typing import Protocol

from tierwise.core.records import FrozenRecord, setfield
from tierwise.core.results import Result
from tierwise.core.task import Action, Task


class Prompt(FrozenRecord):
    """A prompt in cache-friendly order: stable system, then file context, then the volatile ask."""

    __slots__ = ("system", "context", "question", "max_output_tokens")
    system: str
    context: str
    question: str
    max_output_tokens: int

    def __init__(self, system: str, context: str, question: str, max_output_tokens: int) -> None:
        setfield(self, "system", system)
        setfield(self, "context", context)
        setfield(self, "question", question)
        setfield(self, "max_output_tokens", max_output_tokens)

    @property
    def chars(self) -> int:
        """len(system + context + question), without joining them."""
        return len(self.system) + len(self.context) + len(self.question)


class Handler(Protocol):
    """What every action module provides."""

    action: Action
    prompt_version: str  # bump when the prompt changes so old cache entries stop matching
    supports_static: bool

    def build_prompt(self, task: Task) -> Prompt:
        """Build the prompt for a model tier."""
        ...

    def parse(self, task: Task, reply: str) -> Result:
        """Turn the model's reply into a typed result, or raise BadResponse."""
        ...

    def run_static(self, task: Task) -> Result:
        """Produce a deterministic result with no model (only when supports_static)."""
        ...

    def expected_output_tokens(self, task: Task) -> int:
        """A typical output size, used for cost estimates before the call."""
        ...

    def relativize(self, task: Task, result: Result) -> Result:
        """Make positions relative to the target's first line, so a cached result can move."""
        ...

    def adjust(self, task: Task, result: Result) -> Result:
        """Re-anchor a relativized (possibly cached) result onto this task's exact positions."""
        ...
