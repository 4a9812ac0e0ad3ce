"""The normal forms keying remembers give the keys computing them afresh gives, on real code.

A burst of requests over one file shares its imports and its classes' signatures, so keying
remembers each context piece's normal form (engine/keying.py: NormalForms). A memory keyed
wrongly would hand one function another's context digest: the cache would then serve an
answer computed for other code. Every definition of requests' and Django's sessions code is
keyed through one shared memory, in file order, and compared with a digest computed with no
memory at all.
"""

from __future__ import annotations

from pathlib import Path

from tests import realcode
from tierwise.cache.keys import context_digest, normalise
from tierwise.context import extract
from tierwise.engine.keying import NormalForms


def _files() -> list[Path]:
    requests = sorted((realcode.sdist("requests") / "src" / "requests").rglob("*.py"))
    sessions = realcode.sdist("django") / "django" / "contrib" / "sessions"
    return [*requests, *sorted(sessions.rglob("*.py"))]


def test_remembered_context_pieces_give_the_fresh_digest_for_every_definition() -> None:
    memory = NormalForms()
    compared = shared_pieces = 0
    for path in _files():
        source = path.read_text(encoding="utf-8")
        for ctx in extract.extract_all(str(path), source, budget_tokens=10**6):
            fresh = context_digest(
                ctx.target.language,
                imports=ctx.imports,
                enclosing=ctx.enclosing,
                callees=ctx.callees,
            )
            before = len(memory.pieces._items)
            remembered = context_digest(
                ctx.target.language,
                imports=ctx.imports,
                enclosing=ctx.enclosing,
                callees=ctx.callees,
                normal=memory.piece,
            )
            assert remembered == fresh, f"{path.name}: {ctx.target.name}"
            pieces = (1 if ctx.imports else 0) + (1 if ctx.enclosing else 0) + len(ctx.callees)
            if pieces and len(memory.pieces._items) == before:
                shared_pieces += 1  # every piece came from the memory
            compared += 1
    assert compared > 300
    assert shared_pieces > 100  # the memory was used, not just filled


def test_a_piece_is_remembered_per_language_and_text() -> None:
    memory = NormalForms()
    python = memory.piece("python", "import os  # why\n")
    assert python == normalise("python", "import os  # why\n")
    # The same text in another language has another normal form (no comment rule for `#`).
    assert memory.piece("go", "import os  # why\n") == normalise("go", "import os  # why\n")
    assert memory.piece("go", "import os  # why\n") != python
    memory.clear()
    assert not memory.pieces._items and not memory.requests._items
