"""The routing policy: configuration turned into typed, validated rules."""

from __future__ import annotations

from tierwise.config import Config, SignalConfig
from tierwise.core.records import FrozenRecord, setfield
from tierwise.core.task import Action
from tierwise.core.tiers import Tier

# Actions with a deterministic, model-free implementation.
STATIC_ACTIONS = frozenset({Action.DOCSTRING, Action.REVIEW})


class Policy(FrozenRecord):
    """Routing rules: base tiers, action-aware risk promotion, thresholds, clamps and budgets."""

    __slots__ = (
        "base",
        "risk_promotes_to",
        "demote_trivial",
        "escalate_window_s",
        "min_tier",
        "max_tier",
        "high_stakes_floor",
        "signals",
        "daily_usd",
        "monthly_usd",
        "budget_mode",
        "on_hard",
        "team_daily_usd",
        "team_mode",
        "context_tokens",
        "local_first",
        "overrides",
    )
    base: dict[Action, Tier]
    risk_promotes_to: dict[Action, Tier]
    demote_trivial: bool
    escalate_window_s: float
    min_tier: Tier
    max_tier: Tier
    high_stakes_floor: Tier
    signals: SignalConfig
    daily_usd: float
    monthly_usd: float
    budget_mode: str
    on_hard: str
    team_daily_usd: float  # the team's cap over everyone's spend (budget.team)
    team_mode: str
    # Per model tier: the most tokens of target plus context it is sent (tiers.*.context_tokens).
    context_tokens: dict[Tier, int]
    # Actions whose low-stakes requests go to the local tier when one is configured.
    local_first: frozenset[Action]
    # Learned overrides (routing.overrides): (action, risk category, rules' tier) -> tier.
    overrides: dict[tuple[Action, str, Tier], Tier]

    def __init__(
        self,
        base: dict[Action, Tier],
        risk_promotes_to: dict[Action, Tier],
        demote_trivial: bool,
        escalate_window_s: float,
        min_tier: Tier,
        max_tier: Tier,
        high_stakes_floor: Tier,
        signals: SignalConfig,
        daily_usd: float = 0.0,
        monthly_usd: float = 0.0,
        budget_mode: str = "soft",
        on_hard: str = "demote",
        team_daily_usd: float = 0.0,
        team_mode: str = "soft",
        context_tokens: dict[Tier, int] | None = None,
        local_first: frozenset[Action] = frozenset(),
        overrides: dict[tuple[Action, str, Tier], Tier] | None = None,
    ) -> None:
        setfield(self, "base", base)
        setfield(self, "risk_promotes_to", risk_promotes_to)
        setfield(self, "demote_trivial", demote_trivial)
        setfield(self, "escalate_window_s", escalate_window_s)
        setfield(self, "min_tier", min_tier)
        setfield(self, "max_tier", max_tier)
        setfield(self, "high_stakes_floor", high_stakes_floor)
        setfield(self, "signals", signals)
        setfield(self, "daily_usd", daily_usd)
        setfield(self, "monthly_usd", monthly_usd)
        setfield(self, "budget_mode", budget_mode)
        setfield(self, "on_hard", on_hard)
        setfield(self, "team_daily_usd", team_daily_usd)
        setfield(self, "team_mode", team_mode)
        setfield(self, "context_tokens", {} if context_tokens is None else context_tokens)
        setfield(self, "local_first", local_first)
        setfield(self, "overrides", {} if overrides is None else overrides)

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        """Build the policy from an already validated Config."""
        r = config.routing
        return cls(
            base={Action(a): Tier.parse(t) for a, t in r.base.items()},
            risk_promotes_to={Action(a): Tier.parse(t) for a, t in r.risk_promotes_to.items()},
            demote_trivial=r.demote_trivial,
            escalate_window_s=r.escalate_window_s,
            min_tier=Tier.parse(r.min_tier),
            max_tier=Tier.parse(r.max_tier),
            high_stakes_floor=Tier.parse(r.high_stakes_floor),
            signals=r.signals,
            daily_usd=config.budget.daily_usd,
            monthly_usd=config.budget.monthly_usd,
            budget_mode=config.budget.mode,
            on_hard=config.budget.on_hard,
            team_daily_usd=config.budget.team.daily_usd,
            team_mode=config.budget.team.mode,
            context_tokens={
                Tier.parse(label): tier.context_tokens for label, tier in config.tiers.items()
            },
            local_first=frozenset(Action(a) for a in r.local_first),
            overrides={
                (Action(o.action), o.risk, Tier.parse(o.tier)): Tier.parse(o.to)
                for o in r.overrides
            },
        )

    def base_tier(self, action: Action) -> Tier:
        """The action's base tier (mid when the config leaves it out)."""
        return self.base.get(action, Tier.MID)
