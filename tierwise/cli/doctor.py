"""tierwise doctor: configuration, keys present (never their values), providers reachable."""

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
        checks.append({"name": "config", "ok": True, "detail": names})
        checks += [
            {"name": "config trust", "ok": False, "detail": w, "optional": True} for w in warnings
        ]
        engine = Engine(config, workspace_root=str(root))
    except TierwiseError as exc:
        return [*checks, {"name": "config", "ok": False, "detail": str(exc)}]

    for name, provider in config.providers.items():
        if provider.api_key_env:
            present = bool(os.environ.get(provider.api_key_env, "").strip())
            detail = f"{provider.api_key_env} is {'set' if present else 'not set'}"
            checks.append(
                {"name": f"key {name}", "ok": present, "detail": detail, "optional": True}
            )
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
                }
            )
    for name, probe in probes:
        ok, detail = await probe
        checks.append({"name": f"provider {name}", "ok": ok, "detail": detail})
    tiers = engine.configured_tiers()
    checks.append(
        {
            "name": "tiers",
            "ok": True,
            "detail": "usable: "
            + (", ".join(["static", *tiers]) if tiers else "static only (docstring, review)"),
        }
    )
    cache = engine.cache
    if cache is not None:
        stats = cache.stats()
        checks.append(
            {"name": "cache", "ok": True, "detail": f"{stats.entries} answers in {stats.directory}"}
        )
    await engine.aclose()
    return checks
