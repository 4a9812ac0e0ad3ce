"""tierwise doctor: configuration, keys present (never their values), providers reachable.

Each check is {name, ok, detail, optional?, fix?}: a failed check says what to do in `fix`.
Editors read the JSON (the Neovim plugin's :checkhealth does), so fields are only added.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tierwise.core.errors import TierwiseError

DEFAULT_URLS = {"anthropic": "https://api.anthropic.com/v1", "openai": "https://api.openai.com/v1"}


def _probe(url: str, timeout: float = 3.0) -> tuple[bool, str]:
    """Any HTTP answer (even 401/404) proves the endpoint is reachable."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/models", timeout=timeout) as response:
            return True, f"{url} answered HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return True, f"{url} answered HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"cannot reach {url}: {reason}"


async def run_checks(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every check as {name, ok, detail, optional}."""
    from tierwise.cli.common import find_workspace
    from tierwise.config import load_file_layers, user_config_path
    from tierwise.engine import Engine

    checks: list[dict[str, Any]] = []
    root = args.workspace or find_workspace(Path.cwd())
    try:
        layers = load_file_layers(config_path=args.config, workspace_root=root)
        from tierwise.config import build_config

        config, warnings = build_config(layers)
        names = (
            ", ".join(layer.name for layer in layers)
            or f"defaults only ({user_config_path()} absent)"
        )
        checks.append(
            {
                "name": "config",
                "ok": True,
                "detail": names,
                "files": [layer.name for layer in layers],
            }
        )
        checks += [
            {"name": "config trust", "ok": False, "detail": w, "optional": True} for w in warnings
        ]
        engine = Engine(config, workspace_root=str(root))
    except TierwiseError as exc:
        fix = "correct the file and key named above, then run `tierwise doctor` again"
        return [*checks, {"name": "config", "ok": False, "detail": str(exc), "fix": fix}]

    for name, provider in config.providers.items():
        if provider.api_key_env:
            present = bool(os.environ.get(provider.api_key_env, "").strip())
            detail = f"{provider.api_key_env} is {'set' if present else 'not set'}"
            check = {"name": f"key {name}", "ok": present, "detail": detail, "optional": True}
            if not present:
                check["fix"] = (
                    f"export {provider.api_key_env} in the environment that starts tierwise"
                    " (your shell or your editor's); keys are never read from files"
                )
            checks.append(check)
    probes = []
    for name, provider in config.providers.items():
        url = provider.base_url or (DEFAULT_URLS.get(provider.kind) if not provider.local else None)
        if url and engine.pool.available(name):
            probes.append((name, asyncio.to_thread(_probe, url)))
        elif provider.local and not provider.base_url:
            checks.append(
                {
                    "name": f"provider {name}",
                    "ok": False,
                    "optional": True,
                    "detail": "no base_url: set providers.local.base_url to use the local tier",
                    "fix": f"set providers.{name}.base_url in {user_config_path()}"
                    " (an OpenAI-compatible server such as llama.cpp's)",
                }
            )
    for name, probe in probes:
        ok, detail = await probe
        check = {"name": f"provider {name}", "ok": ok, "detail": detail}
        if not ok:
            check["fix"] = (
                f"check providers.{name}.base_url in {user_config_path()}, the network or proxy,"
                " and that the server runs"
            )
        checks.append(check)
    tiers = engine.configured_tiers()
    unusable = engine.unusable_tiers()
    detail = "usable: " + (
        ", ".join(["static", *tiers]) if tiers else "static only (docstring, review)"
    )
    if unusable:
        detail += "; " + "; ".join(f"{tier} {why}" for tier, why in unusable.items())
    checks.append(
        {
            "name": "tiers",
            "ok": True,
            "detail": detail,
            "usable": ["static", *tiers],
            "unusable": unusable,
        }
    )
    cache = engine.cache
    if cache is not None:
        stats = cache.stats()
        checks.append(
            {
                "name": "cache",
                "ok": True,
                "detail": f"{stats.entries} answers in {stats.directory}",
                "path": str(stats.directory),
            }
        )
    else:
        checks.append({"name": "cache", "ok": True, "detail": "disabled (cache.enabled = false)"})
    checks += await _shared_checks(engine)
    if engine.config.ledger.enabled:
        ledger = engine.ledger_path
        state = "" if ledger.exists() else " (created on the first request)"
        checks.append(
            {"name": "ledger", "ok": True, "detail": f"{ledger}{state}", "path": str(ledger)}
        )
    else:
        checks.append({"name": "ledger", "ok": True, "detail": "disabled (ledger.enabled = false)"})
    await engine.aclose()
    return checks


async def _shared_checks(engine: Any) -> list[dict[str, Any]]:
    """The shared cache: its secret is set (never printed) and its server answers."""
    settings = engine.config.cache.shared
    if settings.url is None:
        return []
    from tierwise.cache.shared_values import safe_url

    where = f"{safe_url(settings.url)} (team {settings.team})"
    shared = engine.stores.shared
    secret = {"name": "shared cache secret", "ok": shared is not None}
    if shared is None:
        secret["detail"] = engine.stores.shared_off or "off"
        secret["fix"] = (
            f"export the team's secret in {settings.secret_env} in the environment that starts "
            "tierwise (ask whoever set up the team's cache; it is never read from a file)"
        )
        return [secret, {"name": "shared cache", "ok": False, "detail": f"{where}: off"}]
    secret["detail"] = f"{settings.secret_env} is set"
    answer = await shared.ping()
    check: dict[str, Any] = {"name": "shared cache", "ok": isinstance(answer, float)}
    if isinstance(answer, float):
        check["detail"] = f"{where} answered PING in {answer * 1000:.1f} ms"
    else:
        check["detail"] = f"cannot reach {where}: {answer}"
        check["fix"] = (
            "check cache.shared.url in your user config, the network, and that the server "
            "runs; until it answers, tierwise uses this machine's cache and the models"
        )
    return [secret, check]
