"""The settings tree: every section as a plain record class, with the built-in defaults.

Records (tierwise/core/records.py), not attrs classes: `tierwise route` builds this tree on
every start, and attrs generated and compiled methods for each of its fifteen classes (about
3.2 M instructions a class, docs/benchmarks.md pass 4). The sections about this machine and
the editor live in sections.py. config/loader.py structures a file into it by the annotations
below; `__slots__` lists the same fields in the same order, and a list or table default is
built fresh by each `__init__` (None stands for "the default").
"""

from __future__ import annotations

from tierwise.config.sections import (
    ActionsConfig,
    CacheConfig,
    LedgerConfig,
    PrivacyConfig,
    ServerConfig,
    SharedCacheConfig,
)
from tierwise.core.records import Record

ACTIONS = ("docstring", "rename", "explain", "review", "design")
TIER_NAMES = ("static", "local", "budget", "mid", "frontier")

__all__ = [
    "ACTIONS",
    "TIER_NAMES",
    "ActionsConfig",
    "BudgetConfig",
    "CacheConfig",
    "Config",
    "LedgerConfig",
    "ModelPrice",
    "OverrideConfig",
    "PrivacyConfig",
    "ProviderConfig",
    "RoutingConfig",
    "ServerConfig",
    "SharedCacheConfig",
    "SignalConfig",
    "TeamBudgetConfig",
    "TierConfig",
]


class ProviderConfig(Record):
    """One endpoint. Only the user's own config file may define these (see TRUSTED_ONLY)."""

    __slots__ = ("kind", "base_url", "api_key_env", "local", "max_retries")
    kind: str  # "anthropic" | "openai" (any OpenAI-compatible server)
    base_url: str | None
    api_key_env: str | None  # None: no key needed (a local server)
    local: bool  # marginal cost $0, never leaves the machine
    max_retries: int  # 0 or 1: one retry, then the next model of the tier (routing.md)

    def __init__(
        self,
        kind: str = "openai",
        base_url: str | None = None,
        api_key_env: str | None = None,
        local: bool = False,
        max_retries: int = 1,
    ) -> None:
        self.kind = kind
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.local = local
        self.max_retries = max_retries


class TierConfig(Record):
    """A tier's fallback chain of "provider:model" refs, its timeout and its context budget."""

    __slots__ = ("models", "timeout", "context_tokens", "max_output_tokens")
    models: list[str]
    timeout: float
    context_tokens: int
    max_output_tokens: int

    def __init__(
        self,
        models: list[str] | None = None,
        timeout: float = 60.0,
        context_tokens: int = 2000,
        max_output_tokens: int = 2048,
    ) -> None:
        self.models = [] if models is None else models
        self.timeout = timeout
        self.context_tokens = context_tokens
        self.max_output_tokens = max_output_tokens


class SignalConfig(Record):
    """Thresholds for the size and complexity signals."""

    __slots__ = (
        "large_lines",
        "huge_lines",
        "complex_cyclomatic",
        "deep_nesting",
        "cross_file_calls",
        "trivial_lines",
    )
    large_lines: int
    huge_lines: int
    complex_cyclomatic: int
    deep_nesting: int
    cross_file_calls: int
    trivial_lines: int

    def __init__(
        self,
        large_lines: int = 80,
        huge_lines: int = 250,
        complex_cyclomatic: int = 10,
        deep_nesting: int = 4,
        cross_file_calls: int = 6,
        trivial_lines: int = 4,
    ) -> None:
        self.large_lines = large_lines
        self.huge_lines = huge_lines
        self.complex_cyclomatic = complex_cyclomatic
        self.deep_nesting = deep_nesting
        self.cross_file_calls = cross_file_calls
        self.trivial_lines = trivial_lines


class OverrideConfig(Record):
    """One policy override (`[[routing.overrides]]`, written by `tierwise tune --apply`): when
    the rules route `action` on code of risk category `risk` ("none": no risk promotion) to
    `tier`, route it to `to` instead. Repeats still escalate from `to`."""

    __slots__ = ("action", "tier", "to", "risk")
    action: str
    tier: str
    to: str
    risk: str

    def __init__(self, action: str, tier: str, to: str, risk: str = "none") -> None:
        self.action = action
        self.tier = tier
        self.to = to
        self.risk = risk


class RoutingConfig(Record):
    """The default policy: base tier per action, risk promotion per action, escalation window."""

    __slots__ = (
        "base",
        "risk_promotes_to",
        "demote_trivial",
        "local_first",
        "escalate_window_s",
        "min_tier",
        "max_tier",
        "high_stakes_floor",
        "signals",
        "overrides",
    )
    base: dict[str, str]
    # Risk is action-aware: the tier a risky target is promoted to, per action (absent: none).
    risk_promotes_to: dict[str, str]
    demote_trivial: bool
    # With a local tier configured, these actions send their low-stakes requests (no risk, under
    # half of large_lines, not complex) to it; the answer's check escalates what it gets wrong.
    local_first: list[str]
    escalate_window_s: float
    min_tier: str
    max_tier: str
    # High-stakes actions never fall back below this tier silently when their tier is unavailable.
    high_stakes_floor: str
    signals: SignalConfig
    # Learned from use (`tierwise tune --apply`); user file only. A risk-promoted cell is never
    # lowered below its promotion's tier (refused at load).
    overrides: list[OverrideConfig]

    def __init__(
        self,
        base: dict[str, str] | None = None,
        risk_promotes_to: dict[str, str] | None = None,
        demote_trivial: bool = True,
        local_first: list[str] | None = None,
        escalate_window_s: float = 900.0,
        min_tier: str = "static",
        max_tier: str = "frontier",
        high_stakes_floor: str = "mid",
        signals: SignalConfig | None = None,
        overrides: list[OverrideConfig] | None = None,
    ) -> None:
        self.base = (
            {
                "docstring": "budget",
                "rename": "budget",
                "explain": "mid",
                "review": "mid",
                # Design of plain code is mid; risk promotes it (below). An all-frontier design
                # was a quarter of the spend at a twentieth of the actions (issue 10's replay).
                "design": "mid",
            }
            if base is None
            else base
        )
        self.risk_promotes_to = (
            {"review": "frontier", "explain": "mid", "design": "frontier"}
            if risk_promotes_to is None
            else risk_promotes_to
        )
        self.demote_trivial = demote_trivial
        self.local_first = (
            ["docstring", "rename", "explain", "review"] if local_first is None else local_first
        )
        self.escalate_window_s = escalate_window_s
        self.min_tier = min_tier
        self.max_tier = max_tier
        self.high_stakes_floor = high_stakes_floor
        self.signals = SignalConfig() if signals is None else signals
        self.overrides = [] if overrides is None else overrides


class TeamBudgetConfig(Record):
    """The team's daily cap in USD over everyone's spend in the shared cache's counters (user
    file only); 0 means no cap. A hard cap demotes or refuses as `budget.on_hard` says."""

    __slots__ = ("daily_usd", "mode")
    daily_usd: float
    mode: str  # "soft" | "hard"

    def __init__(self, daily_usd: float = 0.0, mode: str = "soft") -> None:
        self.daily_usd = daily_usd
        self.mode = mode


class BudgetConfig(Record):
    """Spending caps in USD; 0 means no cap. soft warns, hard refuses or demotes."""

    __slots__ = ("daily_usd", "monthly_usd", "mode", "on_hard", "team")
    daily_usd: float
    monthly_usd: float
    mode: str  # "soft" | "hard"
    on_hard: str  # "demote" | "refuse"
    team: TeamBudgetConfig

    def __init__(
        self,
        daily_usd: float = 0.0,
        monthly_usd: float = 0.0,
        mode: str = "soft",
        on_hard: str = "demote",
        team: TeamBudgetConfig | None = None,
    ) -> None:
        self.daily_usd = daily_usd
        self.monthly_usd = monthly_usd
        self.mode = mode
        self.on_hard = on_hard
        self.team = TeamBudgetConfig() if team is None else team


class ModelPrice(Record):
    """A catalogue row override: USD per million tokens."""

    __slots__ = ("input", "output", "cache_read", "cache_write", "source", "as_of")
    input: float
    output: float
    cache_read: float | None
    cache_write: float | None
    source: str
    as_of: str

    def __init__(
        self,
        input: float,
        output: float,
        cache_read: float | None = None,
        cache_write: float | None = None,
        source: str = "user config",
        as_of: str = "",
    ) -> None:
        self.input = input
        self.output = output
        self.cache_read = cache_read
        self.cache_write = cache_write
        self.source = source
        self.as_of = as_of


def _default_providers() -> dict[str, ProviderConfig]:
    return {
        "anthropic": ProviderConfig(kind="anthropic", api_key_env="ANTHROPIC_API_KEY"),
        "openai": ProviderConfig(kind="openai", api_key_env="OPENAI_API_KEY"),
        # llama.cpp llama-server's default port; unavailable until the user sets enabled/base_url.
        "local": ProviderConfig(kind="openai", base_url=None, api_key_env=None, local=True),
    }


def _default_tiers() -> dict[str, TierConfig]:
    return {
        "local": TierConfig(models=["local:default"], timeout=120.0, context_tokens=1500),
        "budget": TierConfig(
            models=["anthropic:claude-haiku-4-5", "openai:gpt-5-nano"],
            timeout=45.0,
            context_tokens=1500,
        ),
        "mid": TierConfig(
            # Not gpt-4.1: at $2/M input it costs more than frontier's gpt-5 ($1.25/M) for
            # input-heavy requests; a tier must never cost more than the one above it.
            models=["anthropic:claude-sonnet-4-6", "openai:gpt-5-mini"],
            timeout=90.0,
            context_tokens=4000,
            max_output_tokens=3000,
        ),
        "frontier": TierConfig(
            # Not claude-opus-4-5: the anthropic SDK (2.14.0, _data/deprecated_models.py) lists
            # it as deprecated, end of life 2027-01-22. claude-opus-5 is in the SDK's model list
            # and priced like it ($5/$25 per M, prices.md read 2026-11-22); checked 2026-12-01.
            models=["anthropic:claude-opus-5", "openai:gpt-5"],
            timeout=180.0,
            context_tokens=8000,
            max_output_tokens=4000,
        ),
    }


class Config(Record):
    """The whole settings tree."""

    __slots__ = (
        "providers",
        "tiers",
        "routing",
        "budget",
        "cache",
        "privacy",
        "actions",
        "server",
        "prompts",
        "models",
        "ledger",
    )
    providers: dict[str, ProviderConfig]
    tiers: dict[str, TierConfig]
    routing: RoutingConfig
    budget: BudgetConfig
    cache: CacheConfig
    privacy: PrivacyConfig
    actions: ActionsConfig
    server: ServerConfig
    prompts: dict[str, str]  # action -> extra instructions
    models: dict[str, ModelPrice]  # catalogue overrides by model id
    ledger: LedgerConfig

    def __init__(
        self,
        providers: dict[str, ProviderConfig] | None = None,
        tiers: dict[str, TierConfig] | None = None,
        routing: RoutingConfig | None = None,
        budget: BudgetConfig | None = None,
        cache: CacheConfig | None = None,
        privacy: PrivacyConfig | None = None,
        actions: ActionsConfig | None = None,
        server: ServerConfig | None = None,
        prompts: dict[str, str] | None = None,
        models: dict[str, ModelPrice] | None = None,
        ledger: LedgerConfig | None = None,
    ) -> None:
        self.providers = _default_providers() if providers is None else providers
        self.tiers = _default_tiers() if tiers is None else tiers
        self.routing = RoutingConfig() if routing is None else routing
        self.budget = BudgetConfig() if budget is None else budget
        self.cache = CacheConfig() if cache is None else cache
        self.privacy = PrivacyConfig() if privacy is None else privacy
        self.actions = ActionsConfig() if actions is None else actions
        self.server = ServerConfig() if server is None else server
        self.prompts = {} if prompts is None else prompts
        self.models = {} if models is None else models
        self.ledger = LedgerConfig() if ledger is None else ledger
