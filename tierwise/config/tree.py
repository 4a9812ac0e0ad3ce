"""The settings tree: every section as an attrs class, with the built-in defaults."""

from __future__ import annotations

import attrs

ACTIONS = ("docstring", "rename", "explain", "review", "design")
TIER_NAMES = ("static", "local", "budget", "mid", "frontier")


@attrs.define
class ProviderConfig:
    """One endpoint. Only the user's own config file may define these (see TRUSTED_ONLY)."""

    kind: str = "openai"  # "anthropic" | "openai" (any OpenAI-compatible server)
    base_url: str | None = None
    api_key_env: str | None = None  # None: no key needed (a local server)
    local: bool = False  # marginal cost $0, never leaves the machine
    max_retries: int = 1  # 0 or 1: one retry, then the next model of the tier (routing.md)


@attrs.define
class TierConfig:
    """A tier's fallback chain of "provider:model" refs, its timeout and its context budget."""

    models: list[str] = attrs.field(factory=list)
    timeout: float = 60.0
    context_tokens: int = 2000
    max_output_tokens: int = 2048


@attrs.define
class SignalConfig:
    """Thresholds for the size and complexity signals."""

    large_lines: int = 80
    huge_lines: int = 250
    complex_cyclomatic: int = 10
    deep_nesting: int = 4
    cross_file_calls: int = 6
    trivial_lines: int = 4


@attrs.define
class OverrideConfig:
    """One policy override (`[[routing.overrides]]`, written by `tierwise tune --apply`): when
    the rules route `action` on code of risk category `risk` ("none": no risk promotion) to
    `tier`, route it to `to` instead. Repeats still escalate from `to`."""

    action: str
    tier: str
    to: str
    risk: str = "none"


@attrs.define
class RoutingConfig:
    """The default policy: base tier per action, risk promotion per action, escalation window."""

    base: dict[str, str] = attrs.field(
        factory=lambda: {
            "docstring": "budget",
            "rename": "budget",
            "explain": "mid",
            "review": "mid",
            # Design of plain code is mid; risk promotes it (below). An all-frontier design was
            # a quarter of the spend at a twentieth of the actions (issue 10's replay).
            "design": "mid",
        }
    )
    # Risk is action-aware: the tier a risky target is promoted to, per action (absent: none).
    risk_promotes_to: dict[str, str] = attrs.field(
        factory=lambda: {"review": "frontier", "explain": "mid", "design": "frontier"}
    )
    demote_trivial: bool = True
    # With a local tier configured, these actions send their low-stakes requests (no risk, under
    # half of large_lines, not complex) to it; the answer's check escalates what it gets wrong.
    local_first: list[str] = attrs.field(
        factory=lambda: ["docstring", "rename", "explain", "review"]
    )
    escalate_window_s: float = 900.0
    min_tier: str = "static"
    max_tier: str = "frontier"
    # High-stakes actions never fall back below this tier silently when their tier is unavailable.
    high_stakes_floor: str = "mid"
    signals: SignalConfig = attrs.field(factory=SignalConfig)
    # Learned from use (`tierwise tune --apply`); user file only. A risk-promoted cell is never
    # lowered below its promotion's tier (refused at load).
    overrides: list[OverrideConfig] = attrs.field(factory=list)


@attrs.define
class TeamBudgetConfig:
    """The team's daily cap in USD over everyone's spend in the shared cache's counters (user
    file only); 0 means no cap. A hard cap demotes or refuses as `budget.on_hard` says."""

    daily_usd: float = 0.0
    mode: str = "soft"  # "soft" | "hard"


@attrs.define
class BudgetConfig:
    """Spending caps in USD; 0 means no cap. soft warns, hard refuses or demotes."""

    daily_usd: float = 0.0
    monthly_usd: float = 0.0
    mode: str = "soft"  # "soft" | "hard"
    on_hard: str = "demote"  # "demote" | "refuse"
    team: TeamBudgetConfig = attrs.field(factory=TeamBudgetConfig)


@attrs.define
class SharedCacheConfig:
    """The team's shared answer cache (L2) on Redis or Valkey (user file only: a repository
    must never point the cache at a server). Off while `url` is unset."""

    url: str | None = None  # "redis://host:6379/0", "rediss://…" (TLS) or "unix:///path"
    team: str = ""  # the namespace every key and counter lives under, e.g. "acme-payments"
    secret_env: str = "TIERWISE_TEAM_SECRET"  # the variable holding the team's MAC secret
    ttl_days: float = 30.0  # every entry expires (answers, locks, spend counters)
    timeout_ms: int = 50  # per operation; past it the request goes on without L2
    max_entry_kb: int = 64  # larger answers stay in L1; larger stored values are refused
    lock_wait_s: float = 15.0  # how long a request waits for a teammate computing the answer
    user: str | None = None  # the name team spend is counted under (default: the login name)


@attrs.define
class CacheConfig:
    """The response cache: L1 on this machine, and L2 shared by a team when configured."""

    enabled: bool = True
    dir: str | None = None  # default: the platform cache dir
    max_mb: int = 256
    serve_from_higher: bool = True
    shared: SharedCacheConfig = attrs.field(factory=SharedCacheConfig)


@attrs.define
class PrivacyConfig:
    """What is never sent, what is redacted, and what stays local."""

    exclude: list[str] = attrs.field(
        factory=lambda: [
            ".env",
            ".env.*",
            "*.pem",
            "*.key",
            "id_rsa*",
            "id_ed25519*",
            "id_*",
            "secrets/**",
            "**/secrets/**",
            "*.p12",
            "*.pfx",
        ]
    )
    local_only: list[str] = attrs.field(factory=list)
    redact: bool = True


@attrs.define
class ActionsConfig:
    """Per-action options."""

    docstring_style: str = "google"  # "google" | "numpy" | "sphinx" | "pep257" (JS/TS: JSDoc)
    rename_candidates: int = 3
    review_static_with_model: bool = True  # feed ruff findings to model tiers as hints


@attrs.define
class ServerConfig:
    """Language-server behaviour."""

    show_tier_variants: bool = False
    display: str = "document"  # "document" | "message" | "none"
    log_level: str = "info"
    # Documents (and files on the command line) larger than this are refused at once: parsing
    # and routing them would stall every request (a 5 MB module took 45 s and 1.5 GB).
    max_file_bytes: int = 1_048_576
    # Seconds a request's own work (extraction, routing, lint) may take before it is answered
    # with an error; the model's time is bounded by the tier timeout instead.
    work_timeout_s: float = 10.0


@attrs.define
class ModelPrice:
    """A catalogue row override: USD per million tokens."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    source: str = "user config"
    as_of: str = ""


@attrs.define
class LedgerConfig:
    """The SQLite request log."""

    enabled: bool = True
    path: str | None = None  # default: the platform data dir


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


@attrs.define
class Config:
    """The whole settings tree."""

    providers: dict[str, ProviderConfig] = attrs.field(factory=_default_providers)
    tiers: dict[str, TierConfig] = attrs.field(factory=_default_tiers)
    routing: RoutingConfig = attrs.field(factory=RoutingConfig)
    budget: BudgetConfig = attrs.field(factory=BudgetConfig)
    cache: CacheConfig = attrs.field(factory=CacheConfig)
    privacy: PrivacyConfig = attrs.field(factory=PrivacyConfig)
    actions: ActionsConfig = attrs.field(factory=ActionsConfig)
    server: ServerConfig = attrs.field(factory=ServerConfig)
    prompts: dict[str, str] = attrs.field(factory=dict)  # action -> extra instructions
    models: dict[str, ModelPrice] = attrs.field(factory=dict)  # catalogue overrides by model id
    ledger: LedgerConfig = attrs.field(factory=LedgerConfig)
