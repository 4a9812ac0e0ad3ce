"""The settings tree: every section as a plain record class, with the built-in defaults.

Records (tierwise/core/records.py), not attrs classes: `tierwise route` builds this tree on
every start, and generating code for fifteen classes cost more than the route itself
(docs/benchmarks.md, pass 5). config/loader.py structures a file into it by the annotations
below; `__slots__` lists the same fields in the same order, and a list or table default is
built fresh by each `__init__` (None stands for "the default").
"""

from __future__ import annotations

from tierwise.core.records import Record

ACTIONS = ("docstring", "rename", "explain", "review", "design")
TIER_NAMES = ("static", "local", "budget", "mid", "frontier")


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


class SharedCacheConfig(Record):
    """The team's shared answer cache (L2) on Redis or Valkey (user file only: a repository
    must never point the cache at a server). Off while `url` is unset."""

    __slots__ = (
        "url",
        "team",
        "secret_env",
        "ttl_days",
        "timeout_ms",
        "max_entry_kb",
        "lock_wait_s",
        "user",
    )
    url: str | None  # "redis://host:6379/0", "rediss://…" (TLS) or "unix:///path"
    team: str  # the namespace every key and counter lives under, e.g. "acme-payments"
    secret_env: str  # the variable holding the team's MAC secret
    ttl_days: float  # every entry expires (answers, locks, spend counters)
    timeout_ms: int  # per operation; past it the request goes on without L2
    max_entry_kb: int  # larger answers stay in L1; larger stored values are refused
    lock_wait_s: float  # how long a request waits for a teammate computing the answer
    user: str | None  # the name team spend is counted under (default: the login name)

    def __init__(
        self,
        url: str | None = None,
        team: str = "",
        secret_env: str = "TIERWISE_TEAM_SECRET",
        ttl_days: float = 30.0,
        timeout_ms: int = 50,
        max_entry_kb: int = 64,
        lock_wait_s: float = 15.0,
        user: str | None = None,
    ) -> None:
        self.url = url
        self.team = team
        self.secret_env = secret_env
        self.ttl_days = ttl_days
        self.timeout_ms = timeout_ms
        self.max_entry_kb = max_entry_kb
        self.lock_wait_s = lock_wait_s
        self.user = user


class CacheConfig(Record):
    """The response cache: L1 on this machine, and L2 shared by a team when configured."""

    __slots__ = ("enabled", "dir", "max_mb", "serve_from_higher", "shared")
    enabled: bool
    dir: str | None  # default: the platform cache dir
    max_mb: int
    serve_from_higher: bool
    shared: SharedCacheConfig

    def __init__(
        self,
        enabled: bool = True,
        dir: str | None = None,
        max_mb: int = 256,
        serve_from_higher: bool = True,
        shared: SharedCacheConfig | None = None,
    ) -> None:
        self.enabled = enabled
        self.dir = dir
        self.max_mb = max_mb
        self.serve_from_higher = serve_from_higher
        self.shared = SharedCacheConfig() if shared is None else shared


class PrivacyConfig(Record):
    """What is never sent, what is redacted, and what stays local."""

    __slots__ = ("exclude", "local_only", "redact")
    exclude: list[str]
    local_only: list[str]
    redact: bool

    def __init__(
        self,
        exclude: list[str] | None = None,
        local_only: list[str] | None = None,
        redact: bool = True,
    ) -> None:
        self.exclude = (
            [
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
            if exclude is None
            else exclude
        )
        self.local_only = [] if local_only is None else local_only
        self.redact = redact


class ActionsConfig(Record):
    """Per-action options."""

    __slots__ = ("docstring_style", "rename_candidates", "review_static_with_model")
    docstring_style: str  # "google" | "numpy" | "sphinx" | "pep257" (JS/TS: JSDoc)
    rename_candidates: int
    review_static_with_model: bool  # feed ruff findings to model tiers as hints

    def __init__(
        self,
        docstring_style: str = "google",
        rename_candidates: int = 3,
        review_static_with_model: bool = True,
    ) -> None:
        self.docstring_style = docstring_style
        self.rename_candidates = rename_candidates
        self.review_static_with_model = review_static_with_model


class ServerConfig(Record):
    """Language-server behaviour."""

    __slots__ = ("show_tier_variants", "display", "log_level", "max_file_bytes", "work_timeout_s")
    show_tier_variants: bool
    display: str  # "document" | "message" | "none"
    log_level: str
    # Documents (and files on the command line) larger than this are refused at once: parsing
    # and routing them would stall every request (a 5 MB module took 45 s and 1.5 GB).
    max_file_bytes: int
    # Seconds a request's own work (extraction, routing, lint) may take before it is answered
    # with an error; the model's time is bounded by the tier timeout instead.
    work_timeout_s: float

    def __init__(
        self,
        show_tier_variants: bool = False,
        display: str = "document",
        log_level: str = "info",
        max_file_bytes: int = 1_048_576,
        work_timeout_s: float = 10.0,
    ) -> None:
        self.show_tier_variants = show_tier_variants
        self.display = display
        self.log_level = log_level
        self.max_file_bytes = max_file_bytes
        self.work_timeout_s = work_timeout_s


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


class LedgerConfig(Record):
    """The SQLite request log."""

    __slots__ = ("enabled", "path")
    enabled: bool
    path: str | None  # default: the platform data dir

    def __init__(self, enabled: bool = True, path: str | None = None) -> None:
        self.enabled = enabled
        self.path = path


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
