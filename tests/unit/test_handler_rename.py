"""The rename handler: JSON (clean or messy) in, valid distinct identifiers out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierwise.core.code import CodeContext, DocSlot, Span, Target
from tierwise.core.errors import BadResponse, UsageError
from tierwise.core.results import RenameResult
from tierwise.core.task import Action, Task
from tierwise.handlers.rename import handler, parse_candidates

DATA = Path(__file__).resolve().parents[1] / "data"
REPLIES = DATA / "replies"
TOKENS = DATA / "handler_tokens.py"
EXPECTED = ["decode_claims", "parse_session_token", "load_claims"]


def reply(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


def parse_token_target(start: int = 14) -> Target:
    lines = TOKENS.read_text(encoding="utf-8").split("\n")[14:24]
    text = "\n".join([lines[0][4:], *lines[1:]])
    return Target(
        str(TOKENS),
        "python",
        "method",
        "parse_token",
        Span(start, 4, start + 9, 22),
        text,
        lines[0].strip(),
        Span(start, 8, start, 19),
        ("raw", "strict"),
        "dict",
        (),
        DocSlot(start + 1, "        "),
    )


def task(target: Target | None = None, **options: str) -> Task:
    return Task(Action.RENAME, CodeContext(target or parse_token_target()), options=dict(options))


def names(result: object) -> list[str]:
    assert isinstance(result, RenameResult)
    return [c.name for c in result.candidates]


def test_clean_reply_keeps_order_reasons_and_the_name_position() -> None:
    result = handler.parse(task(), reply("rename_clean.json"))
    assert isinstance(result, RenameResult)
    assert names(result) == EXPECTED
    assert result.candidates[0].reason == "It returns the token's decoded claims."
    assert result.old_name == "parse_token"
    assert result.name_span == Span(14, 8, 14, 19)


def test_messy_reply_with_single_quotes_trailing_commas_and_decorations() -> None:
    assert names(handler.parse(task(), reply("rename_messy.txt"))) == EXPECTED


def test_markdown_list_without_json_is_recovered() -> None:
    result = handler.parse(task(), reply("rename_markdown_list.txt"))
    assert names(result) == EXPECTED
    assert isinstance(result, RenameResult)
    assert result.candidates[1].reason == "names the kind of token"


def test_invalid_duplicate_and_unchanged_names_are_dropped() -> None:
    result = handler.parse(task(candidates="5"), reply("rename_invalid_names.json"))
    assert names(result) == ["decode_claims", "claims_from_token"]


def test_candidate_count_limits_the_result() -> None:
    assert names(handler.parse(task(candidates="2"), reply("rename_clean.json"))) == EXPECTED[:2]


def test_no_usable_name_says_why_each_was_rejected() -> None:
    with pytest.raises(BadResponse) as caught:
        handler.parse(task(), reply("rename_only_invalid.json"))
    message = str(caught.value)
    assert message.startswith("rename reply had no usable name: ")
    assert "'def' is a Python keyword" in message
    assert "'parse_token' is the current name" in message


def test_prose_without_names_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match="no JSON object with a 'candidates' list"):
        handler.parse(task(), reply("rename_garbage.txt"))


@pytest.mark.parametrize(
    ("language", "offered", "kept"),
    [
        (
            "javascript",
            ["delete", "$loadOrder", "load-order", "loadOrder"],
            ["$loadOrder", "loadOrder"],
        ),
        ("go", ["func", "LoadOrder", "load.Order"], ["LoadOrder"]),
        ("rust", ["fn", "_", "load_order", "r#type"], ["load_order"]),
    ],
)
def test_identifier_rules_follow_the_language(
    language: str, offered: list[str], kept: list[str]
) -> None:
    reply_text = '{"candidates": [' + ", ".join(f'{{"name": "{n}"}}' for n in offered) + "]}"
    assert [c.name for c in parse_candidates(reply_text, "find", language, 10)] == kept


def test_model_names_that_no_person_would_accept_are_dropped() -> None:
    long = "decode_" + "x" * 200
    offered = ["", "class", "1abc", "a b", "\ud800", long, "decode_claims"]
    reply_text = json.dumps({"candidates": [{"name": n} for n in offered]})

    candidates = parse_candidates(reply_text, "parse_token", "python", 10)

    assert [c.name for c in candidates] == ["decode_claims"]
    with pytest.raises(BadResponse) as caught:
        parse_candidates(json.dumps({"candidates": [{"name": long}]}), "f", "python", 3)
    assert "longer than 100 characters" in str(caught.value)
    assert len(str(caught.value)) < 200  # the 207-character name is cut in the message


def test_prompt_asks_for_the_count_and_keeps_code_in_the_question() -> None:
    prompt = handler.build_prompt(task(candidates="4", extra="Prefer verbs from our glossary."))
    assert "Suggest 4 better names" in prompt.question
    assert "`parse_token`" in prompt.question
    assert "json.loads(base64.urlsafe_b64decode(raw))" in prompt.question
    assert "urlsafe_b64decode" not in prompt.system + prompt.context
    assert '{"candidates"' in prompt.system
    assert prompt.system.endswith("Prefer verbs from our glossary.")


def test_module_targets_cannot_be_renamed() -> None:
    module = Target(str(TOKENS), "python", "module", "handler_tokens", Span(0, 0, 37, 46), "x", "")
    with pytest.raises(UsageError, match="rename needs a function, method or class"):
        handler.build_prompt(task(module))


def test_bad_candidate_option_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="rename candidates must be a whole number, got 'many'"):
        handler.parse(task(candidates="many"), reply("rename_clean.json"))


def test_there_is_no_static_rename() -> None:
    assert handler.supports_static is False
    with pytest.raises(UsageError, match="rename has no static tier"):
        handler.run_static(task())


def test_relativize_then_adjust_moves_the_name_span() -> None:
    result = handler.parse(task(), reply("rename_clean.json"))
    stored = handler.relativize(task(), result)
    assert isinstance(stored, RenameResult)
    assert stored.name_span == Span(0, 8, 0, 19)
    moved = handler.adjust(task(parse_token_target(start=40)), stored)
    assert isinstance(moved, RenameResult)
    assert moved.name_span == Span(40, 8, 40, 19)
    assert names(moved) == EXPECTED
