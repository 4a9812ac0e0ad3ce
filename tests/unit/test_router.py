"""The router as a table of cases: expected tier and the reasons that explain it."""

from __future__ import annotations

import pytest

from tierwise.config import Config
from tierwise.core.code import CodeContext, Span, Target
from tierwise.core.records import evolve
from tierwise.core.task import Action, Task
from tierwise.core.tiers import Tier
from tierwise.routing.policy import Policy
from tierwise.routing.router import Availability, ModelOption, RouteState, TokenEstimate, route
from tierwise.routing.signals import RiskHit, Signals

TOKENS = TokenEstimate(input_tokens=2000, output_tokens=500)
OPTIONS = {
    Tier.LOCAL: ModelOption("local:qwen", 0.0, 0.0),
    Tier.BUDGET: ModelOption("anthropic:claude-haiku-4-5", 1.0, 5.0),
    Tier.MID: ModelOption("anthropic:claude-sonnet-4-6", 3.0, 15.0),
    Tier.FRONTIER: ModelOption("anthropic:claude-opus-5", 5.0, 25.0),
}
ALL = Availability(chains={t: (o,) for t, o in OPTIONS.items()}, reference=OPTIONS)
CLOUD_ONLY = Availability(
    chains={t: (o,) for t, o in OPTIONS.items() if t is not Tier.LOCAL}, reference=OPTIONS
)
NOTHING = Availability(chains={}, reference=OPTIONS)


def task(action: Action, tier: Tier | None = None) -> Task:
    target = Target(
        "a.py", "python", "function", "f", Span(0, 0, 10, 0), "def f(): ...", "def f():"
    )
    return Task(action, CodeContext(target), tier=tier)


def signals(**kw: object) -> Signals:
    base: dict[str, object] = {
        "lines": 20,
        "cyclomatic": 3,
        "nesting": 1,
        "cross_file_calls": 0,
        "risks": (),
        "trivial": False,
        "directive": None,
        "target_key": "k",
    }
    base.update(kw)
    return Signals(**base)  # type: ignore[arg-type]


JWT = (RiskHit("auth", "calls jwt.decode"), RiskHit("sql", "builds SQL"))
POLICY = Policy.from_config(Config())


# The rules without a local tier (CLOUD_ONLY): with one, low-stakes requests go local (below).
@pytest.mark.parametrize(
    ("action", "sig", "state", "expected", "reason_part"),
    [
        (Action.DOCSTRING, signals(), RouteState(), Tier.BUDGET, "docstring starts at budget"),
        (Action.RENAME, signals(), RouteState(), Tier.BUDGET, "rename starts at budget"),
        (Action.EXPLAIN, signals(), RouteState(), Tier.MID, "explain starts at mid"),
        (Action.REVIEW, signals(), RouteState(), Tier.MID, "review starts at mid"),
        (Action.DESIGN, signals(), RouteState(), Tier.MID, "design starts at mid"),
        # Risk is action-aware: a review of JWT + SQL code is high stakes, its docstring is not.
        (
            Action.REVIEW,
            signals(risks=JWT),
            RouteState(),
            Tier.FRONTIER,
            "calls jwt.decode; builds SQL",
        ),
        (Action.DESIGN, signals(risks=JWT), RouteState(), Tier.FRONTIER, "calls jwt.decode"),
        (Action.DOCSTRING, signals(risks=JWT), RouteState(), Tier.BUDGET, "no promotion"),
        (Action.RENAME, signals(risks=JWT), RouteState(), Tier.BUDGET, "low stakes for rename"),
        # Test code carries its risks as reasons, without promotion.
        (Action.REVIEW, signals(risks=JWT, test_code=True), RouteState(), Tier.MID, "test code"),
        # Size and complexity promote one step; low-stakes actions only when huge.
        (Action.REVIEW, signals(lines=120), RouteState(), Tier.FRONTIER, "a 120-line body"),
        (
            Action.EXPLAIN,
            signals(cyclomatic=12, lines=45),
            RouteState(),
            Tier.FRONTIER,
            "complexity 12",
        ),
        # Complexity alone promotes only at twice its threshold: a short function is a short read.
        (Action.EXPLAIN, signals(cyclomatic=12), RouteState(), Tier.MID, "explain starts at mid"),
        (Action.EXPLAIN, signals(cyclomatic=20), RouteState(), Tier.FRONTIER, "complexity 20"),
        (
            Action.DOCSTRING,
            signals(lines=120),
            RouteState(),
            Tier.BUDGET,
            "docstring starts at budget",
        ),
        (Action.DOCSTRING, signals(lines=300), RouteState(), Tier.MID, "a 300-line body"),
        (Action.REVIEW, signals(nesting=5, lines=45), RouteState(), Tier.FRONTIER, "nesting 5"),
        # Trivial code demotes, unless it is risky.
        (
            Action.REVIEW,
            signals(lines=3, cyclomatic=1, trivial=True),
            RouteState(),
            Tier.BUDGET,
            "trivial",
        ),
        (Action.REVIEW, signals(trivial=True, risks=JWT), RouteState(), Tier.FRONTIER, "jwt"),
        # Escalation on repeat: one tier per earlier ask, capped at frontier.
        (Action.DOCSTRING, signals(), RouteState(repeats=1), Tier.MID, "escalated budget → mid"),
        (
            Action.DOCSTRING,
            signals(),
            RouteState(repeats=5),
            Tier.FRONTIER,
            "escalated budget → frontier",
        ),
        # Overrides: directive beats sticky; both beat the rules.
        (
            Action.REVIEW,
            signals(risks=JWT),
            RouteState(sticky=Tier.BUDGET),
            Tier.BUDGET,
            "session tier",
        ),
        (
            Action.REVIEW,
            signals(directive="budget"),
            RouteState(sticky=Tier.MID),
            Tier.BUDGET,
            "directive",
        ),
        (
            Action.REVIEW,
            signals(directive="ultra"),
            RouteState(),
            Tier.MID,
            "ignored inline directive",
        ),
        # plan and route without tiers route as if all were there, and say it was assumed.
        (
            Action.DOCSTRING,
            signals(),
            RouteState(assume_available=True),
            Tier.LOCAL,
            "and a local tier assumed (none is configured) → local",
        ),
    ],
)
def test_route_table(
    action: Action, sig: Signals, state: RouteState, expected: Tier, reason_part: str
) -> None:
    decision = route(task(action), sig, POLICY, CLOUD_ONLY, state, TOKENS)
    assert decision.tier is expected, decision.reasons
    assert any(reason_part.lower() in r.lower() for r in decision.reasons), decision.reasons
    assert decision.refused is None


# With a local tier configured (ALL): low-stakes requests of every action but design go local.
@pytest.mark.parametrize(
    ("action", "sig", "state", "expected", "reason_part"),
    [
        (Action.DOCSTRING, signals(), RouteState(), Tier.LOCAL, "a local tier is configured"),
        (Action.RENAME, signals(), RouteState(), Tier.LOCAL, "a local tier is configured"),
        (Action.EXPLAIN, signals(), RouteState(), Tier.LOCAL, "a local tier is configured"),
        (Action.REVIEW, signals(), RouteState(), Tier.LOCAL, "a local tier is configured"),
        (Action.DESIGN, signals(), RouteState(), Tier.MID, "design starts at mid"),
        (Action.REVIEW, signals(risks=JWT), RouteState(), Tier.FRONTIER, "calls jwt.decode"),
        # Risky docstrings are low stakes, but not low-risk: they stay on budget.
        (Action.DOCSTRING, signals(risks=JWT), RouteState(), Tier.BUDGET, "no promotion"),
        (Action.REVIEW, signals(lines=45), RouteState(), Tier.MID, "review starts at mid"),
        (Action.REVIEW, signals(cyclomatic=10), RouteState(), Tier.MID, "review starts at mid"),
        (
            Action.DOCSTRING,
            signals(lines=3, cyclomatic=1, trivial=True),
            RouteState(),
            Tier.LOCAL,
            "trivial",
        ),
        # A repeat moves up from local, as from any tier.
        (Action.REVIEW, signals(), RouteState(repeats=1), Tier.BUDGET, "escalated local → budget"),
        (Action.REVIEW, signals(directive="local"), RouteState(), Tier.LOCAL, "inline directive"),
        # Privacy: a local_only path never goes to the cloud, whatever the rules say.
        (Action.REVIEW, signals(risks=JWT), RouteState(local_only=True), Tier.LOCAL, "local_only"),
        (
            Action.EXPLAIN,
            signals(),
            RouteState(sticky=Tier.STATIC),
            Tier.LOCAL,
            "no static implementation",
        ),
    ],
)
def test_route_table_with_a_local_tier(
    action: Action, sig: Signals, state: RouteState, expected: Tier, reason_part: str
) -> None:
    decision = route(task(action), sig, POLICY, ALL, state, TOKENS)
    assert decision.tier is expected, decision.reasons
    assert any(reason_part.lower() in r.lower() for r in decision.reasons), decision.reasons
    assert decision.refused is None


def test_local_first_is_configurable() -> None:
    policy = evolve(POLICY, local_first=frozenset({Action.DOCSTRING}))
    review = route(task(Action.REVIEW), signals(), policy, ALL, RouteState(), TOKENS)
    docstring = route(task(Action.DOCSTRING), signals(), policy, ALL, RouteState(), TOKENS)
    assert (review.tier, docstring.tier) == (Tier.MID, Tier.LOCAL)


def test_request_override_beats_directive_and_sticky() -> None:
    d = route(
        task(Action.REVIEW, Tier.BUDGET),
        signals(directive="frontier", risks=JWT),
        POLICY,
        ALL,
        RouteState(sticky=Tier.MID),
        TOKENS,
    )
    assert d.tier is Tier.BUDGET
    assert d.reasons == ("requested tier budget",)


def test_summary_reads_like_the_design() -> None:
    d = route(task(Action.REVIEW), signals(risks=JWT), POLICY, ALL, RouteState(), TOKENS)
    assert d.summary.startswith("review → frontier: ")
    assert "calls jwt.decode; builds SQL" in d.summary
    assert d.models == ("anthropic:claude-opus-5",)


def test_estimates_cover_every_tier_and_follow_prices() -> None:
    d = route(task(Action.REVIEW), signals(), POLICY, CLOUD_ONLY, RouteState(), TOKENS)
    assert set(d.estimates) == {t.label for t in Tier}
    assert d.estimates["static"] == 0.0 and d.estimates["local"] == 0.0
    assert d.estimates["mid"] == pytest.approx((2000 * 3.0 + 500 * 15.0) / 1e6)
    assert d.estimates["budget"] < d.estimates["mid"] < d.estimates["frontier"]
    assert d.estimate_usd == d.estimates["mid"]


def test_unavailable_tier_falls_back_upward_with_a_warning() -> None:
    d = route(
        task(Action.DOCSTRING),
        signals(lines=3, cyclomatic=1, trivial=True),
        POLICY,
        CLOUD_ONLY,
        RouteState(),
        TOKENS,
    )
    assert d.tier is Tier.BUDGET
    assert "local is not configured: using budget" in d.warnings[0]


def test_downward_fallback_of_high_stakes_request_is_loud() -> None:
    only_budget = Availability(chains={Tier.BUDGET: (OPTIONS[Tier.BUDGET],)}, reference=OPTIONS)
    d = route(task(Action.REVIEW), signals(risks=JWT), POLICY, only_budget, RouteState(), TOKENS)
    assert d.tier is Tier.BUDGET
    assert "downgraded to budget" in d.warnings[0] and "high-stakes" in d.warnings[0]


def test_no_provider_at_all_uses_static_for_review_and_refuses_explain() -> None:
    review = route(task(Action.REVIEW), signals(), POLICY, NOTHING, RouteState(), TOKENS)
    assert review.tier is Tier.STATIC and review.models == ()
    explain = route(task(Action.EXPLAIN), signals(), POLICY, NOTHING, RouteState(), TOKENS)
    assert explain.refused is not None and "ANTHROPIC_API_KEY" in explain.refused
    assert explain.available == ()  # nothing to pick instead: the CLI offers no --tier hint


def test_the_static_tier_asked_for_an_action_it_lacks_is_named_in_the_refusal() -> None:
    # It said "local tier needs a provider", about a tier the user had not asked for.
    asked = route(
        task(Action.EXPLAIN, Tier.STATIC), signals(), POLICY, NOTHING, RouteState(), TOKENS
    )
    assert asked.refused == (
        "the static tier has no explain (it does docstring and review): explain needs a model "
        "tier: set ANTHROPIC_API_KEY or OPENAI_API_KEY, or configure providers.local.base_url "
        "for a local server"
    )


def test_local_only_never_falls_back_to_the_cloud() -> None:
    d = route(
        task(Action.EXPLAIN), signals(), POLICY, CLOUD_ONLY, RouteState(local_only=True), TOKENS
    )
    assert d.refused is not None and "local_only" in d.refused
    assert d.available == ()


def test_assume_available_prices_unconfigured_tiers_for_plan() -> None:
    d = route(
        task(Action.REVIEW),
        signals(risks=JWT),
        POLICY,
        NOTHING,
        RouteState(assume_available=True),
        TOKENS,
    )
    assert d.tier is Tier.FRONTIER and d.refused is None
    assert d.models == ("anthropic:claude-opus-5",)
    assert d.estimate_usd > 0
    # Routing as if every tier were there never claims they are: one truth for text and JSON.
    assert d.available == ("static",)
    assert [t.tier for t in d.tiers if t.available] == ["static"]
    assert all(t.why_not for t in d.tiers if t.tier != "static")


def test_a_decision_remembers_the_tier_the_rules_wanted() -> None:
    d = route(task(Action.REVIEW), signals(), POLICY, NOTHING, RouteState(), TOKENS)
    assert d.tier is Tier.STATIC and d.wanted is Tier.MID  # a downgrade, for the ledger


@pytest.mark.parametrize(
    ("mode", "on_hard", "spent", "tier", "refused", "warned"),
    [
        ("soft", "demote", 0.999, Tier.FRONTIER, False, "over the daily budget"),
        ("hard", "demote", 0.999, Tier.LOCAL, False, "demoted frontier → local"),
        ("hard", "refuse", 0.999, Tier.FRONTIER, True, None),
        ("hard", "refuse", 0.0, Tier.FRONTIER, False, None),
    ],
)
def test_budget_guard(
    mode: str, on_hard: str, spent: float, tier: Tier, refused: bool, warned: str | None
) -> None:
    policy = evolve(POLICY, daily_usd=1.0, budget_mode=mode, on_hard=on_hard)
    state = RouteState(spent_today=spent)
    d = route(task(Action.DESIGN), signals(risks=JWT), policy, ALL, state, TOKENS)
    assert d.tier is tier
    assert (d.refused is not None) is refused
    if warned:
        assert any(warned in w for w in d.warnings), d.warnings
    if refused:
        assert "hard daily budget $1.00" in (d.refused or "")


def test_clamp_to_max_tier_is_explained() -> None:
    policy = evolve(POLICY, max_tier=Tier.MID)
    d = route(task(Action.DESIGN), signals(risks=JWT), policy, ALL, RouteState(), TOKENS)
    assert d.tier is Tier.MID
    assert any("clamped to mid" in r for r in d.reasons)


def test_a_min_tier_clamp_is_the_tier_a_repeat_escalates_from_and_tune_judges() -> None:
    # Docstring starts at budget; min_tier = mid answers it at mid. A re-ask must go above the
    # tier that answered (it escalated "budget → mid", to the same tier, when clamped last), and
    # the request belongs to the mid cell: tune judges it there and an override of it applies.
    policy = evolve(POLICY, min_tier=Tier.MID)
    first = route(task(Action.DOCSTRING), signals(), policy, CLOUD_ONLY, RouteState(), TOKENS)
    assert (first.tier, first.cell_tier) == (Tier.MID, Tier.MID)
    again = route(
        task(Action.DOCSTRING), signals(), policy, CLOUD_ONLY, RouteState(repeats=1), TOKENS
    )
    assert (again.tier, again.cell_tier) == (Tier.FRONTIER, Tier.MID)
    assert any("escalated mid → frontier" in r for r in again.reasons), again.reasons
    overridden = evolve(policy, overrides={(Action.DOCSTRING, "none", Tier.MID): Tier.FRONTIER})
    d = route(task(Action.DOCSTRING), signals(), overridden, CLOUD_ONLY, RouteState(), TOKENS)
    assert (d.tier, d.cell_tier) == (Tier.FRONTIER, Tier.FRONTIER)
    assert any("routing.overrides: docstring on none code at mid" in r for r in d.reasons)


def test_max_tier_caps_an_override_and_a_repeat_and_the_cell_is_the_capped_tier() -> None:
    policy = evolve(
        POLICY,
        max_tier=Tier.MID,
        overrides={(Action.REVIEW, "none", Tier.MID): Tier.FRONTIER},
    )
    d = route(task(Action.REVIEW), signals(), policy, CLOUD_ONLY, RouteState(repeats=2), TOKENS)
    assert (d.tier, d.cell_tier) == (Tier.MID, Tier.MID)
    assert d.reasons.count("clamped to mid by routing.min_tier/max_tier") == 1, d.reasons
    assert d.reasons[-1] == "asked again within the window: mid is routing.max_tier"


def test_a_downgrade_calls_a_request_high_stakes_only_for_risk_the_rules_act_on() -> None:
    risky = route(task(Action.REVIEW), signals(risks=JWT), POLICY, NOTHING, RouteState(), TOKENS)
    assert risky.tier is Tier.STATIC
    assert risky.warnings == (
        "frontier is not configured: downgraded to static (high-stakes auth code: expect a"
        " weaker answer)",
    )
    # A docstring moved to mid for its size, its risk "low stakes for docstring": not high
    # stakes, but still a weaker answer than the rules chose.
    big = route(
        task(Action.DOCSTRING), signals(lines=300, risks=JWT), POLICY, NOTHING, RouteState(), TOKENS
    )
    assert big.tier is Tier.STATIC and any("no promotion" in r for r in big.reasons)
    assert big.warnings == (
        "mid is not configured: downgraded to static (ruled mid: expect a weaker answer)",
    )
    plain = route(task(Action.DOCSTRING), signals(), POLICY, NOTHING, RouteState(), TOKENS)
    assert plain.warnings == ("budget is not configured: downgraded to static",)


def test_a_requested_tier_that_is_not_configured_is_refused_not_swapped() -> None:
    frontier = route(
        task(Action.REVIEW, Tier.FRONTIER), signals(), POLICY, NOTHING, RouteState(), TOKENS
    )
    assert frontier.refused == (
        "frontier tier needs ANTHROPIC_API_KEY or OPENAI_API_KEY (or another provider in its "
        "models); set one, or pick the static tier"
    )
    local = route(
        task(Action.EXPLAIN, Tier.LOCAL), signals(), POLICY, CLOUD_ONLY, RouteState(), TOKENS
    )
    assert local.refused is not None
    assert local.refused.startswith("local tier needs a local server")
    assert local.refused.endswith("pick the frontier tier")
    # Routed (not requested) tiers still fall back, with a warning.
    routed = route(task(Action.EXPLAIN), signals(), POLICY, CLOUD_ONLY, RouteState(), TOKENS)
    assert routed.refused is None and routed.tier in (Tier.MID, Tier.FRONTIER)


def test_every_tier_is_listed_with_its_model_and_why_it_is_unusable() -> None:
    keyless = Availability(
        chains={Tier.LOCAL: (OPTIONS[Tier.LOCAL],)},
        reference=OPTIONS,
        missing={t: "needs ANTHROPIC_API_KEY" for t in (Tier.BUDGET, Tier.MID, Tier.FRONTIER)},
    )
    d = route(task(Action.EXPLAIN), signals(), POLICY, keyless, RouteState(), TOKENS)
    rows = {o.tier: o for o in d.tiers}
    assert [o.tier for o in d.tiers] == [t.label for t in Tier]
    assert rows["local"].available and rows["local"].model == "local:qwen"
    assert rows["static"].why_not == "explain has no static (model-free) implementation"
    assert rows["frontier"] == evolve(
        rows["frontier"], model="anthropic:claude-opus-5", why_not="needs ANTHROPIC_API_KEY"
    )
    assert not rows["frontier"].available
    assert rows["mid"].estimate_usd == d.estimates["mid"]
    local_only = route(
        task(Action.EXPLAIN), signals(), POLICY, ALL, RouteState(local_only=True), TOKENS
    )
    assert {o.tier: o.why_not for o in local_only.tiers}["mid"] == (
        "this path is local_only: only the local tier may see it"
    )


def long_target(tokens: int) -> TokenEstimate:
    return TokenEstimate(input_tokens=tokens + 500, output_tokens=300, target_tokens=tokens)


def test_a_target_over_the_tier_budget_escalates_to_one_that_holds_it_whole() -> None:
    # Docstring starts at budget (1500 tokens); 3000 fits mid (4000), never a cut target.
    decision = route(
        task(Action.DOCSTRING), signals(), POLICY, ALL, RouteState(), long_target(3000)
    )
    assert decision.tier is Tier.MID and decision.refused is None
    assert "over the budget tier's context budget of 1500" in decision.reasons[-1]
    assert decision.reasons[-1].endswith("→ mid")
    assert decision.estimate_usd == decision.estimates["mid"]


def test_a_target_too_long_for_every_tier_is_refused_with_what_to_do() -> None:
    decision = route(task(Action.REVIEW), signals(), POLICY, ALL, RouteState(), long_target(9000))
    assert decision.refused is not None
    assert "no available tier up to frontier has room" in decision.refused
    assert "select a part of it" in decision.refused


def test_a_requested_tier_too_small_for_the_target_is_refused_not_cut() -> None:
    decision = route(
        task(Action.EXPLAIN, Tier.BUDGET), signals(), POLICY, ALL, RouteState(), long_target(3000)
    )
    assert decision.tier is Tier.BUDGET and decision.refused is not None
    assert "pick the mid tier" in decision.refused


def test_refusals_say_which_tier_to_pick_and_name_no_cli_flag() -> None:
    # Editors show these messages too, where `--tier` means nothing; the CLI adds its own hint.
    refusals = {
        "requested, not configured": route(
            task(Action.REVIEW, Tier.FRONTIER), signals(), POLICY, NOTHING, RouteState(), TOKENS
        ),
        "requested, too small": route(
            task(Action.EXPLAIN, Tier.BUDGET),
            signals(),
            POLICY,
            ALL,
            RouteState(),
            long_target(3000),
        ),
        "nothing configured": route(
            task(Action.EXPLAIN), signals(), POLICY, NOTHING, RouteState(), TOKENS
        ),
    }
    for case, decision in refusals.items():
        assert decision.refused is not None, case
        assert "--tier" not in decision.refused and "run with" not in decision.refused, case
    assert "pick the static tier" in str(refusals["requested, not configured"].refused)
    assert "pick the mid tier" in str(refusals["requested, too small"].refused)


def test_local_only_with_a_long_target_is_refused() -> None:
    state = RouteState(local_only=True)
    decision = route(task(Action.DOCSTRING), signals(), POLICY, ALL, state, long_target(3000))
    assert decision.refused is not None and "local tier's context budget" in decision.refused


def test_the_budget_guard_never_demotes_to_a_tier_too_small_for_the_target() -> None:
    policy = evolve(POLICY, daily_usd=0.01, budget_mode="hard", on_hard="demote")
    state = RouteState(spent_today=0.0)
    tokens = long_target(3000)
    decision = route(task(Action.DESIGN), signals(), policy, ALL, state, tokens)
    assert decision.tier not in (Tier.LOCAL, Tier.BUDGET) and decision.refused is not None


@pytest.mark.parametrize(
    ("lines", "said"),
    [
        (0, "trivial code (no code in its body) → budget"),
        (1, "trivial code (a 1-line body) → budget"),
        (3, "trivial code (a 3-line body) → budget"),
        (8, "trivial code (an 8-line body) → budget"),
        (11, "trivial code (an 11-line body) → budget"),
    ],
)
def test_a_reason_names_the_body_it_weighed(lines: int, said: str) -> None:
    # The rules weigh the body's lines of code: a docstring-only function has none, and
    # "trivial code (0 lines)" said of a 2-line definition was untrue.
    sig = signals(lines=lines, cyclomatic=1, trivial=True)
    decision = route(task(Action.REVIEW), sig, POLICY, CLOUD_ONLY, RouteState(), TOKENS)
    assert said in decision.reasons
