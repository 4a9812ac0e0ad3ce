"""Small helpers with no side effects."""

from __future__ import annotations

import re


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def truncate(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def initials(name: str) -> str:
    return "".join(part[0].upper() for part in name.split() if part)


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(value, high))


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
