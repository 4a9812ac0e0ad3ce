"""Secrets in what a model sends back, redacted before the answer is delivered, cached, written
to a markdown document or logged; the values of the environment's key variables too.

A model sees redacted code, but a local model sees it as is (nothing leaves the machine), and
any model can echo a key it was shown or invent a realistic one. The answer then spreads a
secret into the cache, the data directory and the logs: places a user never thinks to clean.
A review quick fix that contains a secret is dropped rather than redacted, since applying it
would replace the user's own value with a placeholder; its finding still shows.
"""

from __future__ import annotations

import attrs

from tierwise import privacy
from tierwise.core.records import evolve
from tierwise.core.results import (
    DocstringResult,
    MarkdownResult,
    RenameCandidate,
    RenameResult,
    Result,
    ReviewResult,
)
from tierwise.providers.keys import scrub_environment_keys


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

    def _redact(self, value: str) -> privacy.Redaction:
        found = privacy.redact(value)
        scrubbed = scrub_environment_keys(found.text)
        extra = found.text.count("[key]") != scrubbed.count("[key]")
        self.count += found.count + extra
        self.kinds.update((*found.kinds, *(("environment-key",) if extra else ())))
        return privacy.Redaction(scrubbed, found.count + extra, found.kinds)

    def text(self, value: str) -> str:
        return self._redact(value).text

    def has_secret(self, value: str) -> bool:
        return self._redact(value).count > 0


def _clean(text: str) -> str:
    return scrub_environment_keys(privacy.redact(text).text)


def redact_result(result: Result) -> Cleaned:
    """The result with every secret in its text redacted (quick fixes holding one dropped)."""
    counter = _Counter()
    cleaned: Result
    if isinstance(result, DocstringResult):
        cleaned = evolve(
            result,
            docstring=counter.text(result.docstring),
            edit=(
                evolve(result.edit, new_text=_clean(result.edit.new_text))
                if result.edit is not None
                else None
            ),
            note=counter.text(result.note),
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
                evolve(finding, message=counter.text(finding.message), replacement=replacement)
            )
        cleaned = ReviewResult(tuple(findings))
    elif isinstance(result, RenameResult):
        candidates = tuple(
            RenameCandidate(c.name, counter.text(c.reason)) for c in result.candidates
        )
        cleaned = evolve(result, candidates=candidates)
    else:  # pragma: no cover - every result kind is handled above
        raise TypeError(f"unknown result kind {type(result).__name__}")
    return Cleaned(cleaned, counter.count, tuple(sorted(counter.kinds)))
