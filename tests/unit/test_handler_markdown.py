"""The explain and design handlers (markdown), and the handler registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.core.code import CodeContext, DocSlot, Span, Target
from tierwise.core.errors import BadResponse, UsageError
from tierwise.core.results import MarkdownResult
from tierwise.core.task import Action, Task
from tierwise.handlers import design, explain
from tierwise.handlers.registry import get_handler

DATA = Path(__file__).resolve().parents[1] / "data"
REPLIES = DATA / "replies"
TOKENS = DATA / "handler_tokens.py"


def reply(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


def parse_token_target(kind: str = "method", span: Span | None = None) -> Target:
    lines = TOKENS.read_text(encoding="utf-8").split("\n")[14:24]
    text = "\n".join([lines[0][4:], *lines[1:]])
    return Target(
        str(TOKENS),
        "python",
        kind,
        "parse_token",
        span or Span(14, 4, 23, 22),
        text,
        lines[0].strip(),
        Span(14, 8, 14, 19),
        ("raw", "strict"),
        "dict",
        (),
        DocSlot(15, "        "),
    )


def task(action: Action, target: Target | None = None, **options: str) -> Task:
    context = CodeContext(target or parse_token_target(), imports=("import json",))
    return Task(action, context, options=dict(options))


def test_explain_clean_reply() -> None:
    result = explain.handler.parse(task(Action.EXPLAIN), reply("explain_clean.md"))
    assert result == MarkdownResult("Explain: parse_token", reply("explain_clean.md").strip())


def test_a_markdown_fence_around_the_whole_reply_is_removed_but_inner_fences_stay() -> None:
    result = explain.handler.parse(task(Action.EXPLAIN), reply("explain_fenced_chatter.txt"))
    assert isinstance(result, MarkdownResult)
    assert result.markdown.startswith("## Summary\n`parse_token` decodes")
    assert "Sure!" not in result.markdown
    assert "   ```python\n   json.loads(base64.urlsafe_b64decode(raw))\n   ```" in result.markdown
    assert result.markdown.endswith("Nothing notable.")


def test_a_reply_with_code_blocks_is_not_mistaken_for_a_wrapped_document() -> None:
    text = "```python\nold()\n```\nbecomes\n```python\nnew()\n```"
    result = design.handler.parse(task(Action.DESIGN), text)
    assert isinstance(result, MarkdownResult)
    assert result.markdown == text


def test_design_clean_reply_and_title_for_a_selection() -> None:
    selection = parse_token_target("selection", Span(17, 8, 20, 30))
    result = design.handler.parse(task(Action.DESIGN, selection), reply("design_clean.md"))
    assert isinstance(result, MarkdownResult)
    assert result.title == "Design: parse_token (lines 18-21)"
    assert "## Proposal\n```python\nclass TokenCodec:" in result.markdown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "explain reply was empty"),
        ("  \n\n", "explain reply was empty"),
        ("```\n---\n```", "had no text"),
    ],
)
def test_empty_markdown_is_a_bad_response(text: str, message: str) -> None:
    with pytest.raises(BadResponse, match=message):
        explain.handler.parse(task(Action.EXPLAIN), text)


def test_prompts_keep_code_in_the_question_and_differ_by_action() -> None:
    explain_prompt = explain.handler.build_prompt(task(Action.EXPLAIN, extra="Audience: juniors."))
    design_prompt = design.handler.build_prompt(task(Action.DESIGN))
    for prompt in (explain_prompt, design_prompt):
        assert "json.loads(base64.urlsafe_b64decode(raw))" in prompt.question
        assert "urlsafe_b64decode" not in prompt.system + prompt.context
        assert prompt.context == "Imports:\nimport json"
    assert "## Watch out for" in explain_prompt.system
    assert "## Trade-offs" in design_prompt.system
    assert explain_prompt.system.endswith("Audience: juniors.")
    assert design_prompt.max_output_tokens > explain_prompt.max_output_tokens


def test_markdown_actions_have_no_static_tier() -> None:
    with pytest.raises(UsageError, match="design has no static tier"):
        design.handler.run_static(task(Action.DESIGN))


def test_adjust_retitles_for_the_current_target() -> None:
    stored = explain.handler.relativize(
        task(Action.EXPLAIN), MarkdownResult("Explain: old", "Text.")
    )
    renamed = parse_token_target()
    assert explain.handler.adjust(task(Action.EXPLAIN, renamed), stored) == MarkdownResult(
        "Explain: parse_token", "Text."
    )


@pytest.mark.parametrize("action", list(Action))
def test_registry_has_a_handler_for_every_action(action: Action) -> None:
    handler = get_handler(action)
    assert handler.action is action
    assert handler.prompt_version.startswith(action.value + "-")
    assert handler.supports_static is (action in (Action.DOCSTRING, Action.REVIEW))
    assert handler.expected_output_tokens(task(action)) > 0
