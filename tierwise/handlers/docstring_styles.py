"""Which Python docstring style a file already uses, for `actions.docstring_style = "auto"`.

A Google-style `Args:` block dropped into Flask's `:param:` docstrings is an edit its
maintainers would not accept, so by default a new docstring follows the file it goes into.
The file's text is read, not its tree: a marker counts wherever it stands, which is inside a
docstring in practice (`Args:` alone on a line, or `:param x:` at a line's start, is not
Python code). A style counts once per block of consecutive marker lines, so a Sphinx docstring
with five `:param` lines weighs the same as one Google `Args:` header.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Only these styles are detected: pep257 has no marker of its own (a file of prose docstrings
# gives no answer, and the fallback applies).
_SPHINX = re.compile(
    r"^[ \t]*:(?:param|parameter|arg|argument|key|keyword|type|raises?|except|exception"
    r"|returns?|rtype|yields?|ytype)\b[^:\n]*:",
    re.MULTILINE,
)
_GOOGLE = re.compile(
    r"^[ \t]*(?:Args|Arguments|Keyword Args|Keyword Arguments|Returns|Yields|Raises):[ \t]*$",
    re.MULTILINE,
)
_NUMPY = re.compile(
    r"^([ \t]*)(?:Parameters|Other Parameters|Returns|Yields|Receives|Raises|Warns)[ \t]*\n"
    r"\1-{3,}[ \t]*$",
    re.MULTILINE,
)
# A cheap test first: most files hold none of these, and a substring or a one-character
# regex is far faster than a scan (every field starts a line with ":"; a NumPy header is
# underlined).
_FIELD_START = re.compile(r"\n[ \t]*:[a-z]")
_GOOGLE_WORDS = ("Args:", "Arguments:", "Returns:", "Yields:", "Raises:")
_CHEAP: tuple[tuple[re.Pattern[str], Callable[[str], object]], ...] = (
    (_SPHINX, _FIELD_START.search),
    (_GOOGLE, lambda text: any(word in text for word in _GOOGLE_WORDS)),
    (_NUMPY, lambda text: "---" in text),
)
_NAMES = {_SPHINX: "sphinx", _GOOGLE: "google", _NUMPY: "numpy"}
AUTO = "auto"
FALLBACK = "google"  # what "auto" gives in a file with no docstring sections (the old default)


def _blocks(pattern: re.Pattern[str], text: str) -> int:
    """How many separate runs of this style's marker lines the text holds."""
    count, last_line, line, pos = 0, -10, 0, 0
    for match in pattern.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        if line > last_line + 2:  # a blank line or one line of prose between fields is one block
            count += 1
        last_line = line + match.group(0).count("\n")
    return count


def file_style(source: str) -> str | None:
    """The docstring style most of the file's sectioned docstrings use; None when the file has
    none, or two styles tie."""
    counts: dict[str, int] = {}
    for pattern, gate in _CHEAP:
        if gate(source):
            found = _blocks(pattern, source)
            if found:
                counts[_NAMES[pattern]] = found
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None
    return ranked[0][0]


def resolved_style(configured: str, source: str | None) -> str:
    """The style a Python docstring is written in: the configured one, or with "auto" the
    file's own (the fallback when it shows none, or its text is not at hand)."""
    if configured.strip().lower() != AUTO:
        return configured
    return (file_style(source) if source is not None else None) or FALLBACK
