"""Secrets in what a model sends back, redacted before the answer is delivered, cached, written
to a markdown document or logged.

A model sees redacted code, but a local model sees it as is (nothing leaves the machine), and
any model can echo a key it was shown or invent a realistic one. The answer then spreads a
secret into the cache, the data directory and the logs: places a user never thinks to clean.
A review quick fix that contains a secret is dropped rather than redacted, since applying it
would replace the user's own value with a placeholder; its finding still shows.
"""

from __future__ import annotations

import attrs

from tierwise import privacy
from tierwise.core.results import (
    DocstringResult,
    MarkdownResult,
    RenameCandidate,
    RenameResult,
    Result,
    ReviewResult,
)


@attrs.frozen
class Cleaned:
    """A result with its secrets redacted, and how many and of what kinds."""

    result: Result
    count: int
    kinds: tuple[str, ...]


class _Counter:
    def __init__(self) -> None:
        self.count = 0
        self.kinds: set[str] = set()

    def text(self, value: str) -> str:
        found = privacy.redact(value)
        self.count += found.count
        self.kinds.update(found.kinds)
        return found.text

    def has_secret(self, value: str) -> bool:
        found = privacy.redact(value)
        self.count += found.count
        self.kinds.update(found.kinds)
        return found.count > 0


def redact_result(result: Result) -> Cleaned:
    """The result with every secret in its text redacted (quick fixes holding one dropped)."""
    counter = _Counter()
    cleaned: Result
    if isinstance(result, DocstringResult):
        cleaned = attrs.evolve(
            result,
            docstring=counter.text(result.docstring),
            edit=attrs.evolve(result.edit, new_text=privacy.redact(result.edit.new_text).text),
        )
    elif isinstance(result, MarkdownResult):
        cleaned = MarkdownResult(counter.text(result.title), counter.text(result.markdown))
    elif isinstance(result, ReviewResult):
        findings = []
        for finding in result.findings:
            replacement = finding.replacement
            if replacement is not None and counter.has_secret(replacement):
                replacement = None
            findings.append(
                attrs.evolve(
                    finding, message=counter.text(finding.message), replacement=replacement
                )
            )
        cleaned = ReviewResult(tuple(findings))
    elif isinstance(result, RenameResult):
        candidates = tuple(
            RenameCandidate(c.name, counter.text(c.reason)) for c in result.candidates
        )
        cleaned = attrs.evolve(result, candidates=candidates)
    else:  # pragma: no cover - every result kind is handled above
        raise TypeError(f"unknown result kind {type(result).__name__}")
    return Cleaned(cleaned, counter.count, tuple(sorted(counter.kinds)))
