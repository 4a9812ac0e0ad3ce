"""Redaction runs each rule only where the text holds a piece every match of it holds, and finds
exactly what every rule run everywhere finds.

The question of every request is scanned for secrets (it holds the target), and most rules'
patterns start with a lookbehind or a character class, so they test every position of the
text: `_detect` first looks for a literal piece of each rule ("://", "bearer", "password=", a
secret-like word in an assigned name) and skips the rule where it is absent (pass 7, issue 8).
`detect_everywhere` (here) runs every rule on the whole text; the two must yield the same
detections, in the same order, on the secret corpus (its secrets, look-alikes and held-out sets)
and on real code (requests, flask and a sample of Django).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import realcode, secrets_corpus
from tierwise.privacy import formats, redaction

Detections = Iterator[tuple[int, int, str]]


def detect_everywhere(text: str) -> Detections:
    """Every rule on the whole text, no piece looked for first: what `_detect` must equal."""
    yield from redaction._private_keys(text)
    yield from redaction._tokens(text, gated=False)
    yield from formats.auth_headers(text)
    yield from formats.url_passwords(text)
    yield from redaction._params(text)
    yield from redaction._assignments(text, gated=False)
    yield from formats.detect(text, text.lower(), gated=False)


def _same(text: str) -> bool:
    """Asserts the gated and ungated scans agree; whether anything was found."""
    found = list(redaction._detect(text))
    assert found == list(detect_everywhere(text)), text[:300]
    return bool(found)


@pytest.mark.parametrize(
    "cases",
    [
        secrets_corpus.secrets,
        secrets_corpus.lookalikes,
        secrets_corpus.heldout_secrets,
        secrets_corpus.heldout_lookalikes,
    ],
)
def test_the_secret_corpus(cases: object) -> None:
    corpus = cases()  # type: ignore[operator]
    found = [_same(case.code) for case in corpus]
    assert len(found) > 20
    if cases in (secrets_corpus.secrets, secrets_corpus.heldout_secrets):
        assert all(found)  # every secret module has a secret to find


def _modules(root: Path, step: int = 1) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())[::step]


@pytest.mark.parametrize(("package", "step"), [("requests", 1), ("flask", 1), ("django", 10)])
def test_real_code(package: str, step: int) -> None:
    paths = _modules(realcode.sdist(package), step)
    assert len(paths) > 20
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        _same(text)
        _same(text.upper())  # the case-blind rules' pieces are looked for in the lowered text
