"""Re-anchoring an answer on a document that changed while the model worked: it follows the
text it was computed from only when that text occurs exactly once in the new document."""

from __future__ import annotations

from tierwise.server.results import relocate

OLD = "import os\n\n\ndef total(a, b):\n    return a + b\n"


def test_text_that_moved_is_followed() -> None:
    start = OLD.index("def total")
    new = "# a comment added above\n" + OLD
    assert relocate(OLD, new, start, len(OLD)) == len("# a comment added above\n")


def test_text_that_now_occurs_twice_is_ambiguous_and_not_followed() -> None:
    start = OLD.index("def total")
    twice = OLD + "\n\n" + OLD[start:]  # pasted a copy below: which one was meant?
    assert relocate(OLD, twice, start, len(OLD)) is None


def test_text_that_was_edited_or_is_empty_is_not_followed() -> None:
    start = OLD.index("def total")
    assert relocate(OLD, OLD.replace("a + b", "a - b"), start, len(OLD)) is None
    assert relocate(OLD, OLD, start, start) is None
