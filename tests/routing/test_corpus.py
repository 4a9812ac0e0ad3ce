"""The routing corpus test: real functions from pinned packages, routed by the real engine.

It fails on any under-routed high-stakes case of the tuned part, when more than 15% of the cases
with a `max` below frontier are over-routed (either part), and when the held-back part does worse
than it did when it was first measured, after the signals were tuned on the other part
(HELD_FIRST_MEASURED; docs/routing.md reports both parts). The held-back part was labelled and
split before any tuning and is not tuned on afterwards, so its misses stay visible here.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.routing.corpus import Case, load_cases, split_for
from tests.routing.evaluate import Routed, engines, route_cases, score
from tierwise.core.tiers import Tier

OVER_ROUTED_LIMIT = 0.15
# The held-back part as first measured after tuning (2026-12-01, both configurations):
# 2 of 29 high-stakes cases under-routed, 5 of 41 capped cases over-routed.
HELD_FIRST_MEASURED = {"high_under": 2, "over": 5}

CASES = load_cases()


@pytest.fixture(scope="module")
def routed() -> Iterator[dict[str, list[Routed]]]:
    """Every case routed in both configurations (cloud only, and with a local tier)."""
    with engines() as built:
        yield {name: route_cases(CASES, engine, name) for name, engine in built.items()}


def test_the_corpus_is_what_the_issue_asks_for() -> None:
    assert len(CASES) >= 200
    assert {c.action for c in CASES} == {"docstring", "rename", "explain", "review", "design"}
    high = [c for c in CASES if c.stakes == "high" and c.action in ("review", "design")]
    assert len(high) >= 60
    assert all(c.min == "frontier" for c in CASES if c.stakes == "high")
    assert sum(c.stakes == "lookalike" for c in CASES) >= 60
    assert len({c.project for c in CASES}) >= 6
    assert sum(c.language != "python" for c in CASES) >= 30
    assert {"javascript", "typescript", "go"} <= {c.language for c in CASES}
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.why.strip() for c in CASES)


def test_the_held_back_quarter_is_the_one_fixed_before_tuning() -> None:
    assert all(case.split == split_for(case.id) for case in CASES)
    held = sum(case.split == "held" for case in CASES)
    assert 0.2 <= held / len(CASES) <= 0.3


def _part(rows: list[Routed], split: str) -> list[Routed]:
    return [r for r in rows if r.case.split == split]


@pytest.mark.parametrize("config", ["cloud", "local"])
def test_no_high_stakes_case_of_the_tuned_part_is_under_routed(
    routed: dict[str, list[Routed]], config: str
) -> None:
    missed = [
        f"{r.case.id} -> {r.tier.label}: {'; '.join(r.reasons)}"
        for r in _part(routed[config], "tune")
        if r.case.stakes == "high" and r.under
    ]
    assert not missed, "\n".join(missed)


@pytest.mark.parametrize("config", ["cloud", "local"])
@pytest.mark.parametrize("split", ["tune", "held"])
def test_at_most_15_percent_of_capped_cases_are_over_routed(
    routed: dict[str, list[Routed]], config: str, split: str
) -> None:
    s = score(_part(routed[config], split))
    over = [f"{r.case.id} -> {r.tier.label}" for r in _part(routed[config], split) if r.over]
    assert s.over_share <= OVER_ROUTED_LIMIT, "\n".join(over)


@pytest.mark.parametrize("config", ["cloud", "local"])
def test_the_held_back_part_is_no_worse_than_first_measured(
    routed: dict[str, list[Routed]], config: str
) -> None:
    s = score(_part(routed[config], "held"))
    assert s.high_under <= HELD_FIRST_MEASURED["high_under"]
    assert s.over <= HELD_FIRST_MEASURED["over"]


def test_every_promotion_carries_its_evidence(routed: dict[str, list[Routed]]) -> None:
    """A case routed above its action's base tier says why, with the evidence found."""
    bases = {"docstring": Tier.BUDGET, "rename": Tier.BUDGET, "explain": Tier.MID}
    bases |= {"review": Tier.MID, "design": Tier.MID}
    for r in routed["cloud"]:
        if r.tier <= bases[r.case.action]:
            continue
        because = [x for x in r.reasons if "starts at" not in x]
        assert because, r.case.id
        assert all(len(x) > 10 for x in because), (r.case.id, r.reasons)


def test_names_alone_are_evidence(routed: dict[str, list[Routed]]) -> None:
    """The issue's misses: a signature check known only by its names, a path guard, and DDL
    from a class-level SQL template in a short method."""
    by_id = {r.case.id: r for r in routed["cloud"]}

    def reasons(case_id: str) -> str:
        return "; ".join(by_id[case_id].reasons)

    verify = "itsdangerous:src/itsdangerous/signer.py:Signer.verify_signature:review"
    assert by_id[verify].tier is Tier.FRONTIER and "verify_signature" in reasons(verify)
    guard = "werkzeug:src/werkzeug/security.py:safe_join:review"
    assert by_id[guard].tier is Tier.FRONTIER and "safe_join" in reasons(guard)
    ddl = "django:django/db/backends/base/schema.py:BaseDatabaseSchemaEditor.delete_model:review"
    assert by_id[ddl].tier is Tier.FRONTIER and "sql_delete_table" in reasons(ddl)
    two_lines = (
        "django:django/db/backends/base/schema.py:"
        "BaseDatabaseSchemaEditor._delete_primary_key_sql:review"
    )
    assert by_id[two_lines].tier is Tier.FRONTIER
    assert not any("trivial" in x for x in by_id[two_lines].reasons)


def _case(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)
