"""The configuration layers: built-in defaults, the user file (trusted), the workspace file
(untrusted), merged in order, with the trust rule that keeps endpoints and keys with the user."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from tierwise.config.paths import user_config_path
from tierwise.config.tree import Config
from tierwise.config.validation import defaults_dict, structure_config
from tierwise.core.errors import ConfigError

# Keys that only the user's own config file may set: endpoints, key variables, prices and where
# files are written. A cloned repository must never redirect code or keys to another server.
TRUSTED_ONLY: tuple[tuple[str, ...], ...] = (
    ("providers",),
    ("models",),
    ("cache", "dir"),
    ("ledger",),
    ("privacy", "redact"),
    # A repository must not lift the bounds that keep the server answering.
    ("server", "max_file_bytes"),
    ("server", "work_timeout_s"),
)
# Untrusted layers may only add to these lists, so a repository cannot un-exclude `.env`.
ADDITIVE_FOR_UNTRUSTED: tuple[tuple[str, ...], ...] = (
    ("privacy", "exclude"),
    ("privacy", "local_only"),
)


@attrs.frozen
class Layer:
    """One configuration source: its name for messages (usually a path), its data, its trust."""

    name: str
    data: dict[str, Any]
    trusted: bool


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
        config = structure_config(merged, layer.name)
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
