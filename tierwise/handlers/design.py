"""The design action: assess the target's design and propose a better one (markdown)."""

from __future__ import annotations

from tierwise.core.task import Action
from tierwise.handlers.explain import MarkdownHandler


class DesignHandler(MarkdownHandler):
    """Assess responsibilities, coupling and interfaces; propose an improved design."""

    action: Action = Action.DESIGN
    prompt_version: str = "design-1"
    verb: str = "Design"
    expected_tokens: int = 900


handler = DesignHandler()
