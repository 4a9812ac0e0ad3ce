"""The settings tree, its layered merge, validation with file-and-key errors, and the trust rule."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from tierwise.core.errors import ConfigError

ACTIONS = ("docstring", "rename", "explain", "review", "design")
TIER_NAMES = ("static", "local", "budget", "mid", "frontier")


@attrs.define
class ProviderConfig:
    """One endpoint. Only the user's own config file may define these (see TRUSTED_ONLY)."""

    kind: str = "openai"  # "anthropic" | "openai" (any OpenAI-compatible server)
    base_url: str | None = None
    api_key_env: str | None = None  # None: no key needed (a local server)
    local: bool = False  # marginal cost $0, never leaves the machine
    max_retries: int = 2


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
class RoutingConfig:
    """The default policy: base tier per action, risk promotion per action, escalation window."""

    base: dict[str, str] = attrs.field(
        factory=lambda: {
            "docstring": "budget",
            "rename": "budget",
            "explain": "mid",
            "review": "mid",
            "design": "frontier",
        }
    )
    # Risk is action-aware: the tier a risky target is promoted to, per action (absent: none).
    risk_promotes_to: dict[str, str] = attrs.field(
        factory=lambda: {"review": "frontier", "explain": "mid", "design": "frontier"}
    )
    demote_trivial: bool = True
    escalate_window_s: float = 900.0
    min_tier: str = "static"
    max_tier: str = "frontier"
    # High-stakes actions never fall back below this tier silently when their tier is unavailable.
    high_stakes_floor: str = "mid"
    signals: SignalConfig = attrs.field(factory=SignalConfig)


@attrs.define
class BudgetConfig:
    """Spending caps in USD; 0 means no cap. soft warns, hard refuses or demotes."""

    daily_usd: float = 0.0
    monthly_usd: float = 0.0
    mode: str = "soft"  # "soft" | "hard"
    on_hard: str = "demote"  # "demote" | "refuse"


@attrs.define
class CacheConfig:
    """The response cache."""

    enabled: bool = True
    dir: str | None = None  # default: the platform cache dir
    max_mb: int = 256
    serve_from_higher: bool = True


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
            models=["anthropic:claude-haiku-4-5", "openai:gpt-5-mini"],
            timeout=45.0,
            context_tokens=1500,
        ),
        "mid": TierConfig(
            models=["anthropic:claude-sonnet-4-6", "openai:gpt-4.1"],
            timeout=90.0,
            context_tokens=4000,
            max_output_tokens=3000,
        ),
        "frontier": TierConfig(
            models=["anthropic:claude-opus-4-5", "openai:gpt-5"],
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


def env_path(var: str) -> Path | None:
    """A path from an environment variable, or None when unset or empty."""
    value = os.environ.get(var, "").strip()
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """The per-user data directory (ledger, explain documents); TIERWISE_DATA_DIR overrides."""
    import platformdirs

    return env_path("TIERWISE_DATA_DIR") or Path(platformdirs.user_data_dir("tierwise"))


def cache_dir(config: Config) -> Path:
    """The response cache directory: config, then TIERWISE_CACHE_DIR, then the platform default."""
    import platformdirs

    if config.cache.dir:
        return Path(config.cache.dir).expanduser()
    return env_path("TIERWISE_CACHE_DIR") or Path(platformdirs.user_cache_dir("tierwise"))


def user_config_path() -> Path:
    """The user config file: TIERWISE_CONFIG, else config.toml in the platform config dir."""
    import platformdirs

    return (
        env_path("TIERWISE_CONFIG")
        or Path(platformdirs.user_config_dir("tierwise")) / "config.toml"
    )


# Keys that only the user's own config file may set: endpoints, key variables, prices and where
# files are written. A cloned repository must never redirect code or keys to another server.
TRUSTED_ONLY: tuple[tuple[str, ...], ...] = (
    ("providers",),
    ("models",),
    ("cache", "dir"),
    ("ledger",),
    ("privacy", "redact"),
)
# Untrusted layers may only add to these lists, so a repository cannot un-exclude `.env`.
ADDITIVE_FOR_UNTRUSTED: tuple[tuple[str, ...], ...] = (
    ("privacy", "exclude"),
    ("privacy", "local_only"),
)

ENUMS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("budget", "mode"): ("soft", "hard"),
    ("budget", "on_hard"): ("demote", "refuse"),
    ("actions", "docstring_style"): ("google", "numpy", "sphinx", "pep257"),
    ("server", "display"): ("document", "message", "none"),
    ("server", "log_level"): ("debug", "info", "warning", "error"),
    ("routing", "min_tier"): TIER_NAMES,
    ("routing", "max_tier"): TIER_NAMES,
    ("routing", "high_stakes_floor"): TIER_NAMES,
}


@attrs.frozen
class Layer:
    """One configuration source: its name for messages (usually a path), its data, its trust."""

    name: str
    data: dict[str, Any]
    trusted: bool


def _converter() -> Any:
    import cattrs

    return cattrs.Converter(forbid_extra_keys=True)


def defaults_dict() -> dict[str, Any]:
    """The built-in defaults as plain data."""
    data: dict[str, Any] = _converter().unstructure(Config())
    return data


def deep_merge(
    base: dict[str, Any],
    over: dict[str, Any],
    *,
    additive: tuple[tuple[str, ...], ...] = (),
    path: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Merge `over` into a copy of `base`: tables merge key by key, everything else replaces."""
    out = dict(base)
    for key, value in over.items():
        here = (*path, key)
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = deep_merge(old, value, additive=additive, path=here)
        elif here in additive and isinstance(old, list) and isinstance(value, list):
            out[key] = old + [v for v in value if v not in old]
        else:
            out[key] = value
    return out


def _strip_untrusted(layer: Layer) -> tuple[dict[str, Any], list[str]]:
    """Remove trusted-only keys from an untrusted layer, with one warning per refused key."""
    data = dict(layer.data)
    warnings: list[str] = []
    for keypath in TRUSTED_ONLY:
        node: Any = data
        parents: list[dict[str, Any]] = []
        for part in keypath[:-1]:
            if not isinstance(node, dict) or part not in node or not isinstance(node[part], dict):
                node = None
                break
            parents.append(node)
            node[part] = dict(node[part])
            node = node[part]
        if isinstance(node, dict) and keypath[-1] in node:
            refused = node.pop(keypath[-1])
            detail = _leaf_keys(refused, ".".join(keypath))
            warnings.append(
                f"{layer.name}: ignored {detail}: provider endpoints, key variables, prices, "
                "file locations and redaction come only from your user config "
                f"({user_config_path()})"
            )
    return data, warnings


def _leaf_keys(value: Any, prefix: str) -> str:
    """Name the leaf keys of a refused value, e.g. 'providers.local.base_url'."""
    if isinstance(value, dict) and value:
        return ", ".join(_leaf_keys(v, f"{prefix}.{k}") for k, v in value.items())
    return f"'{prefix}'"


def _check_values(config: Config) -> list[str]:
    """Problems that types alone cannot catch, each as 'key: problem'."""
    problems: list[str] = []
    for keypath, allowed in ENUMS.items():
        value: Any = config
        for part in keypath:
            value = getattr(value, part)
        if value not in allowed:
            problems.append(f"{'.'.join(keypath)}: {value!r} is not one of {', '.join(allowed)}")
    for table in ("base", "risk_promotes_to"):
        for action, tier in getattr(config.routing, table).items():
            if action not in ACTIONS:
                problems.append(
                    f"routing.{table}.{action}: unknown action; expected {', '.join(ACTIONS)}"
                )
            if tier not in TIER_NAMES:
                problems.append(
                    f"routing.{table}.{action}: {tier!r} is not a tier ({', '.join(TIER_NAMES)})"
                )
    for action in config.prompts:
        if action not in ACTIONS:
            problems.append(f"prompts.{action}: unknown action; expected {', '.join(ACTIONS)}")
    for name, provider in config.providers.items():
        if provider.kind not in ("anthropic", "openai"):
            problems.append(
                f"providers.{name}.kind: {provider.kind!r} is not 'anthropic' or 'openai'"
            )
    for tier_name, tier in config.tiers.items():
        if tier_name not in TIER_NAMES or tier_name == "static":
            problems.append(f"tiers.{tier_name}: not a model tier (local, budget, mid, frontier)")
        if tier.timeout <= 0:
            problems.append(f"tiers.{tier_name}.timeout: must be positive seconds")
        for i, ref in enumerate(tier.models):
            provider_name, sep, model = ref.partition(":")
            if not sep or not model:
                problems.append(
                    f"tiers.{tier_name}.models[{i}]: {ref!r} must look like 'provider:model'"
                )
            elif provider_name not in config.providers:
                known = ", ".join(sorted(config.providers))
                problems.append(
                    f"tiers.{tier_name}.models[{i}]: unknown provider {provider_name!r}"
                    f" (known: {known})"
                )
    if config.budget.daily_usd < 0 or config.budget.monthly_usd < 0:
        problems.append("budget: caps must be 0 (no cap) or positive USD")
    if config.cache.max_mb <= 0:
        problems.append("cache.max_mb: must be a positive number of megabytes")
    return problems


def _structure(data: dict[str, Any], source: str) -> Config:
    """Build a Config from merged data, or raise ConfigError naming the source and the key."""
    import cattrs
    from cattrs.v import transform_error

    try:
        config: Config = _converter().structure(data, Config)
    except cattrs.BaseValidationError as exc:
        details = "; ".join(
            m.replace("extra fields found", "unknown keys")
            .replace(" @ $.", " at ")
            .replace(" @ $", "")
            for m in transform_error(exc, path="$")
        )
        raise ConfigError(f"{source}: {details}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {exc}") from None
    problems = _check_values(config)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return config


def build_config(layers: Sequence[Layer]) -> tuple[Config, list[str]]:
    """Merge the layers over the built-in defaults, in order; returns the config and warnings."""
    merged = defaults_dict()
    warnings: list[str] = []
    config = Config()
    for layer in layers:
        if not isinstance(layer.data, dict):
            raise ConfigError(f"{layer.name}: expected a table of settings")
        data, refused = (layer.data, []) if layer.trusted else _strip_untrusted(layer)
        warnings.extend(refused)
        additive = () if layer.trusted else ADDITIVE_FOR_UNTRUSTED
        merged = deep_merge(merged, data, additive=additive)
        # Validating after every layer pins an error on the layer that introduced it.
        config = _structure(merged, layer.name)
    return config, warnings


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, raising ConfigError with the path and the parser's line and column."""
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def workspace_config_file(root: Path) -> Path | None:
    """The workspace file: .tierwise.toml, else pyproject.toml when it has [tool.tierwise]."""
    candidate = root / ".tierwise.toml"
    if candidate.is_file():
        return candidate
    pyproject = root / "pyproject.toml"
    if pyproject.is_file() and "tierwise" in read_toml(pyproject).get("tool", {}):
        return pyproject
    return None


def load_file_layers(*, config_path: Path | None, workspace_root: Path | None) -> list[Layer]:
    """Read the user file (trusted) and the workspace file (untrusted) that exist."""
    layers: list[Layer] = []
    user = config_path or user_config_path()
    if config_path is not None and not user.is_file():
        raise ConfigError(f"{user}: config file not found")
    if user.is_file():
        layers.append(Layer(str(user), read_toml(user), trusted=True))
    if workspace_root is not None:
        ws = workspace_config_file(workspace_root)
        if ws is not None:
            data = read_toml(ws)
            if ws.name == "pyproject.toml":
                data = data.get("tool", {}).get("tierwise", {})
                name = f"{ws} [tool.tierwise]"
            else:
                name = str(ws)
            layers.append(Layer(name, data, trusted=False))
    return layers


def load_config(
    *, config_path: Path | None = None, workspace_root: Path | None = None
) -> tuple[Config, list[str]]:
    """Defaults, then the user file, then the workspace file: the CLI's whole configuration."""
    return build_config(load_file_layers(config_path=config_path, workspace_root=workspace_root))
