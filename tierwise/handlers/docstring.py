"""The docstring action: prompt, reply parsing, the static skeleton, and placement."""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap

from tierwise.core.code import Span, Target
from tierwise.core.errors import BadResponse
from tierwise.core.records import evolve
from tierwise.core.results import DocstringResult, Result, TextEdit
from tierwise.core.task import Action, Task
from tierwise.handlers.base import Prompt
from tierwise.handlers.docstring_render import (
    BLOCK_COMMENT_LANGUAGES,
    PYTHON_STYLES,
    read_existing,
    render,
    require_slot,
    style_for,
)
from tierwise.handlers.docstring_static import skeleton
from tierwise.handlers.docstring_update import update
from tierwise.handlers.parsing import Layout, is_js, unwrap
from tierwise.handlers.prompts import load, system_prompt
from tierwise.handlers.sizing import context_chars, display_chars

_FORMATS = {
    "google": "a Google-style docstring (Args, Returns, Raises sections as needed)",
    "numpy": "a NumPy-style docstring (Parameters, Returns, Raises sections as needed)",
    "sphinx": "a Sphinx-style docstring (:param:, :returns:, :raises: fields as needed)",
    "pep257": "a plain PEP 257 docstring",
    "jsdoc": "the body of a JSDoc comment (summary, then @param, @returns, @throws tags as needed)",
    "godoc": "a Go doc comment whose first sentence starts with `{name}`",
    "rustdoc": "a rustdoc comment (markdown, third person)",
    "javadoc": "the body of a Javadoc comment (summary, then @param, @return, @throws tags)",
    "comment": "a documentation comment in the language's usual style",
}
_CODE_START = {
    "python": r"(?:@[\w.]+|(?:async\s+)?def\s+\w+\s*\(|class\s+\w+\s*[:(]"
    r"|import\s+\w|from\s+[\w.]+\s+import\b)",
    "js": r"(?:export\s+)?(?:default\s+)?(?:async\s+)?"
    r"(?:function\b|class\s+[\w$]+|(?:const|let|var)\s+[\w$]+\s*=)"
    r"|(?:(?:public|private|protected|static|async|get|set)\s+)*[\w$]+\s*\([^)]*\)\s*(?::[^{]*)?\{",
    "go": r"(?:func|type|package)\s",
    "rust": r"(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:unsafe\s+)?"
    r"(?:fn|struct|enum|trait|impl|mod|use)\b|#\[",
    "block": r"(?:(?:public|private|protected|static|final|abstract|override|fun|func)\s+)+"
    r"[\w<>\[\]]+",
    "hash": r"(?:def|class|module|function|sub)\s+\w",
}
_LINE_MARKERS = {"go": r"//", "rust": r"//[/!]", "lua": r"--+", "sql": r"--"}


def _code_pattern(language: str) -> re.Pattern[str]:
    if language in _CODE_START:
        key = language
    elif is_js(language):
        key = "js"
    else:
        key = "block" if language in BLOCK_COMMENT_LANGUAGES else "hash"
    return re.compile(r"^[ \t]*(?:" + _CODE_START[key] + ")", re.M)


def _looks_like_code(text: str, language: str) -> bool:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return bool(_code_pattern(language).match(first))


def _clean(body: str) -> str:
    lines = [line.rstrip() for line in inspect.cleandoc(body).split("\n")]
    return "\n".join(lines).strip("\n")


def extract_docstring(reply: str, target: Target) -> str:
    """The plain docstring text in a model reply, or BadResponse saying why there is none."""
    if not reply.strip():
        raise BadResponse("docstring reply was empty")
    text = unwrap(reply).rstrip()
    language = target.language
    if language == "python":
        body = _from_python(text, target)
    elif language in BLOCK_COMMENT_LANGUAGES:
        body = _from_block_comment(text.strip(), target)
    else:
        body = _from_line_comments(text.strip(), target)
    body = _clean(body)
    if not body:
        raise BadResponse(
            "docstring reply had no text left after removing quotes, comment markers and fences"
        )
    return body


def _from_python(reply: str, target: Target) -> str:
    """`reply` keeps its first line's indentation, so indented code still dedents cleanly."""
    if _looks_like_code(reply, "python"):
        found = _docstring_in_python_code(reply, target)
        if found is None:
            raise BadResponse(
                f"docstring reply was Python code with no docstring for {target.name!r}; "
                "expected the docstring text only"
            )
        return found
    text = reply.strip()
    if re.match(r"[rRuU]?('''|\"\"\"|'|\")", text):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = None
        if isinstance(value, str):
            return value
    blocks = re.findall(r"[rRuU]?(\"\"\"|''')(.*?)\1", text, re.S)
    if len(blocks) == 1:  # quotes around the text, maybe with unrecognised chatter outside
        return str(blocks[0][1])
    if len(blocks) > 1:
        raise BadResponse(
            f"docstring reply held {len(blocks)} separate triple-quoted strings; "
            "expected one docstring"
        )
    # An unterminated opening (or a lone closing) triple quote: drop the quote marks.
    return re.sub(r"^[rRuU]?(\"\"\"|''')|(\"\"\"|''')$", "", text)


def _docstring_in_python_code(code: str, target: Target) -> str | None:
    try:
        tree = ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError, RecursionError):
        match = re.search(r"(?:def|class)\s+\w+.*?:\s*\n\s*[rRuU]?(\"\"\"|''')(.*?)\1", code, re.S)
        return match.group(2) if match else None
    if target.kind == "module":
        return ast.get_docstring(tree, clean=True)
    defs = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    named = [n for n in defs if n.name == target.name]
    for node in named or defs:
        doc = ast.get_docstring(node, clean=True)
        if doc:
            return doc
    return None


def _strip_block_markers(inner: str) -> str:
    lines = inner.split("\n")
    return "\n".join(re.sub(r"^\s*\*(?!/) ?", "", line) for line in lines)


def _from_block_comment(text: str, target: Target) -> str:
    blocks = list(re.finditer(r"/\*\*(.*?)(?:\*/|\Z)", text, re.S))
    if blocks:
        chosen = blocks[0]
        for block in blocks:
            after = text[block.end() :].lstrip().split("\n", 1)[0]
            if re.search(r"\b" + re.escape(target.name) + r"\b", after):
                chosen = block
                break
        return _strip_block_markers(chosen.group(1))
    if _looks_like_code(text, target.language):
        raise BadResponse(
            f"docstring reply was {target.language} code with no /** */ comment for "
            f"{target.name!r}; expected the comment text only"
        )
    lines = [line for line in text.split("\n") if line.strip()]
    if lines and all(line.lstrip().startswith("*") for line in lines):
        return _strip_block_markers(text)
    return text


def _from_line_comments(text: str, target: Target) -> str:
    marker = re.compile(r"^[ \t]*(?:" + _LINE_MARKERS.get(target.language, r"#") + r") ?")
    lines = text.split("\n")
    non_blank = [line for line in lines if line.strip()]
    code = _code_pattern(target.language)
    # Comment lines followed by the definition: the reply starts with a comment marker.
    comment_then_code = (
        bool(non_blank)
        and bool(marker.match(non_blank[0]))
        and any(code.match(line) and not marker.match(line) for line in non_blank)
    )
    if _looks_like_code(text, target.language) or comment_then_code:
        # Whole code came back: take the comment lines right above the first definition.
        first_code = next(
            i for i, line in enumerate(lines) if code.match(line) and not marker.match(line)
        )
        start = first_code
        while start > 0 and marker.match(lines[start - 1]):
            start -= 1
        if start == first_code:
            raise BadResponse(
                f"docstring reply was {target.language} code with no doc comment above "
                f"{target.name!r}; expected the comment text only"
            )
        lines = lines[start:first_code]
    non_blank = [line for line in lines if line.strip()]
    if non_blank and all(marker.match(line) for line in non_blank):
        lines = [marker.sub("", line, count=1) for line in lines]
    return "\n".join(lines)


_REPLY = "Reply with the text only: no quotes, comment markers, code or remarks.\n\n"


@functools.lru_cache(maxsize=16)
def _system(python_style: str, extra: str | None) -> str:
    """The system prompt for a Python docstring style (the same for every target)."""
    # Indented to sit inside the "- Python:" bullet of the system prompt.
    guide = textwrap.indent(load(f"docstring_{python_style}"), "  ").lstrip()
    return system_prompt("docstring", extra, python_style=guide)


class DocstringHandler:
    """Write or improve the documentation comment of a definition."""

    action: Action = Action.DOCSTRING
    prompt_version: str = "docstring-2"
    supports_static: bool = True

    def build_prompt(self, task: Task) -> Prompt:
        """System: the style rules; context: the file context; question: the code and the ask.

        An existing docstring is given as written, with the ask to update it: the model keeps
        what is still true rather than starting from nothing.
        """
        target = task.context.target
        system, head = self._system_and_head(task)
        question = (
            head
            + _REPLY
            + f"```{target.language}\n"
            + "\n".join(Layout.of(target).display())
            + "\n```"
        )
        expected = self.expected_output_tokens(task)
        return Prompt(system, task.context.render(), question, max(400, 3 * expected))

    def prompt_chars(self, task: Task) -> int:
        """The length of build_prompt's system, context and question, counted without
        building them (exact: the same pieces, handlers/sizing.py)."""
        target = task.context.target
        system, head = self._system_and_head(task)
        code = len(f"```{target.language}\n") + display_chars(target) + len("\n```")
        return len(system) + context_chars(task.context) + len(head) + len(_REPLY) + code

    def _system_and_head(self, task: Task) -> tuple[str, str]:
        """The system prompt and the question's first part (the ask, any existing text)."""
        target = task.context.target
        require_slot(target)
        style = style_for(target, task.options.get("style"))
        configured = (task.options.get("style") or "google").strip().lower()
        python_style = configured if configured in PYTHON_STYLES else "google"
        system = _system(python_style, task.options.get("extra"))
        ask = _FORMATS[style].format(name=target.name)
        where = f" `{target.name}`" if target.kind != "module" else f" ({target.path})"
        existing = read_existing(target)
        if existing is None:
            return system, f"Write {ask} for this {target.language} {target.kind}{where}.\n"
        return system, (
            f"Update the documentation of this {target.language} {target.kind}{where}: "
            f"reply with {ask}. It already has this text, written by its author:\n"
            "<existing>\n" + existing + "\n</existing>\n"
            "Keep every statement in it that the code still supports, in the author's "
            "words; correct only what the code contradicts, and add what is missing.\n"
        )

    def parse(self, task: Task, reply: str) -> Result:
        """Extract the docstring text from the reply and place it at the doc slot."""
        target = task.context.target
        style = style_for(target, task.options.get("style"))
        body = extract_docstring(reply, target)
        existing = _has_existing(task)
        note = "rewrites the existing docstring" if existing else ""
        return DocstringResult(body, render(target, body), style, existing, note)

    def run_static(self, task: Task) -> Result:
        """A skeleton from the signature; on an existing docstring, only missing parameters."""
        target = task.context.target
        require_slot(target)
        style = style_for(target, task.options.get("style"))
        if _has_existing(task):
            return update(target, style)
        body = skeleton(target, style)
        return DocstringResult(body, render(target, body), style)

    def expected_output_tokens(self, task: Task) -> int:
        """About 120 tokens plus 25 per parameter."""
        return 120 + 25 * len(task.context.target.params)

    def relativize(self, task: Task, result: Result) -> Result:
        """Keep the text only: the edit is re-rendered for the slot the result is used at."""
        if not isinstance(result, DocstringResult):
            raise TypeError(f"docstring handler got a {type(result).__name__}")
        return evolve(result, edit=TextEdit(Span(0, 0, 0, 0), ""))

    def adjust(self, task: Task, result: Result) -> Result:
        """Render the stored text at this task's doc slot and indentation."""
        if not isinstance(result, DocstringResult):
            raise TypeError(f"docstring handler got a {type(result).__name__}")
        return evolve(
            result,
            edit=render(task.context.target, result.docstring),
            existing=_has_existing(task),
        )


def _has_existing(task: Task) -> bool:
    slot = task.context.target.doc_slot
    return slot is not None and slot.existing is not None


handler = DocstringHandler()
