"""What the router decides with: the models and prices it may choose from (`ModelOption`,
`Availability`), a prompt's size (`TokenEstimate`), and what it decides (`Choice` before
pricing, `Decision` after, with a `TierOption` per tier). Plain records, no logic beyond their
own arithmetic."""

from __future__ import annotations

from tierwise.core.records import FrozenRecord, setfield
from tierwise.core.task import Action
from tierwise.core.tiers import Tier
from tierwise.routing.policy import STATIC_ACTIONS


class ModelOption(FrozenRecord):
    """A model in a tier's chain with its list prices (USD per million tokens); local is $0."""

    __slots__ = ("ref", "input_per_m", "output_per_m")
    ref: str
    input_per_m: float
    output_per_m: float

    def __init__(self, ref: str, input_per_m: float, output_per_m: float) -> None:
        setfield(self, "ref", ref)
        setfield(self, "input_per_m", input_per_m)
        setfield(self, "output_per_m", output_per_m)

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Estimated USD for a call of this size."""
        return (input_tokens * self.input_per_m + output_tokens * self.output_per_m) / 1_000_000


class Availability(FrozenRecord):
    """Per model tier: the usable fallback chain (empty when no provider is configured)."""

    __slots__ = ("chains", "reference", "missing")
    chains: dict[Tier, tuple[ModelOption, ...]]
    # The catalogue's default model per tier, used to price tiers the user has not configured.
    reference: dict[Tier, ModelOption]
    # Why a model tier has no usable model, e.g. "needs ANTHROPIC_API_KEY or OPENAI_API_KEY".
    missing: dict[Tier, str]

    def __init__(
        self,
        chains: dict[Tier, tuple[ModelOption, ...]],
        reference: dict[Tier, ModelOption] | None = None,
        missing: dict[Tier, str] | None = None,
    ) -> None:
        setfield(self, "chains", chains)
        setfield(self, "reference", {} if reference is None else reference)
        setfield(self, "missing", {} if missing is None else missing)

    def available(self, tier: Tier, action: Action) -> bool:
        """Whether this tier can serve this action right now."""
        if tier is Tier.STATIC:
            return action in STATIC_ACTIONS
        return bool(self.chains.get(tier))

    def price_option(self, tier: Tier) -> ModelOption | None:
        """The model that prices this tier: the first usable one, else the catalogue default."""
        chain = self.chains.get(tier)
        return chain[0] if chain else self.reference.get(tier)


class TokenEstimate(FrozenRecord):
    """Expected prompt and reply sizes for the estimate."""

    __slots__ = ("input_tokens", "output_tokens", "target_tokens")
    input_tokens: int
    output_tokens: int
    target_tokens: int  # the target alone (context.types.budget_tokens): it is never cut

    def __init__(self, input_tokens: int, output_tokens: int, target_tokens: int = 0) -> None:
        setfield(self, "input_tokens", input_tokens)
        setfield(self, "output_tokens", output_tokens)
        setfield(self, "target_tokens", target_tokens)


class TierOption(FrozenRecord):
    """One rung of the ladder as a picker shows it: model, estimate, and why it is unusable."""

    __slots__ = ("tier", "model", "estimate_usd", "available", "why_not")
    tier: str
    model: str | None  # "provider:model" that would answer (or price) it; None for static
    estimate_usd: float
    available: bool
    why_not: str | None  # set when not available

    def __init__(
        self,
        tier: str,
        model: str | None,
        estimate_usd: float,
        available: bool,
        why_not: str | None = None,
    ) -> None:
        setfield(self, "tier", tier)
        setfield(self, "model", model)
        setfield(self, "estimate_usd", estimate_usd)
        setfield(self, "available", available)
        setfield(self, "why_not", why_not)


class Decision(FrozenRecord):
    """The router's answer: the tier, the model chain to try, reasons, and the estimate."""

    __slots__ = (
        "action",
        "tier",
        "models",
        "reasons",
        "estimate_usd",
        "estimates",
        "available",
        "warnings",
        "refused",
        "tiers",
        "wanted",
        "cell_tier",
        "risk",
    )
    action: Action
    tier: Tier
    models: tuple[str, ...]  # "provider:model" fallback chain; empty for static
    reasons: tuple[str, ...]
    estimate_usd: float
    estimates: dict[str, float]  # every tier label -> USD at that tier
    available: tuple[str, ...]  # tier labels usable right now for this action (never assumed)
    warnings: tuple[str, ...]
    refused: str | None  # why the request may not run (hard budget, nothing configured)
    tiers: tuple[TierOption, ...]  # every tier in ladder order, for pickers
    # The tier the rules chose before privacy, availability and the budget moved it: an answer
    # below it is a downgrade, and its saving is labelled so.
    wanted: Tier | None
    # The cell `tierwise tune` counts this request in: the rules' tier before the repeat step
    # (None when the user chose the tier) and the risk category whose promotion applies.
    cell_tier: Tier | None
    risk: str

    def __init__(
        self,
        action: Action,
        tier: Tier,
        models: tuple[str, ...],
        reasons: tuple[str, ...],
        estimate_usd: float,
        estimates: dict[str, float],
        available: tuple[str, ...],
        warnings: tuple[str, ...] = (),
        refused: str | None = None,
        tiers: tuple[TierOption, ...] = (),
        wanted: Tier | None = None,
        cell_tier: Tier | None = None,
        risk: str = "none",
    ) -> None:
        setfield(self, "action", action)
        setfield(self, "tier", tier)
        setfield(self, "models", models)
        setfield(self, "reasons", reasons)
        setfield(self, "estimate_usd", estimate_usd)
        setfield(self, "estimates", estimates)
        setfield(self, "available", available)
        setfield(self, "warnings", warnings)
        setfield(self, "refused", refused)
        setfield(self, "tiers", tiers)
        setfield(self, "wanted", wanted)
        setfield(self, "cell_tier", cell_tier)
        setfield(self, "risk", risk)

    @property
    def model(self) -> str | None:
        """The first model of the chain, or None for static."""
        return self.models[0] if self.models else None

    @property
    def summary(self) -> str:
        """One line such as "review → frontier: calls jwt.decode; builds SQL"."""
        return f"{self.action.value} → {self.tier.label}: " + "; ".join(self.reasons)


class Choice(FrozenRecord):
    """What route() decides before pricing: the tier and its reasons, the tiers usable.

    `sized` is set when the target's size moved or refused it: the reason then names the
    target and its size, so the choice is that target's alone (routing/batch.py)."""

    __slots__ = (
        "tier", "reasons", "wanted", "warnings", "refused", "cell_tier", "risk", "really",
        "usable", "sized",
    )  # fmt: skip
    tier: Tier
    reasons: tuple[str, ...]
    wanted: Tier
    warnings: tuple[str, ...]
    refused: str | None
    cell_tier: Tier | None
    risk: str
    really: tuple[Tier, ...]  # available now for this action (never assumed)
    usable: tuple[Tier, ...]  # the tiers it may move to (every one when assumed available)
    sized: bool

    def __init__(
        self,
        tier: Tier,
        reasons: tuple[str, ...],
        wanted: Tier,
        warnings: tuple[str, ...],
        refused: str | None,
        cell_tier: Tier | None,
        risk: str,
        really: tuple[Tier, ...],
        usable: tuple[Tier, ...],
        sized: bool,
    ) -> None:
        setfield(self, "tier", tier)
        setfield(self, "reasons", reasons)
        setfield(self, "wanted", wanted)
        setfield(self, "warnings", warnings)
        setfield(self, "refused", refused)
        setfield(self, "cell_tier", cell_tier)
        setfield(self, "risk", risk)
        setfield(self, "really", really)
        setfield(self, "usable", usable)
        setfield(self, "sized", sized)
