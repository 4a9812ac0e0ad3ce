"""The static docstring tier: a skeleton from the signature in every style."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tierwise.core.code import CodeContext, DocSlot, Span, Target
from tierwise.core.results import DocstringResult
from tierwise.core.task import Action, Task
from tierwise.edits import apply_text_edit
from tierwise.handlers.docstring import handler
from tierwise.handlers.docstring_words import split_words, summary, third_person

DATA = Path(__file__).resolve().parents[1] / "data"
TOKENS = DATA / "handler_tokens.py"


def sliced(path: Path, span: Span) -> str:
    lines = path.read_text(encoding="utf-8").split("\n")
    parts = [lines[span.start_line][span.start_col :], *lines[span.start_line + 1 : span.end_line]]
    return "\n".join([*parts, lines[span.end_line][: span.end_col]])


def parse_token_target() -> Target:
    span = Span(14, 4, 23, 22)
    return Target(
        str(TOKENS),
        "python",
        "method",
        "parse_token",
        span,
        sliced(TOKENS, span),
        "def parse_token(self, raw: str, *, strict: bool = False) -> dict:",
        Span(14, 8, 14, 19),
        ("raw", "strict"),
        "dict",
        ("ValueError", "TokenError"),
        DocSlot(15, "        "),
    )


def load_tokens_target() -> Target:
    span = Span(34, 0, 37, 46)
    return Target(
        str(TOKENS),
        "python",
        "function",
        "load_tokens",
        span,
        sliced(TOKENS, span),
        "def load_tokens(path):",
        Span(34, 4, 34, 15),
        ("path",),
        None,
        (),
        DocSlot(35, "    "),
    )


def static(target: Target, style: str = "google") -> DocstringResult:
    result = handler.run_static(
        Task(Action.DOCSTRING, CodeContext(target), options={"style": style})
    )
    assert isinstance(result, DocstringResult)
    return result


def sections(text: str) -> list[str]:
    return [line for line in text.split("\n") if line and not line.startswith(" ")]


def test_google_skeleton_documents_params_returns_and_raises_with_conditions() -> None:
    result = static(parse_token_target())
    text = result.docstring
    assert text.split("\n")[0] == "Parse token."
    assert sections(text)[1:] == ["Args:", "Returns:", "Raises:"]
    assert "    raw (str): " in text
    assert "    strict (bool, optional): " in text and "Defaults to False." in text
    assert "    dict: " in text
    assert "    ValueError: If `not raw`." in text
    # Both places that raise TokenError, in source order; `except` names what it translates.
    token_error = next(line for line in text.split("\n") if "TokenError:" in line)
    assert token_error.startswith("    TokenError: If json.JSONDecodeError is raised; or if ")
    assert token_error.endswith("`strict and 'exp' not in payload`.")


def test_skeleton_is_valid_python_at_the_slot() -> None:
    target = parse_token_target()
    result = static(target)
    assert result.edit is not None
    source = apply_text_edit(TOKENS.read_text(encoding="utf-8"), result.edit)
    tree = ast.parse(source)
    func = next(
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "parse_token"
    )
    assert ast.get_docstring(func) == result.docstring


def test_numpy_skeleton() -> None:
    text = static(parse_token_target(), "numpy").docstring
    assert "Parameters\n----------\nraw : str\n" in text
    assert "strict : bool, optional\n" in text
    assert "Returns\n-------\ndict\n" in text
    assert "Raises\n------\nValueError\n    If `not raw`." in text


def test_sphinx_skeleton() -> None:
    text = static(parse_token_target(), "sphinx").docstring
    lines = text.split("\n")
    assert ":type raw: str" in lines and ":rtype: dict" in lines
    assert any(line.startswith(":param strict: ") for line in lines)
    assert ":raises ValueError: If `not raw`." in lines


def test_pep257_skeleton_uses_plain_prose() -> None:
    text = static(parse_token_target(), "pep257").docstring
    assert "Args:" not in text and ":param" not in text
    assert any(line.startswith("raw -- ") for line in text.split("\n"))
    assert "strict -- " in text and "(default False)" in text


def test_untyped_function_that_returns_a_value_gets_an_untyped_returns_section() -> None:
    text = static(load_tokens_target()).docstring
    assert text.startswith("Load tokens.\n\nArgs:\n    path: ")
    returns = text.split("Returns:\n")[1]
    assert not returns.lstrip().startswith(":") and ":" not in returns.split("\n")[0]
    assert "Raises:" not in text


def test_procedure_without_a_return_value_has_no_returns_section() -> None:
    source = "def purge_cache(self) -> None:\n        shutil.rmtree(self.cache_dir)"
    target = Target(
        "s.py",
        "python",
        "method",
        "purge_cache",
        Span(3, 4, 4, 37),
        source,
        "def purge_cache(self) -> None:",
        None,
        (),
        "None",
        (),
        DocSlot(4, "        "),
    )
    assert static(target).docstring == "Purge cache."


def test_jsdoc_skeleton_for_javascript() -> None:
    path = DATA / "handler_client.js"
    span = Span(21, 2, 39, 3)
    target = Target(
        str(path),
        "javascript",
        "method",
        "get",
        span,
        sliced(path, span),
        "async get(path, retries = 3)",
        Span(21, 8, 21, 11),
        ("path", "retries"),
        None,
        ("Error",),
        DocSlot(21, "  "),
    )
    result = static(target)
    lines = result.docstring.split("\n")
    assert result.style == "jsdoc"
    assert "@param path - TODO - describe." in lines
    assert any(line.startswith("@param [retries=3] - ") for line in lines)
    assert any(line.startswith("@returns ") for line in lines)
    assert "@throws {Error} If `attempt === retries - 1 || err.status < 500`." in lines
    assert result.edit is not None
    edited = apply_text_edit(path.read_text(encoding="utf-8"), result.edit).split("\n")
    assert edited[21] == "  /**" and edited[22].startswith("   * ")
    assert edited[21 + len(lines) + 2] == "  async get(path, retries = 3) {"


def test_go_and_rust_skeletons_are_a_named_summary() -> None:
    go = Target(
        "w.go",
        "go",
        "function",
        "ParseToken",
        Span(4, 0, 6, 1),
        "func ParseToken(raw string) (Token, error) {\n}",
        "func ParseToken(raw string) (Token, error)",
        None,
        ("raw",),
        "(Token, error)",
        (),
        DocSlot(4, ""),
    )
    result = static(go)
    assert result.docstring == "ParseToken parses token."
    assert result.edit is not None
    assert result.edit.new_text == "// ParseToken parses token.\n"
    rust = Target(
        "c.rs",
        "rust",
        "function",
        "parse_token",
        Span(2, 0, 4, 1),
        "fn parse_token(raw: &str) {\n}",
        "fn parse_token(raw: &str)",
        None,
        ("raw",),
        None,
        (),
        DocSlot(2, ""),
    )
    rust_edit = static(rust).edit
    assert rust_edit is not None
    assert rust_edit.new_text == "/// Parses token.\n"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("parse_token", ["parse", "token"]),
        ("parseHTTPRequest", ["parse", "HTTP", "request"]),
        ("IsValid", ["is", "valid"]),
        ("__init__", ["init"]),
        ("load-config2", ["load", "config", "2"]),
    ],
)
def test_split_words(name: str, words: list[str]) -> None:
    assert split_words(name) == words


@pytest.mark.parametrize(
    ("name", "kind", "voice", "expected"),
    [
        ("is_expired", "method", "imperative", "Return whether it is expired."),
        ("get_user", "function", "imperative", "Return user."),
        ("IsExpired", "function", "go", "IsExpired reports whether it is expired."),
        ("fetch_batch", "function", "third", "Fetches batch."),
        ("TokenCodec", "class", "imperative", "A token codec."),
        ("OrderStore", "class", "go", "OrderStore is an order store."),
        ("checksum", "function", "imperative", "Return the checksum."),
    ],
)
def test_summary_sentences_come_from_the_name(
    name: str, kind: str, voice: str, expected: str
) -> None:
    target = Target("x", "python", kind, name, Span(0, 0, 0, 0), "", "")
    assert summary(target, returns_value=True, voice=voice) == expected


def test_third_person() -> None:
    assert [third_person(v) for v in ("parse", "fetch", "copy", "get", "go")] == [
        "parses",
        "fetches",
        "copies",
        "returns",
        "goes",
    ]
