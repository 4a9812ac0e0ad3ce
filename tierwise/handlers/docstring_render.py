"""Turn docstring text into the comment syntax of the target's language, at its doc slot.

The text itself (what `DocstringResult.docstring` holds, and what the cache stores) is plain:
no quotes, no comment markers, no indentation. Rendering adds those for the exact slot, so a
cached docstring can be placed on a moved or re-indented copy of the function.
"""

from __future__ import annotations

import ast
import inspect
import re

from tierwise.core.code import Span, Target
from tierwise.core.errors import UsageError
from tierwise.core.results import TextEdit
from tierwise.handlers.parsing import is_js

PYTHON_STYLES = ("google", "numpy", "sphinx", "pep257")
BLOCK_COMMENT_LANGUAGES = frozenset(
    {
        "javascript",
        "typescript",
        "tsx",
        "java",
        "kotlin",
        "scala",
        "swift",
        "c",
        "cpp",
        "csharp",
        "php",
    }
)
_LINE_MARKERS = {"go": "//", "rust": "///", "lua": "---", "sql": "--"}


def style_for(target: Target, requested: str | None) -> str:
    """The docstring style name for a target: the configured one for Python, fixed otherwise."""
    language = target.language
    if language == "python":
        style = (requested or "google").strip().lower()
        if style == "auto":  # not resolved from a file's text (Engine.task_for does that)
            style = "google"
        if style not in PYTHON_STYLES:
            raise UsageError(
                f"unknown docstring style {requested!r}; expected one of: "
                f"auto, {', '.join(PYTHON_STYLES)} (set actions.docstring_style or pass --style)"
            )
        return style
    if is_js(language):
        return "jsdoc"
    return {"go": "godoc", "rust": "rustdoc"}.get(
        language, "javadoc" if language in BLOCK_COMMENT_LANGUAGES else "comment"
    )


def line_marker(language: str) -> str:
    """The line-comment marker used for doc comments in a language without block doc comments."""
    return _LINE_MARKERS.get(language, "#")


def require_slot(target: Target) -> None:
    """Refuse a target that has nowhere to put a docstring, before any model is paid."""
    slot = target.doc_slot
    if slot is None:
        raise UsageError(
            f"a docstring needs a function, method, class or module; the {target.kind} at "
            f"{target.path}:{target.span.start_line + 1} has no docstring position "
            "(put the cursor inside a definition instead of selecting code)"
        )
    one_line_body = (
        target.language == "python"
        and target.kind in ("function", "method", "class")
        and slot.existing is None
        and slot.line > target.span.end_line
    )
    if one_line_body:
        raise UsageError(
            f"{target.name} at {target.path}:{target.span.start_line + 1} has its body on the "
            "same line as its header; move the body to its own line to add a docstring"
        )


def render(target: Target, docstring: str) -> TextEdit:
    """The edit that puts `docstring` (plain text) at the target's doc slot."""
    require_slot(target)
    slot = target.doc_slot
    assert slot is not None  # checked by require_slot
    lines = comment_lines(target.language, docstring, slot.indent)
    if slot.existing is not None:
        # The existing span starts at the old comment's first character, so the first line
        # goes in without indentation and the rest carry the slot's indentation.
        return TextEdit(slot.existing, "\n".join(lines))
    at = Span(slot.line, 0, slot.line, 0)
    return TextEdit(at, slot.indent + "\n".join(lines) + "\n")


def comment_lines(language: str, docstring: str, indent: str) -> list[str]:
    """The comment's lines; every line after the first starts with `indent`."""
    body = docstring.strip("\n").split("\n")
    if language == "python":
        return _python(body, indent)
    if language in BLOCK_COMMENT_LANGUAGES:
        return _block(body, indent)
    marker = line_marker(language)
    out = [f"{marker} {line}".rstrip() for line in body]
    return [out[0], *(indent + line for line in out[1:])]


def _python(body: list[str], indent: str) -> list[str]:
    text = "\n".join(body)
    prefix = ""
    if '"""' in text or text.endswith('"'):
        # Escape rather than switch quotes: the text may contain ''' as well.
        text = text.replace("\\", "\\\\").replace('"""', '\\"""')
        if text.endswith('"'):
            text = text[:-1] + '\\"'
    elif "\\" in text:
        prefix = "r"  # PEP 257: use r""" when the docstring contains backslashes
    lines = text.split("\n")
    if len(lines) == 1:
        return [f'{prefix}"""{lines[0]}"""']
    rest = [indent + line if line.strip() else "" for line in lines[1:]]
    return [f'{prefix}"""{lines[0]}', *rest, f'{indent}"""']


def _block(body: list[str], indent: str) -> list[str]:
    body = [line.replace("*/", "*\\/") for line in body]
    if len(body) == 1:
        return [f"/** {body[0]} */"]
    inner = [f"{indent} * {line}".rstrip() for line in body]
    return ["/**", *inner, f"{indent} */"]


def read_existing(target: Target) -> str | None:
    """The plain text of the target's existing docstring or doc comment, or None (none, or
    not readable as one)."""
    slot = target.doc_slot
    if slot is None or slot.existing is None or slot.existing_text is None:
        return None
    raw = slot.existing_text
    if target.language == "python":
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return inspect.cleandoc(value) if isinstance(value, str) else None
    if target.language in BLOCK_COMMENT_LANGUAGES:
        inner = re.sub(r"^\s*/\*\*?", "", raw.strip())
        inner = re.sub(r"\*/\s*$", "", inner)
        lines = [re.sub(r"^\s*\*(?!/) ?", "", line) for line in inner.split("\n")]
        return inspect.cleandoc("\n".join(lines)) or None
    marker = re.compile(r"^\s*(?://[/!]?|--+|#+)\s?")
    lines = [marker.sub("", line, count=1) for line in raw.split("\n")]
    return inspect.cleandoc("\n".join(lines)) or None
