"""The labelled routing corpus (corpus.jsonl): real functions from pinned packages, the action,
the lowest acceptable tier (`min`), the highest sensible one (`max`) and why.

Every case names its package (fetched at test time by tests/realcode.py, never committed), a
file inside it, the definition's qualified name and its first line in that pinned version (so
a changed package cannot silently move a case onto other code). `split` says whether the case
was held back from tuning the signals ("held") or used for it ("tune"); it was fixed by a hash
of the case id before any tuning (see `split_for`) and is never changed afterwards.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from tests import realcode
from tierwise.context.extract import SourceFile, load
from tierwise.core.tiers import Tier

CORPUS = Path(__file__).with_name("corpus.jsonl")
STAKES = {"H": "high", "K": "lookalike", "P": "plain"}

# package label -> (where it comes from, the directory its `file` paths are relative to)
_ROOTS: dict[str, tuple[Callable[[], Path], str]] = {
    **{name: (functools.partial(realcode.sdist, name), "") for name in realcode.PYPI_PINS},
    **{name: (functools.partial(realcode.npm_package, name), "") for name in realcode.NPM_PINS},
    "go-jwt": (
        lambda: realcode.deb_package("golang-github-golang-jwt-jwt-dev"),
        "usr/share/gocode/src/github.com/golang-jwt/jwt",
    ),
    "go-sessions": (
        lambda: realcode.deb_package("golang-github-gorilla-sessions-dev"),
        "usr/share/gocode/src/github.com/gorilla/sessions",
    ),
}


@attrs.frozen
class Case:
    """One labelled routing case."""

    id: str
    project: str
    file: str
    symbol: str
    line: int  # 1-based first line of the definition in the pinned version
    action: str
    min: str
    max: str
    stakes: str  # "high" | "lookalike" | "plain"
    category: str  # the risk category a reviewer would name, or "none"
    why: str
    split: str  # "tune" | "held"

    @property
    def min_tier(self) -> Tier:
        """The lowest acceptable tier."""
        return Tier.parse(self.min)

    @property
    def max_tier(self) -> Tier:
        """The highest sensible tier."""
        return Tier.parse(self.max)

    @property
    def language(self) -> str:
        """The case's language, from its file name."""
        return {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go"}[
            Path(self.file).suffix
        ]


def split_for(case_id: str) -> str:
    """A quarter of the cases are held back from tuning, chosen by a hash of the id."""
    return "held" if int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) % 4 == 0 else "tune"


def load_cases(path: Path = CORPUS) -> list[Case]:
    """Every case of the corpus, in file order."""
    cases = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip():
            cases.append(Case(**json.loads(raw)))
    return cases


def project_root(project: str) -> Path:
    """The unpacked package (fetched once) joined with the case paths' base directory."""
    fetch, base = _ROOTS[project]
    return fetch() / base if base else fetch()


def qualified_names(parsed: SourceFile) -> list[str]:
    """ "Class.method" names of every definition, in the order of `parsed.parsed.definitions`
    (Go methods are named after their receiver type)."""
    definitions = parsed.parsed.definitions
    out: list[str] = []
    for index, definition in enumerate(definitions):
        parts: list[str] = []
        current: int | None = index
        while current is not None:
            parts.append(definitions[current].name)
            current = definitions[current].parent
        if definition.kind == "method" and definition.parent is None and definition.owner:
            parts.append(definition.owner)
        out.append(".".join(reversed(parts)))
    return out


@attrs.frozen
class Located:
    """A case's file and the 0-based position of its definition's name."""

    path: Path
    source: str
    line: int
    col: int


def locate(case: Case, cache: dict[Path, SourceFile] | None = None) -> Located:
    """Find the case's definition, checking its name and first line against the pin."""
    path = project_root(case.project) / case.file
    source = path.read_text(encoding="utf-8")
    parsed = (cache or {}).get(path) or load(str(path), source)
    if cache is not None:
        cache[path] = parsed
    names = qualified_names(parsed)
    for definition, name in zip(parsed.parsed.definitions, names, strict=True):
        if name == case.symbol and definition.span.start_line + 1 == case.line:
            at = definition.name_span or definition.span
            return Located(path, source, at.start_line, at.start_col)
    raise LookupError(f"{case.id}: no definition {case.symbol} starting at line {case.line}")


def as_json(case: Case) -> dict[str, Any]:
    """The case as one corpus.jsonl object."""
    return attrs.asdict(case)
