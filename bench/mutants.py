"""Mutation testing: seed small, plausible bugs in the code that must hold (routing, cache keys,
privacy, the engine, the providers, the server's results) and check that a test fails for each.

Each mutant is (file, an exact snippet that occurs once, its mutated form, the tests that ought
to catch it). The script applies one mutant at a time to a copy of the tree, runs those tests
with the same interpreter, and counts the mutant killed when they fail. The tree itself is never
touched. `--root` measures another checkout (an older commit) with the same mutants: a mutant
whose snippet that tree does not have is reported as not applicable, and only test paths that
exist there are run (a mutant left with none runs tests/unit and tests/providers).

Run: .venv-dev/bin/python -m bench.mutants [--root DIR] [--only NAME ...] [--list]
Figures: docs/security.md (mutation score before and after).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FALLBACK_TESTS = ("tests/unit", "tests/providers")
TIMEOUT_S = 900


@dataclass(frozen=True)
class Mutant:
    """One seeded bug; `before` is (file, snippet, mutated) for the same bug in older code."""

    name: str
    path: str
    original: str
    mutated: str
    tests: tuple[str, ...]
    before: tuple[str, str, str] | None = None
    # More (snippet, mutated) pairs in the same file, for a rule enforced in several places.
    also: tuple[tuple[str, str], ...] = ()


ROUTING = (
    "tests/unit/test_router.py",
    "tests/unit/test_escalation.py",
    "tests/unit/test_signals.py",
)
KEYS = ("tests/unit/test_cache_keys.py", "tests/e2e/test_store_faults.py")
PRIVACY = (
    "tests/unit/test_privacy.py",
    "tests/e2e/test_secret_corpus.py",
    "tests/e2e/test_key_leaks.py",
)
ENGINE = (
    "tests/unit/test_engine_faults.py",
    "tests/unit/test_escalation.py",
    "tests/e2e/test_provider_faults.py",
    "tests/e2e/test_lsp_cancel.py",
)
PROVIDERS = ("tests/providers", "tests/e2e/test_provider_faults.py")
RESULTS = (
    "tests/unit/test_server_results.py",
    "tests/e2e/test_lsp_actions.py",
    "tests/e2e/test_lsp_cancel.py",
)

MUTANTS: tuple[Mutant, ...] = (
    # -- routing -------------------------------------------------------------------------------
    Mutant(
        "escalation window inverted",
        "tierwise/engine/asks.py",
        "recent = [a for a in asks if now - a.ts <= window_s]",
        "recent = [a for a in asks if now - a.ts > window_s]",
        ROUTING,
    ),
    Mutant(
        "an applied answer no longer resets escalation",
        "tierwise/engine/asks.py",
        "accepted = max((i for i, a in enumerate(recent) if a.applied), default=-1)",
        "accepted = -1",
        ROUTING,
    ),
    Mutant(
        "risk no longer promotes",
        "tierwise/routing/rules.py",
        "if signals.risks and risk_target is not None and risk_target > tier:",
        "if signals.risks and risk_target is not None and risk_target < tier:",
        ROUTING,
    ),
    Mutant(
        "local_only paths no longer kept to the local tier",
        "tierwise/routing/router.py",
        "    if state.local_only and tier > Tier.LOCAL:\n        tier = Tier.LOCAL",
        "    if state.local_only and tier > Tier.LOCAL:\n        pass",
        ROUTING,
        # The rule holds in three places on purpose (the cap, the usable tiers, the fallback's
        # ceiling): one of them alone is an equivalent mutant.
        also=(
            (
                "    if state.local_only:\n        usable = [t for t in usable if t <= Tier.LOCAL]",
                "    if False:\n        usable = [t for t in usable if t <= Tier.LOCAL]",
            ),
            (
                "        really = [t for t in really if t <= Tier.LOCAL]",
                "        really = list(really)",
            ),
            (
                "ceiling = Tier.LOCAL if state.local_only else Tier.FRONTIER",
                "ceiling = Tier.FRONTIER",
            ),
        ),
    ),
    Mutant(
        "max_tier clamp dropped",
        "tierwise/routing/rules.py",
        "clamped = min(max(tier, policy.min_tier), policy.max_tier)",
        "clamped = max(tier, policy.min_tier)",
        ROUTING,
    ),
    # -- cache keys ----------------------------------------------------------------------------
    Mutant(
        "model id dropped from the cache key",
        "tierwise/cache/keys.py",
        '"model": model,',
        '"model": "",',
        KEYS,
    ),
    Mutant(
        "action options dropped from the cache key",
        "tierwise/cache/keys.py",
        '"options": {str(k): str(v) for k, v in options.items()},',
        '"options": {},',
        KEYS,
    ),
    # -- privacy -------------------------------------------------------------------------------
    Mutant(
        "redaction switched off for cloud providers",
        "tierwise/engine/execution.py",
        "if self.config.privacy.redact and not self.pool.is_local(model.provider):",
        "if self.config.privacy.redact and self.pool.is_local(model.provider):",
        PRIVACY,
    ),
    Mutant(
        "ASIA temporary AWS keys no longer redacted",
        "tierwise/privacy/redaction.py",
        '("aws-access-key", "(?:AKIA|ASIA)"',
        '("aws-access-key", "(?:AKIA)"',
        PRIVACY,
        before=("tierwise/privacy/redaction.py", '_token("(?:AKIA|ASIA)"', '_token("(?:AKIA)"'),
    ),
    Mutant(
        "the system prompt no longer redacted",
        "tierwise/engine/calling.py",
        "return parts[0].text, parts[1].text, parts[2].text",
        "return prompt.system, parts[1].text, parts[2].text",
        PRIVACY,
    ),
    Mutant(
        "chosen passwords under password names no longer redacted",
        "tierwise/privacy/redaction.py",
        'yield start, end, "password"',
        "pass",
        PRIVACY,
    ),
    Mutant(
        "public keys under *key* names redacted again",
        "tierwise/privacy/redaction.py",
        "if not words or _PUBLIC_WORDS.intersection(words) or words[-1] in _DESCRIPTOR_WORDS:",
        "if not words or words[-1] in _DESCRIPTOR_WORDS:",
        PRIVACY,
    ),
    Mutant(
        "positional client keys no longer redacted",
        "tierwise/privacy/formats.py",
        'yield match.start("value"), match.end("value"), "positional-key"',
        "pass",
        PRIVACY,
    ),
    Mutant(
        "answers no longer redacted before they are stored",
        "tierwise/engine/execution.py",
        "result = cleaned.result",
        "cleaned = attrs.evolve(cleaned, count=0)",
        PRIVACY,
    ),
    Mutant(
        "log records no longer scrubbed",
        "tierwise/server/__init__.py",
        "    handler.addFilter(RedactSecrets())",
        "    pass",
        PRIVACY,
    ),
    # -- engine --------------------------------------------------------------------------------
    Mutant(
        "a cancelled run's cost recorded as $0",
        "tierwise/engine/execution.py",
        'self._record_spend(task, decision, started, ref, partial, spent, outcome="cancelled")',
        'self._record_spend(task, decision, started, ref, Usage(), [], outcome="cancelled")',
        ENGINE,
        before=(
            "tierwise/engine/execution.py",
            "cost_usd=self.pricing.model_cost(ref, partial) if ref else 0.0,",
            "cost_usd=0.0,",
        ),
    ),
    Mutant(
        "a failed stream's usage recorded as 0 tokens",
        "tierwise/engine/execution.py",
        "usage = (error.usage if isinstance(error, ProviderError) else None) or Usage()",
        "usage = Usage()",
        ENGINE,
    ),
    Mutant(
        "tokens of failed-over attempts not billed",
        "tierwise/engine/execution.py",
        "        for other, used in spent:\n            total = total + used",
        "        for other, used in []:\n            total = total + used",
        ENGINE,
    ),
    Mutant(
        "a reply cut at the limit is asked again with the same cap",
        "tierwise/engine/execution.py",
        "larger = min(tier_config.max_output_tokens, caps[-1] * 2)",
        "larger = caps[-1]",
        ENGINE,
    ),
    Mutant(
        "an empty answer is accepted",
        "tierwise/engine/execution.py",
        "if not completion.text.strip():",
        "if False:",
        ENGINE,
    ),
    Mutant(
        "an unusable cache directory fails the request",
        "tierwise/engine/stores.py",
        "except TierwiseError as exc:\n                        self._unusable = directory",
        "except ZeroDivisionError as exc:\n                        self._unusable = directory",
        ("tests/e2e/test_store_faults.py", *ENGINE),
    ),
    Mutant(
        "a deleted ledger swallows rows",
        "tierwise/ledger/store.py",
        "if not self.path.exists():",
        "if False:",
        ("tests/e2e/test_store_faults.py", "tests/unit/test_ledger.py"),
    ),
    # -- providers -----------------------------------------------------------------------------
    Mutant(
        "Timeout removed from the errors that fail over",
        "tierwise/providers/pool.py",
        "FALLBACK_ERRORS = (RateLimited, Timeout, Unavailable, MissingKey)",
        "FALLBACK_ERRORS = (RateLimited, Unavailable, MissingKey)",
        PROVIDERS,
    ),
    Mutant(
        "in-stream overloaded and API errors no longer mapped",
        "tierwise/providers/sdk_errors.py",
        "    if kind in BUSY_ERROR_TYPES or not kind:",
        "    if not kind:",
        PROVIDERS,
        before=(
            "tierwise/providers/anthropic.py",
            'overloaded=lambda exc: exc.type in ("overloaded_error", "api_error"),',
            "overloaded=lambda exc: False,",
        ),
    ),
    Mutant(
        "a model that streamed text falls over to the next one",
        "tierwise/providers/pool.py",
        "                if streamed:\n                    raise\n                failures.append",
        "                failures.append",
        PROVIDERS,
    ),
    Mutant(
        "an in-stream error read as the stream's HTTP 200",
        "tierwise/providers/sdk_errors.py",
        "if isinstance(exc, sdk.APIStatusError) and exc.status_code < 400 and opened:",
        "if False:",
        PROVIDERS,
    ),
    Mutant(
        "no deadline for the whole answer (only the SDK's per-read timeout)",
        "tierwise/providers/streaming.py",
        "            try:\n                async with asyncio.timeout_at(self.deadline):\n"
        "                    item = await anext(iterator)",
        "            try:\n                async with asyncio.timeout(None):\n"
        "                    item = await anext(iterator)",
        PROVIDERS,
    ),
    Mutant(
        "Anthropic max_tokens stop accepted as complete",
        "tierwise/providers/anthropic.py",
        'if stop_reason == "max_tokens":',
        "if False:",
        PROVIDERS,
    ),
    Mutant(
        "OpenAI length stop accepted as complete",
        "tierwise/providers/openai.py",
        'if finish == "length":',
        "if False:",
        PROVIDERS,
    ),
    Mutant(
        "a retry after text has streamed",
        "tierwise/providers/pool.py",
        "                    not streamed\n                    and isinstance(exc, RETRY_ERRORS)",
        "                    isinstance(exc, RETRY_ERRORS)",
        PROVIDERS,
    ),
    Mutant(
        "a retry that does not fit in the tier timeout",
        "tierwise/providers/pool.py",
        "                    and loop.time() + wait < deadline\n",
        "\n",
        PROVIDERS,
    ),
    Mutant(
        "more than one retry",
        "tierwise/providers/pool.py",
        "MAX_RETRIES = 1",
        "MAX_RETRIES = 3",
        ("tests/unit/test_config.py", *PROVIDERS),
    ),
    Mutant(
        "a failed call's usage not attached",
        "tierwise/providers/streaming.py",
        "        if error.usage is None:\n            error.usage = self.spent()",
        "        if error.usage is None:\n            pass",
        PROVIDERS,
    ),
    Mutant(
        "an echoed key no longer scrubbed",
        "tierwise/providers/keys.py",
        'text = text.replace(key, "[key]") if len(key) >= 4 else text',
        "text = text",
        PROVIDERS,
    ),
    # -- the server's results ------------------------------------------------------------------
    Mutant(
        "the ambiguity check removed from re-anchoring",
        "tierwise/server/results.py",
        "if first < 0 or new.find(region, first + 1) >= 0:",
        "if first < 0:",
        RESULTS,
    ),
    Mutant(
        "an edit placed on a changed document without relocating it",
        "tierwise/server/results.py",
        "if doc.version == snap.version and doc.source == snap.text:",
        "if True:",
        RESULTS,
    ),
    Mutant(
        "a CRLF document gets LF line ends",
        "tierwise/server/results.py",
        "new_text = match_line_endings(result.edit.new_text, doc.source)",
        "new_text = result.edit.new_text",
        RESULTS,
    ),
    Mutant(
        "a docstring inserted at the def line of a multi-line signature",
        "tierwise/context/python.py",
        "doc_slot=self._doc_slot(node, header_end[0], indent_of(self.lines[def_line])),",
        "doc_slot=self._doc_slot(node, def_line, indent_of(self.lines[def_line])),",
        ("tests/unit/test_handler_docstring.py", "tests/unit/test_context_python.py", *RESULTS),
    ),
    Mutant(
        "a docstring edit sent without the document version it was computed for",
        "tierwise/server/results.py",
        'server, f"tierwise: {verb} {task.context.target.name}", [(snap.uri, doc.version, [edit])]',
        'server, f"tierwise: {verb} {task.context.target.name}", [(snap.uri, None, [edit])]',
        RESULTS,
    ),
)


def _copy(root: Path, dest: Path) -> None:
    ignore = shutil.ignore_patterns(
        ".git", ".venv*", "node_modules", "__pycache__", "*.egg-info", ".mypy_cache", ".ruff_cache"
    )
    shutil.copytree(root, dest, ignore=ignore, symlinks=True)


def _run_tests(tree: Path, tests: tuple[str, ...]) -> tuple[bool, float]:
    """(whether the tests failed, seconds taken)."""
    present = [t for t in tests if (tree / t).exists()] or list(FALLBACK_TESTS)
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *present],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    return done.returncode != 0, time.perf_counter() - started


def run(root: Path, mutants: list[Mutant]) -> list[tuple[Mutant, str, float]]:
    """Each mutant with "killed", "survived" or "n/a" and the seconds its tests took."""
    results: list[tuple[Mutant, str, float]] = []
    with tempfile.TemporaryDirectory(prefix="tierwise-mutants-") as tmp:
        tree = Path(tmp) / "tree"
        _copy(root, tree)
        for mutant in mutants:
            path, original, replacement = mutant.path, mutant.original, mutant.mutated
            target = tree / path
            text = target.read_text(encoding="utf-8") if target.exists() else ""
            if text.count(original) != 1 and mutant.before is not None:
                path, original, replacement = mutant.before
                target = tree / path
                text = target.read_text(encoding="utf-8") if target.exists() else ""
            pairs = [(original, replacement), *(mutant.also if path == mutant.path else ())]
            if any(text.count(snippet) != 1 for snippet, _ in pairs):
                results.append((mutant, "n/a", 0.0))
                print(f"n/a       {mutant.name}", flush=True)
                continue
            mutated = text
            for snippet, changed in pairs:
                mutated = mutated.replace(snippet, changed)
            compile(mutated, str(target), "exec")  # a mutant must be valid Python
            target.write_text(mutated, encoding="utf-8")
            try:
                killed, seconds = _run_tests(tree, mutant.tests)
            finally:
                target.write_text(text, encoding="utf-8")
            verdict = "killed" if killed else "survived"
            results.append((mutant, verdict, seconds))
            print(f"{verdict:9} {mutant.name} ({seconds:.0f}s)", flush=True)
    return results


def main() -> None:
    """Apply every mutant (or the named ones) and print the score."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree to measure")
    parser.add_argument("--only", nargs="*", default=None, help="mutant names (substrings)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if args.only is None or any(o in m.name for o in args.only)]
    if args.list:
        for mutant in chosen:
            print(f"{mutant.path}: {mutant.name}")
        return
    results = run(args.root.resolve(), chosen)
    print("\n| mutant | file | result |")
    print("|---|---|---|")
    for mutant, verdict, _ in results:
        print(f"| {mutant.name} | `{mutant.path}` | {verdict} |")
    scored = [r for r in results if r[1] != "n/a"]
    killed = sum(1 for r in scored if r[1] == "killed")
    na = len(results) - len(scored)
    print(f"\nscore: {killed}/{len(scored)} killed" + (f" ({na} not applicable)" if na else ""))


if __name__ == "__main__":
    main()
