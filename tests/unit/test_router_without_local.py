"""`RouteState.assume_local`: plan assumes every tier, local too; with it off, a request the
rules put on local routes as it would for a user with cloud keys and no local model, a
local_only path never leaves local (static, or refused), and a configured local changes
nothing."""

from __future__ import annotations

import pytest

from tests.unit.test_router import ALL, CLOUD_ONLY, JWT, NOTHING, POLICY, TOKENS, signals, task
from tierwise.core.records import evolve
from tierwise.core.task import Action
from tierwise.core.tiers import Tier
from tierwise.routing.router import Availability, RouteState, route
from tierwise.routing.signals import Signals

ASSUMED = RouteState(assume_available=True)
NO_LOCAL = RouteState(assume_available=True, assume_local=False)
LOCAL_ONLY_NO_LOCAL = RouteState(local_only=True, assume_available=True, assume_local=False)

# Requests the rules put on local when a local tier is assumed, for each reason they can.
ON_LOCAL = [
    (Action.DOCSTRING, signals()),  # low-stakes code, local-first
    (Action.REVIEW, signals()),
    (Action.EXPLAIN, signals()),
    (Action.RENAME, signals()),
    (Action.DOCSTRING, signals(lines=3, cyclomatic=1, trivial=True)),  # trivial → local
    (Action.REVIEW, signals(directive="local")),  # an inline directive
]


@pytest.mark.parametrize(("action", "sig"), ON_LOCAL)
@pytest.mark.parametrize("availability", [NOTHING, CLOUD_ONLY], ids=["nothing", "cloud"])
def test_a_request_on_an_assumed_local_goes_where_a_cloud_only_run_sends_it(
    action: Action, sig: Signals, availability: Availability
) -> None:
    assumed = route(task(action), sig, POLICY, availability, ASSUMED, TOKENS)
    assert assumed.tier is Tier.LOCAL and assumed.estimate_usd == 0
    bare = route(task(action), sig, POLICY, availability, NO_LOCAL, TOKENS)
    # The reference: a real run with cloud keys and no local server, nothing assumed.
    real = route(task(action), sig, POLICY, CLOUD_ONLY, RouteState(), TOKENS)
    assert bare.tier is real.tier and bare.tier > Tier.LOCAL, bare.reasons
    assert bare.estimate_usd == pytest.approx(real.estimate_usd) and bare.estimate_usd > 0
    assert bare.reasons == real.reasons and bare.refused is None
    assert not any("local tier assumed" in r for r in bare.reasons)
    # Priced at the catalogue's model of that tier, as the rest of the plan is.
    assert bare.models == (CLOUD_ONLY.chains[bare.tier][0].ref,)


def test_without_local_the_rules_own_tier_is_kept() -> None:
    # Review starts at mid and only the local-first step moved it: without local it is mid,
    # not the nearest tier above local.
    review = route(task(Action.REVIEW), signals(), POLICY, NOTHING, NO_LOCAL, TOKENS)
    docstring = route(task(Action.DOCSTRING), signals(), POLICY, NOTHING, NO_LOCAL, TOKENS)
    assert (review.tier, docstring.tier) == (Tier.MID, Tier.BUDGET)


def test_requests_off_local_are_the_same_with_or_without_an_assumed_local() -> None:
    for action, sig in [
        (Action.REVIEW, signals(risks=JWT)),
        (Action.DOCSTRING, signals(risks=JWT)),
        (Action.EXPLAIN, signals(lines=120, cyclomatic=14)),
        (Action.DESIGN, signals()),
    ]:
        assumed = route(task(action), sig, POLICY, NOTHING, ASSUMED, TOKENS)
        bare = route(task(action), sig, POLICY, NOTHING, NO_LOCAL, TOKENS)
        assert assumed.tier is not Tier.LOCAL
        assert bare == assumed


@pytest.mark.parametrize("availability", [NOTHING, CLOUD_ONLY], ids=["nothing", "cloud"])
def test_a_local_only_path_without_local_is_static_or_refused_never_cloud(
    availability: Availability,
) -> None:
    for action in Action:
        for sig in (signals(), signals(risks=JWT)):
            bare = route(task(action), sig, POLICY, availability, LOCAL_ONLY_NO_LOCAL, TOKENS)
            assert bare.tier <= Tier.LOCAL and bare.estimate_usd == 0, (action, bare)
            # What a real run does there with cloud keys and no local server.
            real = route(task(action), sig, POLICY, CLOUD_ONLY, RouteState(local_only=True), TOKENS)
            assert (bare.tier, bare.refused) == (real.tier, real.refused)
            if action in (Action.DOCSTRING, Action.REVIEW):
                assert bare.tier is Tier.STATIC and bare.refused is None
            else:
                assert bare.refused is not None and "local_only" in bare.refused


@pytest.mark.parametrize(
    "state",
    [RouteState(), ASSUMED, RouteState(local_only=True), RouteState(repeats=1)],
    ids=["plain", "assumed", "local_only", "repeat"],
)
def test_a_configured_local_changes_nothing(state: RouteState) -> None:
    for action, sig in [*ON_LOCAL, (Action.REVIEW, signals(risks=JWT))]:
        with_local = route(task(action), sig, POLICY, ALL, state, TOKENS)
        bare = route(task(action), sig, POLICY, ALL, evolve(state, assume_local=False), TOKENS)
        assert bare == with_local
