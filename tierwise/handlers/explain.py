"""The explain action, and the markdown handler that design shares."""

from __future__ import annotations

import re

from tierwise.core.code import Target
from tierwise.core.errors import BadResponse, UsageError
from tierwise.core.results import MarkdownResult, Result
from tierwise.core.task import Action, Task
from tierwise.handlers.base import Prompt
from tierwise.handlers.parsing import Layout, strip_chatter
from tierwise.handlers.prompts import system_prompt

_WHOLE_FENCE = re.compile(r"(`{3,}|~{3,})[ \t]*(markdown|md)?[ \t]*\n(.*)\n[ \t]*\1", re.S | re.I)


def title_for(verb: str, target: Target) -> str:
    """ "Explain: parse_token", or with the line range for a selection."""
    if target.kind == "selection":
        lines = f"lines {target.span.start_line + 1}-{target.span.end_line + 1}"
        return f"{verb}: {target.name} ({lines})"
    return f"{verb}: {target.name}"


def parse_markdown(reply: str, action: str) -> str:
    """The markdown in a reply, unwrapped from one enclosing fence; BadResponse when empty."""
    if not reply.strip():
        raise BadResponse(f"{action} reply was empty")
    text = strip_chatter(reply).strip()
    whole = _WHOLE_FENCE.fullmatch(text)
    # The whole document in one fence: unwrap it when the fence says markdown (inner fences are
    # then content) or when there are no inner fences (else it may be two separate code blocks).
    if whole is not None and (whole.group(2) or "```" not in whole.group(3)):
        text = whole.group(3).strip()
    if not re.search(r"\w", text):
        raise BadResponse(f"{action} reply had no text, only markup: {text[:60]!r}")
    return text


class MarkdownHandler:
    """A model writes a markdown document about the target."""

    action: Action = Action.EXPLAIN
    prompt_version: str = "explain-1"
    supports_static: bool = False
    verb: str = "Explain"
    expected_tokens: int = 500

    def build_prompt(self, task: Task) -> Prompt:
        """System: what the document covers; question: the code."""
        target = task.context.target
        code = "\n".join(Layout.of(target).display())
        question = (
            f"{self.verb} this {target.language} {target.kind} `{target.name}` from {target.path}."
            f"\n\n```{target.language}\n{code}\n```"
        )
        system = system_prompt(self.action.value, task.options.get("extra"))
        return Prompt(
            system, task.context.render(), question, 3 * self.expected_output_tokens(task)
        )

    def parse(self, task: Task, reply: str) -> Result:
        """The markdown, titled after the target."""
        return MarkdownResult(
            title_for(self.verb, task.context.target), parse_markdown(reply, self.action.value)
        )

    def run_static(self, task: Task) -> Result:
        """Prose needs a model: there is no static tier."""
        raise UsageError(
            f"{self.action.value} has no static tier (it needs a model); "
            "pick local, budget, mid or frontier"
        )

    def expected_output_tokens(self, task: Task) -> int:
        """A typical document length for the action."""
        return self.expected_tokens

    def relativize(self, task: Task, result: Result) -> Result:
        """A document has no positions."""
        return result

    def adjust(self, task: Task, result: Result) -> Result:
        """Retitle for this task's target (the body does not depend on positions)."""
        if not isinstance(result, MarkdownResult):
            raise TypeError(f"{self.action.value} handler got a {type(result).__name__}")
        return MarkdownResult(title_for(self.verb, task.context.target), result.markdown)


class ExplainHandler(MarkdownHandler):
    """Explain what the target does and what to watch out for."""


handler = ExplainHandler()
