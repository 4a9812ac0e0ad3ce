"""bench/mutants.py's seeded bugs must still apply to this tree: a snippet the code no longer
holds (a rule moved to another module) is reported "n/a" and silently drops out of the score,
which is how five of them went stale when their code moved."""

from __future__ import annotations

import ast

import pytest

from bench.mutants import MUTANTS, ROOT, Mutant


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_every_mutant_applies_once_and_stays_valid_python(mutant: Mutant) -> None:
    path = ROOT / mutant.path
    assert path.is_file(), f"{mutant.name}: {mutant.path} does not exist"
    text = path.read_text(encoding="utf-8")
    mutated = text
    for snippet, changed in [(mutant.original, mutant.mutated), *mutant.also]:
        assert text.count(snippet) == 1, f"{mutant.name}: {snippet!r} in {mutant.path}"
        assert changed != snippet
        mutated = mutated.replace(snippet, changed)
    ast.parse(mutated)
    for test in mutant.tests:
        assert (ROOT / test.split("::")[0]).exists(), f"{mutant.name}: no {test}"
