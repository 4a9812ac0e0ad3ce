"""From merged plain data to a Config: structuring with precise errors (file and key), then
the checks that types alone cannot express."""

from __future__ import annotations

import re
from typing import Any

from tierwise.config import loader
from tierwise.config.tree import ACTIONS, TIER_NAMES, Config
from tierwise.core.errors import ConfigError

ENUMS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("budget", "mode"): ("soft", "hard"),
    ("budget", "on_hard"): ("demote", "refuse"),
    ("budget", "team", "mode"): ("soft", "hard"),
    ("actions", "docstring_style"): ("auto", "google", "numpy", "sphinx", "pep257"),
    ("server", "display"): ("document", "message", "none"),
    ("server", "log_level"): ("debug", "info", "warning", "error"),
    ("routing", "min_tier"): TIER_NAMES,
    ("routing", "max_tier"): TIER_NAMES,
    ("routing", "high_stakes_floor"): TIER_NAMES,
}


def defaults_dict() -> dict[str, Any]:
    """The built-in defaults as plain data."""
    data: dict[str, Any] = loader.unstructure(Config())
    return data


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
    problems += _override_problems(config)
    for action in config.routing.local_first:
        if action not in ACTIONS:
            problems.append(
                f"routing.local_first: {action!r} is not an action; expected {', '.join(ACTIONS)}"
            )
    for action in config.prompts:
        if action not in ACTIONS:
            problems.append(f"prompts.{action}: unknown action; expected {', '.join(ACTIONS)}")
    for name, provider in config.providers.items():
        if provider.kind not in ("anthropic", "openai"):
            problems.append(
                f"providers.{name}.kind: {provider.kind!r} is not 'anthropic' or 'openai'"
            )
        if provider.max_retries not in (0, 1):
            problems.append(
                f"providers.{name}.max_retries: {provider.max_retries!r} is not 0 or 1 (a model "
                "is retried at most once, then the next model of the tier is tried)"
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
    problems += _shared_problems(config)
    if config.server.max_file_bytes <= 0:
        problems.append("server.max_file_bytes: must be a positive number of bytes")
    if config.server.work_timeout_s <= 0:
        problems.append("server.work_timeout_s: must be positive seconds")
    return problems


_CATEGORY = re.compile(r"[a-z][a-z_]{0,31}")


def _override_problems(config: Config) -> list[str]:
    """`routing.overrides`: known actions and tiers, and never a risky cell below its promotion
    (high-stakes code stays where risk promotion put it, whoever wrote the override)."""
    problems: list[str] = []
    rank = {name: i for i, name in enumerate(TIER_NAMES)}
    seen: set[tuple[str, str, str]] = set()
    for i, o in enumerate(config.routing.overrides):
        key = f"routing.overrides[{i}]"
        if o.action not in ACTIONS:
            problems.append(f"{key}.action: {o.action!r} is not an action ({', '.join(ACTIONS)})")
        for name in ("tier", "to"):
            if getattr(o, name) not in TIER_NAMES:
                problems.append(
                    f"{key}.{name}: {getattr(o, name)!r} is not a tier ({', '.join(TIER_NAMES)})"
                )
        if not _CATEGORY.fullmatch(o.risk):
            problems.append(f"{key}.risk: {o.risk!r} is not a risk category (e.g. sql, or none)")
        if (o.action, o.risk, o.tier) in seen:
            problems.append(f"{key}: a second override for {o.action} on {o.risk} at {o.tier}")
        seen.add((o.action, o.risk, o.tier))
        floor = config.routing.risk_promotes_to.get(o.action)
        if (
            o.risk != "none"
            and floor in rank
            and o.to in rank
            and o.tier in rank
            and rank[o.to] < min(rank[floor], rank[o.tier])
        ):
            problems.append(
                f"{key}: {o.action} on {o.risk} code is promoted to {floor} for risk; an override"
                f" may not lower it to {o.to}"
            )
    return problems


# A namespace is part of every key (`tierwise:v3:{team}:…`): no separators, no glob characters
# (clearing matches `{prefix}*`), nothing that differs only in case from another team's.
_TEAM_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _shared_problems(config: Config) -> list[str]:
    """The shared cache's settings: checked only when it is turned on (a url is set)."""
    shared = config.cache.shared
    problems: list[str] = []
    if config.budget.team.daily_usd < 0:
        problems.append("budget.team.daily_usd: must be 0 (no cap) or positive USD")
    if shared.url is None:
        if config.budget.team.daily_usd > 0:
            problems.append(
                "budget.team.daily_usd: a team budget needs the shared cache's counters: "
                "set cache.shared.url and cache.shared.team"
            )
        return problems
    scheme = shared.url.partition("://")[0]
    if scheme not in ("redis", "rediss", "unix"):
        problems.append(
            "cache.shared.url: must start with redis://, rediss:// (TLS) or unix:// "
            "(a Redis or Valkey server)"
        )
    if not _TEAM_NAME.fullmatch(shared.team):
        problems.append(
            f"cache.shared.team: {shared.team!r} must be 1-64 lower-case letters, digits, '.',"
            " '_' or '-' (e.g. \"acme-payments\"): it names the team's part of the server"
        )
    if not shared.secret_env.strip():
        problems.append("cache.shared.secret_env: name the variable that holds the team secret")
    for name, value in (
        ("ttl_days", shared.ttl_days),
        ("timeout_ms", shared.timeout_ms),
        ("max_entry_kb", shared.max_entry_kb),
    ):
        if value <= 0:
            problems.append(f"cache.shared.{name}: must be positive")
    if shared.lock_wait_s < 0:
        problems.append("cache.shared.lock_wait_s: must be 0 (never wait) or positive seconds")
    return problems


def structure_config(data: dict[str, Any], source: str) -> Config:
    """Build a Config from merged data, or raise ConfigError naming the source and the key."""
    config, errors = loader.structure(data)
    if config is None:
        details = "; ".join(
            m.replace("extra fields found", "unknown keys")
            .replace(" @ $.", " at ")
            .replace(" @ $", "")
            for m in errors
        )
        raise ConfigError(f"{source}: {details}")
    problems = _check_values(config)
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return config
