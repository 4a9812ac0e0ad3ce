"""The sections of the settings tree about this machine and the editor: the answer cache
(and the team's shared one), privacy, per-action options, the server, the ledger.

Record classes like the rest of the tree (tree.py, which imports them from here).
"""

from __future__ import annotations

from tierwise.core.records import Record


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
    # "auto" (the file's own style, else google) | "google" | "numpy" | "sphinx" | "pep257";
    # JS/TS always JSDoc
    docstring_style: str
    rename_candidates: int
    review_static_with_model: bool  # feed ruff findings to model tiers as hints

    def __init__(
        self,
        docstring_style: str = "auto",
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


class LedgerConfig(Record):
    """The SQLite request log."""

    __slots__ = ("enabled", "path")
    enabled: bool
    path: str | None  # default: the platform data dir

    def __init__(self, enabled: bool = True, path: str | None = None) -> None:
        self.enabled = enabled
        self.path = path
