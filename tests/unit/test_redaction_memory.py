"""Prompt redaction through the executor's memory redacts exactly what a fresh scan redacts.

Every prompt carries its action's system text, and requests over one file repeat contexts, so
the executor remembers the redaction of each system and context text (engine/calling.py:
redact_prompt with a Memo). A memory keyed wrongly would send one prompt's context redacted as
another's: code the model was not asked about, or a secret the fresh scan would have caught.
Every definition of requests' and Django's sessions code, and every module of the secret
corpus, is redacted for two actions through one shared memory and compared with a scan that
remembers nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests import realcode, secrets_corpus
from tierwise import privacy
from tierwise.config import Config
from tierwise.core.task import Action
from tierwise.engine import Engine
from tierwise.engine.calling import redact_prompt
from tierwise.engine.memo import Memo
from tierwise.handlers.base import Prompt
from tierwise.handlers.registry import get_handler

ACTIONS = (Action.EXPLAIN, Action.REVIEW)


def _real_prompts() -> list[tuple[str, Prompt]]:
    requests = sorted((realcode.sdist("requests") / "src" / "requests").rglob("*.py"))
    sessions = realcode.sdist("django") / "django" / "contrib" / "sessions"
    engine = Engine(Config())
    found = []
    for path in [*requests, *sorted(sessions.rglob("*.py"))]:
        source = path.read_text(encoding="utf-8")
        lines = [
            node.lineno - 1
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for action in ACTIONS:
            for line in lines:
                task = engine.build_task(action, str(path), source, line, 4)
                found.append((f"{Path(path).name}:{line}", get_handler(action).build_prompt(task)))
    return found


def _corpus_prompts() -> list[tuple[str, Prompt]]:
    engine = Engine(Config())
    found = []
    cases = [*secrets_corpus.secrets(), *secrets_corpus.heldout_secrets()]
    for case in cases:
        for action in ACTIONS:
            task = engine.build_task(action, case.path, case.code, case.line, 4)
            found.append((f"{case.kind}:{case.target}", get_handler(action).build_prompt(task)))
    return found


def _compare(prompts: list[tuple[str, Prompt]]) -> int:
    """Redact each prompt with and without the shared memory; the remembered texts used."""
    memory: Memo[privacy.Redaction] = Memo(32)
    hits = 0
    for name, prompt in prompts:
        fresh: list[privacy.Redaction] = []
        expected = redact_prompt(prompt, fresh)
        before = len(memory._items)
        remembered: list[privacy.Redaction] = []
        assert redact_prompt(prompt, remembered, memory) == expected, name
        assert remembered == fresh, name  # the counts and kinds of the note, too
        if len(memory._items) == before:
            hits += 1  # both the system and the context text came from the memory
    return hits


def test_remembered_redactions_match_fresh_ones_on_real_code() -> None:
    prompts = _real_prompts()
    assert len(prompts) > 600
    assert _compare(prompts) > 200  # the memory was used, not just filled


def test_remembered_redactions_match_fresh_ones_on_the_secret_corpus() -> None:
    prompts = _corpus_prompts()
    assert len(prompts) > 100
    assert any(sum(r.count for r in _found(p)) for _, p in prompts)  # secrets were there
    _compare(prompts)


def _found(prompt: Prompt) -> list[privacy.Redaction]:
    found: list[privacy.Redaction] = []
    redact_prompt(prompt, found)
    return found
