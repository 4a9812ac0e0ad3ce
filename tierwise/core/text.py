"""Small text helpers for what tierwise prints: plural forms and cut columns."""

from __future__ import annotations

ELLIPSIS = "…"


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 line", "2 lines" (`many` for an irregular plural: "1 match", "2 matches")."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def cut(text: str, width: int) -> str:
    """The text in at most `width` characters; a cut one ends with "…" so it reads as cut."""
    if len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + ELLIPSIS if width > 0 else ""


def cut_left(text: str, width: int) -> str:
    """Like `cut`, keeping the end (a path's file name): "…/shop/auth.py:12"."""
    if len(text) <= width:
        return text
    return ELLIPSIS + text[len(text) - width + 1 :] if width > 0 else ""
