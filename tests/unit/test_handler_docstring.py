"""The docstring handler: reply parsing, placement for each language, the static skeleton."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tierwise.core.code import CodeContext, DocSlot, Span, Target
from tierwise.core.errors import BadResponse, UsageError
from tierwise.core.results import DocstringResult, result_from_dict, result_to_dict
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers.docstring import handler

DATA = Path(__file__).resolve().parents[1] / "data"
REPLIES = DATA / "replies"
TOKENS = DATA / "handler_tokens.py"


def reply(name: str) -> str:
    return (REPLIES / name).read_text(encoding="utf-8")


def sliced(path: Path, span: Span) -> str:
    lines = path.read_text(encoding="utf-8").split("\n")
    if span.start_line == span.end_line:
        return lines[span.start_line][span.start_col : span.end_col]
    parts = [lines[span.start_line][span.start_col :], *lines[span.start_line + 1 : span.end_line]]
    return "\n".join([*parts, lines[span.end_line][: span.end_col]])


def parse_token_target() -> Target:
    span = Span(14, 4, 23, 22)
    return Target(
        path=str(TOKENS),
        language="python",
        kind="method",
        name="parse_token",
        span=span,
        text=sliced(TOKENS, span),
        signature="def parse_token(self, raw: str, *, strict: bool = False) -> dict:",
        name_span=Span(14, 8, 14, 19),
        params=("raw", "strict"),
        returns="dict",
        raises=("ValueError", "TokenError"),
        doc_slot=DocSlot(15, "        "),
    )


def is_expired_target() -> Target:
    span = Span(25, 4, 27, 42)
    existing = Span(26, 8, 26, 65)
    return Target(
        path=str(TOKENS),
        language="python",
        kind="method",
        name="is_expired",
        span=span,
        text=sliced(TOKENS, span),
        signature="def is_expired(self, payload: dict, now: float) -> bool:",
        name_span=Span(25, 8, 25, 18),
        params=("payload", "now"),
        returns="bool",
        doc_slot=DocSlot(26, "        ", existing, sliced(TOKENS, existing)),
    )


def load_tokens_target() -> Target:
    span = Span(34, 0, 37, 46)
    return Target(
        path=str(TOKENS),
        language="python",
        kind="function",
        name="load_tokens",
        span=span,
        text=sliced(TOKENS, span),
        signature="def load_tokens(path):",
        name_span=Span(34, 4, 34, 15),
        params=("path",),
        doc_slot=DocSlot(35, "    "),
    )


def task(target: Target, **options: str) -> Task:
    context = CodeContext(
        target, imports=("import base64", "import json"), enclosing="class TokenCodec:"
    )
    return Task(Action.DOCSTRING, context, options=dict(options))


def applied(target: Target, result: DocstringResult) -> str:
    assert result.edit is not None
    return apply_text_edit(Path(target.path).read_text(encoding="utf-8"), result.edit)


def docstring_of(source: str, name: str) -> str | None:
    tree = ast.parse(source)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.get_docstring(node)


def parsed(name: str, target: Target | None = None, **options: str) -> DocstringResult:
    result = handler.parse(task(target or parse_token_target(), **options), reply(name))
    assert isinstance(result, DocstringResult)
    return result


# --- parsing replies --------------------------------------------------------------------------


def test_clean_reply_is_inserted_as_the_first_statement() -> None:
    target = parse_token_target()
    result = parsed("docstring_clean.txt")
    assert result.docstring == reply("docstring_clean.txt").strip()
    assert result.style == "google"
    assert result.edit is not None
    assert result.edit.span == Span(15, 0, 15, 0)
    source = applied(target, result)
    assert docstring_of(source, "parse_token") == result.docstring
    lines = source.split("\n")
    assert lines[15] == '        """Parse a session token into its claims.'
    assert lines[17] == "        Args:"
    assert lines[16] == ""  # blank docstring lines carry no trailing spaces
    assert lines[27] == '        """'
    assert lines[28] == "        if not raw:"


@pytest.mark.parametrize(
    "name",
    ["docstring_fenced_chatter.txt", "docstring_quoted.txt", "docstring_whole_function.txt"],
)
def test_messy_replies_yield_the_same_docstring_as_the_clean_one(name: str) -> None:
    assert parsed(name).docstring == parsed("docstring_clean.txt").docstring


def test_code_without_a_docstring_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match="Python code with no docstring for 'parse_token'"):
        parsed("docstring_code_without_docstring.txt")


def test_two_alternative_docstrings_are_ambiguous() -> None:
    with pytest.raises(BadResponse, match="2 separate triple-quoted strings"):
        parsed("docstring_two_strings.txt")


@pytest.mark.parametrize("text", ["", "   \n", '""""""', "```\n```"])
def test_empty_replies_are_bad_responses(text: str) -> None:
    with pytest.raises(BadResponse, match=r"docstring reply (was empty|had no text)"):
        handler.parse(task(parse_token_target()), text)


def test_existing_docstring_is_replaced_not_duplicated() -> None:
    target = is_expired_target()
    result = handler.parse(task(target), "Return whether the token expired before `now`.")
    assert isinstance(result, DocstringResult)
    assert target.doc_slot is not None
    assert result.edit is not None
    assert result.edit.span == target.doc_slot.existing
    source = applied(target, result)
    assert docstring_of(source, "is_expired") == "Return whether the token expired before `now`."
    assert "Return True when the token's expiry" not in source
    assert len(source.split("\n")) == len(TOKENS.read_text().split("\n"))


def test_quotes_and_backslashes_in_the_text_stay_valid_python() -> None:
    target = load_tokens_target()
    text = 'Load tokens, one "JSON" literal per line.\n\nLines end with \\n; a """ inside is kept.'
    result = handler.parse(task(target), f"```\n{text}\n```")
    assert isinstance(result, DocstringResult)
    assert docstring_of(applied(target, result), "load_tokens") == text


def test_a_trailing_quote_does_not_merge_with_the_closing_quotes() -> None:
    target = load_tokens_target()
    result = handler.parse(task(target), 'Load tokens written by "dump_tokens"')
    assert isinstance(result, DocstringResult)
    assert (
        docstring_of(applied(target, result), "load_tokens")
        == 'Load tokens written by "dump_tokens"'
    )


# --- prompts ------------------------------------------------------------------------------------


def test_prompt_puts_the_code_only_in_the_question() -> None:
    t = task(parse_token_target(), extra="Mention thread safety when relevant.")
    prompt = handler.build_prompt(t)
    assert "json.loads(base64.urlsafe_b64decode(raw))" in prompt.question
    assert "urlsafe_b64decode" not in prompt.system + prompt.context
    assert prompt.context == t.context.render()
    assert prompt.system.endswith("Mention thread safety when relevant.")
    assert "Google style" in prompt.system
    assert "Google-style" in prompt.question and "`parse_token`" in prompt.question


def test_prompt_follows_the_configured_python_style() -> None:
    numpy = handler.build_prompt(task(parse_token_target(), style="numpy"))
    assert "Parameters\n      ----------" in numpy.system
    assert "NumPy-style" in numpy.question


def test_unknown_style_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown docstring style 'epydoc'"):
        handler.build_prompt(task(parse_token_target(), style="epydoc"))


def test_a_selection_has_no_docstring_slot() -> None:
    target = Target(str(TOKENS), "python", "selection", "parse_token", Span(16, 8, 17, 0), "x", "")
    with pytest.raises(UsageError, match="no docstring position"):
        handler.build_prompt(task(target))


def test_expected_output_grows_with_parameters() -> None:
    assert handler.expected_output_tokens(task(parse_token_target())) == 170
    assert handler.expected_output_tokens(task(load_tokens_target())) == 145


# --- cache round trip -------------------------------------------------------------------------


def test_relativize_then_adjust_renders_for_the_new_slot() -> None:
    result = handler.parse(task(parse_token_target()), reply("docstring_clean.txt"))
    relative = handler.relativize(task(parse_token_target()), result)
    stored = result_from_dict(Action.DOCSTRING, result_to_dict(relative))
    assert isinstance(result, DocstringResult) and isinstance(stored, DocstringResult)
    assert stored.docstring == result.docstring
    # The same function moved to module level, 40 lines further down.
    moved = parse_token_target()
    text = moved.text.replace("\n    ", "\n")
    shifted = Target(
        moved.path,
        "python",
        "function",
        "parse_token",
        Span(54, 0, 63, 18),
        text,
        moved.signature,
        None,
        moved.params,
        moved.returns,
        moved.raises,
        DocSlot(55, "    "),
    )
    again = handler.adjust(task(shifted), stored)
    assert isinstance(again, DocstringResult)
    assert again.edit is not None
    assert again.edit.span == Span(55, 0, 55, 0)
    assert again.edit.new_text.startswith('    """Parse a session token')
    assert "\n    Args:\n        raw:" in again.edit.new_text


# --- with the real extractor ------------------------------------------------------------------


def test_targets_here_match_the_extractor() -> None:
    extract = pytest.importorskip("tierwise.context.extract").extract
    source = TOKENS.read_text(encoding="utf-8")
    for expected in (parse_token_target(), is_expired_target(), load_tokens_target()):
        got = extract(str(TOKENS), source, expected.span.start_line + 1, 8).target
        assert got == expected


def test_indented_decorated_method_reply_is_parsed_as_code() -> None:
    code = (
        "Here is the updated method:\n\n"
        "    @staticmethod\n"
        "    def parse_token(raw: str) -> dict:\n"
        "        '''Decode the claims of a session token.\n\n"
        "        Args:\n"
        "            raw: The encoded token.\n"
        "        '''\n"
        "        return json.loads(raw)\n"
    )
    result = handler.parse(task(parse_token_target()), code)
    assert isinstance(result, DocstringResult)
    assert (
        result.docstring
        == "Decode the claims of a session token.\n\nArgs:\n    raw: The encoded token."
    )


@pytest.mark.parametrize(
    "header",
    [
        "def charge(\n    amount: int,\n    currency: str = 'EUR',\n) -> str:\n",
        "async def charge(amount: int,\n                 currency: str) -> str:\n",
        "def charge(amount: int, currency: str = (\n    'EUR'\n)) -> str:\n",
    ],
)
def test_a_docstring_goes_after_a_multi_line_signature_and_the_code_still_parses(
    header: str,
) -> None:
    from tierwise.context.extract import extract

    source = (
        f"import os\n\n\n{header}    total = amount * 100\n    return f'{{total}} {{currency}}'\n"
    )
    task = Task(Action.DOCSTRING, extract("pay.py", source, 3, 4), options={"style": "google"})

    result = handler.parse(task, "Format an amount in cents with its currency.")

    assert isinstance(result, DocstringResult) and result.edit is not None
    out = apply_text_edit(source, result.edit)
    function = ast.parse(out).body[1]  # a docstring inside the signature would not parse
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    assert ast.get_docstring(function) == "Format an amount in cents with its currency."
    assert out.startswith(f'import os\n\n\n{header}    """')
