"""Prompt texts for each action, kept as markdown files next to this module."""

from __future__ import annotations

import functools
import string
from pathlib import Path


@functools.cache
def load(name: str) -> str:
    """The text of prompts/<name>.md (read once per process)."""
    # A plain file read (importlib.resources imports zipfile for a package never installed zipped).
    return Path(__file__).with_name(f"{name}.md").read_text(encoding="utf-8").strip()


def system_prompt(name: str, extra: str | None = None, **values: str) -> str:
    """A system prompt with $placeholders filled and the user's extra instructions appended."""
    text = string.Template(load(name)).substitute(values)
    if extra and extra.strip():
        text += "\n\nAdditional instructions from the user's configuration:\n" + extra.strip()
    return text
