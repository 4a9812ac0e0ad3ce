"""The static tier on a target that already has a docstring: add what is missing, touch nothing.

A hand-written docstring is the user's work, and the static tier knows less than its author.
So it never replaces one: it only adds what is missing. With a parameter section already
there, a parameter is missing when the section does not name it (a mention in the summary or
under Returns does not list it), and the missing ones go inside that section. Without one, a
docstring that mentions every parameter (in prose) is complete; one that leaves any out gets a
new section in the configured style, listing every parameter: a section that listed only the
unmentioned ones would read as if the others were not parameters. The edit is an insertion
into the existing comment, so every character already there stays where it was. When nothing
is missing it offers no edit and says so.
"""

from __future__ import annotations

import ast
import inspect
import re

from tierwise.core.code import Span, Target
from tierwise.core.records import FrozenRecord, evolve, setfield
from tierwise.core.results import DocstringResult, TextEdit
from tierwise.handlers.docstring_render import BLOCK_COMMENT_LANGUAGES, read_existing
from tierwise.handlers.docstring_static import (
    facts,
    param_entries,
    param_section,
)
from tierwise.handlers.docstring_words import Param

# Section headers that end a parameter section, or before which a new one goes (Google, NumPy).
_LATER_SECTIONS = re.compile(
    r"^(?:Returns?|Yields?|Raises|Examples?|Notes?|Warnings?|See Also|References):?\s*$"
)
_GOOGLE_PARAMS = re.compile(
    r"^(?:Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters):\s*$"
)
_SPHINX_FIELD = re.compile(r"^:(?:param|type|parameter|arg|argument|key|keyword)\b")
_JSDOC_PARAM = re.compile(r"^@(?:param|arg|argument)\b")
_RST_FIELD = re.compile(r"^:[\w -]+:(?:\s|$)")
_RST_DIRECTIVE = re.compile(r"^\.\. [\w-]+::")
_RST_MARKUP = re.compile(r"^\.\. [\w-]+::|``[^`]+``|:(?:func|class|meth|attr|data|mod|exc):`")


def _own_style(relative: list[str], configured: str) -> str:
    """The style the docstring is already written in, so an addition matches it."""
    if configured in ("jsdoc",):
        return configured
    if any(_LATER_SECTIONS.match(line) and line.endswith(":") for line in relative):
        return "google"
    if any(re.fullmatch(r"-{3,}", line.strip()) for line in relative):
        return "numpy"
    if any(_RST_FIELD.match(line.strip()) or _RST_MARKUP.search(line) for line in relative):
        return "sphinx"
    return configured


class _Insert(FrozenRecord):
    """Where new lines go in the docstring's value lines, and in which style."""

    __slots__ = ("after", "style", "indent", "new_section", "blank_after", "first")
    after: int  # value line index the new lines follow
    style: str
    indent: str  # relative indentation of each entry line
    new_section: bool  # a whole section with its header (else entries in an existing one)
    blank_after: bool  # the new section goes before other text: a blank line after it
    first: int  # an existing section's first line (its header, or its first field or tag)

    def __init__(
        self,
        after: int,
        style: str,
        indent: str,
        new_section: bool,
        blank_after: bool = False,
        first: int = 0,
    ) -> None:
        setfield(self, "after", after)
        setfield(self, "style", style)
        setfield(self, "indent", indent)
        setfield(self, "new_section", new_section)
        setfield(self, "blank_after", blank_after)
        setfield(self, "first", first)


def missing_params(target: Target, text: str) -> tuple[Param, ...]:
    """The target's parameters whose names the docstring text never mentions."""
    out = []
    for param in facts(target).params:
        bare = param.name.lstrip("*.")
        if not re.search(r"(?<![\w$])" + re.escape(bare) + r"(?![\w$])", text):
            out.append(param)
    return tuple(out)


def update(target: Target, style: str) -> DocstringResult:
    """The static result for a target that has a docstring: missing parameters only."""
    text = read_existing(target)
    if text is None:
        return DocstringResult(
            "",
            None,
            style,
            existing=True,
            note="the existing docstring could not be read, so the static tier leaves it as is",
        )
    lines = text.split("\n")
    block = target.language in BLOCK_COMMENT_LANGUAGES
    plan = _plan(target, ["", *lines] if block else lines, "jsdoc" if block else style, 0)
    if plan.new_section:
        unmentioned = missing_params(target, text)
        missing = facts(target).params if unmentioned else ()
    else:
        listed = (["", *lines] if block else lines)[plan.first : plan.after + 1]
        unmentioned = missing = missing_params(target, "\n".join(listed))
    if not missing or style in ("godoc", "rustdoc", "comment"):
        return DocstringResult(text, None, style, existing=True, note=_nothing_note(target))
    names = ", ".join(p.name for p in unmentioned)
    edit = _insertion(target, style, missing)
    if edit is None:
        said = "does not mention" if plan.new_section else "does not list"
        note = (
            f"{target.name}'s docstring {said} {names}, but its quoting or escapes "
            "are not ones the static tier rewrites: nothing added"
        )
        return DocstringResult(text, None, style, existing=True, note=note)
    merged, new_edit = edit
    if not plan.new_section:
        note = f"added {names}: the parameters its parameter section did not list"
    elif len(missing) > len(unmentioned):
        every = ", ".join(p.name for p in missing)
        note = (
            f"added a parameter section ({every}): the docstring had none, and did not "
            f"mention {names}"
        )
    else:
        note = f"added {names}: the parameters the existing docstring did not mention"
    return DocstringResult(merged, new_edit, style, existing=True, note=note)


def _nothing_note(target: Target) -> str:
    what = (
        "mentions every parameter"
        if target.kind in ("function", "method") and target.params
        else "is kept as written"
    )
    return (
        f"{target.name} already has a docstring that {what}: nothing to add (the static tier "
        "only adds missing parameters and never rewrites a docstring; a model tier such as "
        "budget can)"
    )


def _plan(target: Target, lines: list[str], style: str, margin: int) -> _Insert:
    """Find an existing parameter section to extend, else where a new one goes."""
    relative = [line[margin:] if i else line.lstrip() for i, line in enumerate(lines)]
    last = max((i for i, line in enumerate(relative) if line.strip()), default=0)
    for i, line in enumerate(relative):
        if _GOOGLE_PARAMS.match(line.strip()) and not line.startswith((" ", "\t")):
            end = _section_end(relative, i + 1, indented=True)
            entry = next((r for r in relative[i + 1 : end + 1] if r.strip()), "    x")
            indent = entry[: len(entry) - len(entry.lstrip())]
            entry_style = "pep257" if re.match(r"\s*[\w*]+ -- ", entry) else "google"
            return _Insert(end, entry_style, indent, False, first=i)
        numpy = line.strip() == "Parameters" and i + 1 < len(relative)
        if numpy and re.fullmatch(r"-{3,}", relative[i + 1].strip()):
            return _Insert(_numpy_end(relative, i + 2), "numpy", "", False, first=i)
    fields = [i for i, line in enumerate(relative) if _SPHINX_FIELD.match(line.strip())]
    if fields:
        return _Insert(_continued(relative, fields[-1]), "sphinx", "", False, first=fields[0])
    style = _own_style(relative, style)
    if style == "sphinx":
        # reST: parameters lead the field list (":returns:", ":meta private:"), else end it.
        others = [i for i, line in enumerate(relative) if _RST_FIELD.match(line.strip())]
        if others and others[0] > 0:
            before = others[0] - 1
            while before > 0 and not relative[before].strip():
                before -= 1
            return _Insert(before, style, "", True, bool(relative[before + 1].strip()))
    tags = [i for i, line in enumerate(relative) if _JSDOC_PARAM.match(line.strip())]
    if tags:
        return _Insert(_continued(relative, tags[-1]), "jsdoc", "", False, first=tags[0])
    # A new section: before the first later section (Returns, Raises, tags), else before the
    # reST directives that end the docstring (`.. versionadded:: 5.1`: they close it in Django
    # and Sphinx's own style), else at the end.
    for i, line in enumerate(relative):
        stripped = line.strip()
        later = _LATER_SECTIONS.match(stripped) or (
            style == "jsdoc" and stripped.startswith("@") and i > 0
        )
        if later and i > 0:
            before = i - 1
            while before > 0 and not relative[before].strip():
                before -= 1
            return _Insert(before, style, "", True, bool(relative[before + 1].strip()))
    directives = _trailing_directives(relative, last)
    if directives is not None and style != "jsdoc":
        before = directives - 1
        while before > 0 and not relative[before].strip():
            before -= 1
        return _Insert(before, style, "", True, bool(relative[before + 1].strip()))
    return _Insert(last, style, "", True)


def _trailing_directives(lines: list[str], last: int) -> int | None:
    """The first line of the reST directives (with their indented bodies) that end the text
    after its first line, or None when it does not end in one."""
    start = None
    for i in range(last, 0, -1):
        line = lines[i]
        if not line.strip() or line.startswith((" ", "\t")):
            continue
        if not _RST_DIRECTIVE.match(line):
            break
        start = i
    return start


def _section_end(lines: list[str], start: int, *, indented: bool) -> int:
    """The last non-blank line of a section whose entries are indented under its header."""
    end = start - 1
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip():
            continue
        if indented and not line.startswith((" ", "\t")):
            break
        end = i
    return end


def _numpy_end(lines: list[str], start: int) -> int:
    end = start - 1
    for i in range(start, len(lines)):
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if lines[i].strip() and re.fullmatch(r"-{3,}", nxt):
            break  # the next section's header
        if lines[i].strip():
            end = i
    return end


def _continued(lines: list[str], start: int) -> int:
    """A field line plus the more-indented lines continuing it."""
    end = start
    for i in range(start + 1, len(lines)):
        if lines[i].strip() and lines[i].startswith((" ", "\t")):
            end = i
        else:
            break
    return end


def _new_lines(target: Target, plan: _Insert, params: tuple[Param, ...]) -> list[str]:
    """The lines to insert, relative to the docstring's margin ("" for blank lines)."""
    if plan.new_section:
        after = [""] if plan.blank_after else []
        return ["", *param_section(target, plan.style, params).split("\n"), *after]
    return [
        plan.indent + line for entry in param_entries(target, plan.style, params) for line in entry
    ]


def _insertion(
    target: Target, style: str, params: tuple[Param, ...]
) -> tuple[str, TextEdit] | None:
    slot = target.doc_slot
    assert slot is not None and slot.existing is not None and slot.existing_text is not None
    if target.language == "python":
        return _python_insertion(target, style, params)
    if target.language in BLOCK_COMMENT_LANGUAGES:
        return _block_insertion(target, style, params)
    return None


def _python_insertion(
    target: Target, style: str, params: tuple[Param, ...]
) -> tuple[str, TextEdit] | None:
    slot = target.doc_slot
    assert slot is not None and slot.existing is not None and slot.existing_text is not None
    literal = slot.existing_text
    quote = re.match(r"(?i)([rub]*)('''|\"\"\")", literal)
    if quote is None or not literal.endswith(quote.group(2)):
        return None  # a one-quote string or an implicit concatenation: left alone
    raw, marks = "r" in quote.group(1).lower(), quote.group(2)
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    source_lines = literal.split("\n")
    value_lines = value.split("\n") if isinstance(value, str) else []
    if len(value_lines) != len(source_lines):
        return None  # escaped newlines: value lines do not map onto source lines
    continuation = [line for line in value_lines[1:] if line.strip()]
    margin_text = (
        min((line[: len(line) - len(line.lstrip())] for line in continuation), key=len)
        if continuation
        else slot.indent
    )
    plan = _plan(target, value_lines, style, len(margin_text))
    added = _new_lines(target, plan, params)
    if any(marks in line for line in added) or (not raw and any("\\" in x for x in added)):
        added = [line.replace("\\", "\\\\").replace(marks, "\\" + marks) for line in added]
        if raw:
            return None
    rendered = [margin_text + line if line else "" for line in added]
    at = plan.after
    text = source_lines[at]
    if at == len(source_lines) - 1:  # the closing quotes share the line: move them down
        body = text[: len(text) - len(marks)]
        new_source = [*source_lines[:at], body, *rendered, margin_text + marks]
    else:
        new_source = [*source_lines[: at + 1], *rendered, *source_lines[at + 1 :]]
    new_literal = "\n".join(new_source)
    try:
        merged = inspect.cleandoc(ast.literal_eval(new_literal))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    span = slot.existing
    return merged, _diff_edit(span, literal, new_literal)


def _block_insertion(
    target: Target, style: str, params: tuple[Param, ...]
) -> tuple[str, TextEdit] | None:
    slot = target.doc_slot
    assert slot is not None and slot.existing is not None and slot.existing_text is not None
    source_lines = slot.existing_text.split("\n")
    if len(source_lines) < 3 or source_lines[-1].strip() != "*/":
        return None  # a one-line /** x */: not rewritten
    body = [re.sub(r"^\s*\* ?", "", line) for line in source_lines[1:-1]]
    prefix = re.match(r"^(\s*\*)", source_lines[1])
    star = prefix.group(1) if prefix else slot.indent + " *"
    plan = _plan(target, ["", *body], "jsdoc", 0)
    added = _new_lines(target, evolve(plan, style="jsdoc"), params)
    rendered = [f"{star} {line}".rstrip() for line in added]
    at = max(plan.after, 0)  # index in ["", *body] == index in source_lines
    new_source = [*source_lines[: at + 1], *rendered, *source_lines[at + 1 :]]
    merged = "\n".join([*body[:at], *added, *body[at:]]).strip("\n")
    return merged, _diff_edit(slot.existing, slot.existing_text, "\n".join(new_source))


def _diff_edit(span: Span, old: str, new: str) -> TextEdit:
    """The smallest insertion that turns `old` (at `span`) into `new`: the text around it stays."""
    head = 0
    while head < len(old) and head < len(new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    start = _advance(span.start_line, span.start_col, old[:head])
    end = _advance(span.start_line, span.start_col, old[: len(old) - tail])
    return TextEdit(Span(*start, *end), new[head : len(new) - tail])


def _advance(line: int, col: int, text: str) -> tuple[int, int]:
    breaks = text.count("\n")
    if not breaks:
        return line, col + len(text)
    return line + breaks, len(text) - text.rfind("\n") - 1
