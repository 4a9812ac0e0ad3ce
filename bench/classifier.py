"""Would a local model's risk grade route the corpus better? (issue 10, section 6)

    python -m bench.classifier                        # SmolLM2-135M from scripts/local-model.sh
    python -m bench.classifier --base-url http://127.0.0.1:8080/v1 --model qwen2.5-coder:7b

Routes every case of the labelled corpus (tests/routing/corpus.jsonl) through the real engine
with cloud tiers (nothing is sent to them: routing is pure), finds the cases the rules are
uncertain about (`uncertainty` below), asks the local model for a one-word risk grade of each
(a short fixed prompt, temperature 0, through tierwise's own OpenAI-compatible adapter, as a
shipped classifier would), and routes those cases again with the grade as input data: the
router stays a pure function, the grade only adds or removes risk evidence in the signals it
is given. Prints, per part of the corpus (tuned, held back), the high-stakes under-routed and
over-routed counts of the rules alone and of the rules with the grade, and how the grades
compare with the labels.

"Uncertain" (only review and design, the actions risk promotes: for explain risk promotes to
mid, its base tier, and docstring and rename are never promoted):
- no evidence: the rules found no risk in code that is not trivial and not test code, so a
  high-stakes miss would hide here; a HIGH grade promotes it as risk would;
- names only: every piece of evidence is a word of an identifier or of the enclosing class
  ("handles auth data (auth_header)", "a method of Authenticator (auth)"), with no call,
  import, SQL string or code shape behind it, so a look-alike over-route would hide here; a LOW
  grade drops the promotion.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections import Counter
from datetime import date
from pathlib import Path

import attrs

from bench.local_model import local_server
from tests.routing.corpus import Case, load_cases, locate
from tests.routing.evaluate import Routed, engines, score
from tierwise.config import ProviderConfig
from tierwise.context.extract import SourceFile
from tierwise.core.errors import Truncated
from tierwise.core.records import evolve
from tierwise.core.task import Action
from tierwise.providers.base import Delta, ProviderRequest
from tierwise.providers.openai import OpenAIProvider
from tierwise.routing.signals import TRIVIAL_LINES, RiskHit, Signals

SYSTEM = "You grade code for how risky it is to get a review of it wrong. Answer with one word."
PROMPT = (
    "HIGH means the code handles authentication, sessions, passwords, tokens, signatures, "
    "cryptography, payments or money, SQL or database schemas, deletes data, writes files or "
    "guards file paths, deserialises data, runs subprocesses or eval, checks permissions, uses "
    "locks or shared state, or sanitises input. LOW means anything else.\n\n"
    "```{language}\n{code}\n```\n\nAnswer HIGH or LOW."
)
_GRADE = re.compile(r"\b(HIGH|LOW)\b", re.IGNORECASE)
# Evidence the name rules write (routing/risk.py): words of identifiers and of the class.
_NAME_EVIDENCE = re.compile(
    r"^(?:handles auth data|does cryptography|handles payments|deserialises data|locks or shares"
    r" state|validates or sanitises input|guards or writes paths|compares in constant time|"
    r"guards paths|deletes data|builds SQL|handles money) \(|^a method of |^is named |"
    r"^loads objects with a |^\w+ of \w+$"
)
RISKY_ACTIONS = (Action.REVIEW, Action.DESIGN)


def _evidence(hit: RiskHit) -> str:
    """The evidence itself, without the helper it was found through."""
    text = hit.evidence
    return text.split(": ", 1)[1] if text.startswith("through ") and ": " in text else text


def uncertainty(action: Action, signals: Signals) -> str | None:
    """Why the rules are uncertain about a request ("no evidence", "names only"), or None."""
    if action not in RISKY_ACTIONS or signals.test_code:
        return None
    if not signals.risks:
        return None if signals.trivial else "no evidence"
    if all(_NAME_EVIDENCE.search(_evidence(hit)) for hit in signals.risks):
        return "names only"
    return None


def graded(signals: Signals, why: str, grade: str | None) -> Signals:
    """The signals the router is given once the grade is known (None: no usable grade)."""
    if grade == "high" and why == "no evidence":
        hit = RiskHit("classifier", "graded HIGH risk by the local model")
        return evolve(signals, risks=(hit,), trivial=False)
    if grade == "low" and why == "names only":
        trivial = signals.lines <= TRIVIAL_LINES and signals.cyclomatic == 1
        return evolve(signals, risks=(), trivial=trivial)
    return signals


@attrs.frozen
class Graded:
    """One uncertain case: why, the model's raw reply and the grade read from it."""

    case: Case
    why: str
    reply: str
    grade: str | None
    seconds: float


async def grade_all(
    provider: OpenAIProvider, model: str, items: list[tuple[Case, str, str]]
) -> list[Graded]:
    """Ask the model for each (case, why, code); a reply without HIGH or LOW is no grade."""
    out: list[Graded] = []
    for case, why, code in items:
        request = ProviderRequest(
            model=model,
            system=SYSTEM,
            context="",
            prompt=PROMPT.format(language=case.language, code=code),
            max_tokens=8,
            timeout=120.0,
            temperature=0.0,
        )
        started = time.perf_counter()
        pieces: list[str] = []
        try:
            async for item in provider.stream(request):
                if isinstance(item, Delta):
                    pieces.append(item.text)
        except Truncated:
            pass  # a grade is its first word: a reply that goes on past it still has one
        except Exception as exc:  # a refused reply is no grade, and is shown as such
            pieces = [f"<{type(exc).__name__}>"]
        text = "".join(pieces)
        match = _GRADE.search(text)
        grade = match.group(1).lower() if match else None
        out.append(Graded(case, why, text.strip(), grade, time.perf_counter() - started))
    return out


def _line(label: str, rows: list[Routed]) -> str:
    s = score(rows)
    return (
        f"| {label} | {s.high_under} / {s.high} | {s.under} | {s.over} / {s.capped}"
        f" ({s.over_share:.0%}) |"
    )


def main() -> None:
    """Grade the uncertain cases and print the routing with and without the grades."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="an OpenAI-compatible server (default: start SmolLM2)")
    parser.add_argument("--model", help="the model id at --base-url")
    args = parser.parse_args()
    cases = load_cases()
    parsed: dict[Path, SourceFile] = {}
    with engines() as built, local_server(args.base_url, args.model) as (url, model):
        engine = built["cloud"]
        rules: list[Routed] = []
        pending: list[tuple[Case, str, str]] = []
        tasks = {}
        for case in cases:
            at = locate(case, parsed)
            task = engine.build_task(case.action, str(at.path), at.source, at.line, at.col)
            signals = engine.signals(task.context)
            decision = engine.decide(task, signals=signals)
            rules.append(Routed(case, "cloud", decision.tier, decision.reasons))
            why = uncertainty(task.action, signals)
            if why is not None:
                pending.append((case, why, task.context.target.text))
                tasks[case.id] = (task, signals)
        provider = OpenAIProvider(
            "local", ProviderConfig(kind="openai", base_url=url, api_key_env=None, local=True)
        )

        async def run() -> list[Graded]:
            try:
                return await grade_all(provider, model, pending)
            finally:
                await provider.aclose()

        grades = asyncio.run(run())
        by_id = {g.case.id: g for g in grades}
        with_grade: list[Routed] = []
        for routed in rules:
            g = by_id.get(routed.case.id)
            if g is None:
                with_grade.append(routed)
                continue
            task, signals = tasks[routed.case.id]
            decision = engine.decide(task, signals=graded(signals, g.why, g.grade))
            with_grade.append(Routed(routed.case, "graded", decision.tier, decision.reasons))
    _report(model, rules, with_grade, grades)


def _report(
    model: str, rules: list[Routed], with_grade: list[Routed], grades: list[Graded]
) -> None:
    print(f"# classifier measurement ({date.today().isoformat()}, model {Path(model).name})\n")
    counts = Counter((g.why, g.case.stakes, g.grade or "no grade") for g in grades)
    print("uncertain cases by why, labelled stakes and grade:")
    for (why, stakes, grade), n in sorted(counts.items()):
        print(f"  {why:<12} {stakes:<10} {grade:<9} {n}")
    replies = Counter(g.reply for g in grades)
    print("most common replies:", ", ".join(f"{r!r} x{n}" for r, n in replies.most_common(5)))
    if grades:
        print(f"median seconds per grade: {statistics.median(g.seconds for g in grades):.2f}")
    print(
        "\n| part | configuration | high-stakes under-routed | under-routed (all) |"
        " over-routed (capped cases) |\n|---|---|---|---|---|"
    )
    for part in ("tune", "held"):
        name = "tuned" if part == "tune" else "held back"
        uncertain = sum(g.case.split == part for g in grades)
        r = [x for x in rules if x.case.split == part]
        w = [x for x in with_grade if x.case.split == part]
        print(_line(f"{name} ({uncertain} uncertain) | rules", r))
        print(_line(f"{name} | rules + grade", w))
    changed = sum(a.tier != b.tier for a, b in zip(rules, with_grade, strict=True))
    print(f"\ncases whose tier the grade changed: {changed}")


if __name__ == "__main__":
    main()
