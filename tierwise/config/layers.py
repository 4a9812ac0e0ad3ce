"""The configuration layers: built-in defaults, the user file (trusted), the workspace file
(untrusted), merged in order, with the trust rule that keeps endpoints and keys with the user."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tierwise.config.paths import user_config_path
from tierwise.config.tree import Config
from tierwise.config.validation import defaults_dict, structure_config
from tierwise.core.errors import ConfigError
from tierwise.core.records import FrozenRecord, setfield

# Keys that only the user's own config file may set: endpoints, key variables, prices and where
# files are written. A cloned repository must never redirect code or keys to another server.
TRUSTED_ONLY: tuple[tuple[str, ...], ...] = (
    ("providers",),
    ("models",),
    ("cache", "dir"),
    # The team's server, namespace, secret variable and budget: a cloned repository must never
    # send answers (or spend counters) to a server of its choosing.
    ("cache", "shared"),
    ("budget", "team"),
    ("ledger",),
    ("privacy", "redact"),
    # A repository must not lift the bounds that keep the server answering.
    ("server", "max_file_bytes"),
    ("server", "work_timeout_s"),
    # Learned from this user's own ledger (`tierwise tune --apply`): a repository must not
    # move its own code to cheaper tiers.
    ("routing", "overrides"),
)
# Untrusted layers may only add to these lists, so a repository cannot un-exclude `.env`.
ADDITIVE_FOR_UNTRUSTED: tuple[tuple[str, ...], ...] = (
    ("privacy", "exclude"),
    ("privacy", "local_only"),
)

# Bounds on what any configuration source may hold. A prompt addition is paid on every request
# of its action, so the limit for a workspace file (which a cloned repository controls) is about
# 500 tokens; the user's own file may say more. A settings file is small, and tierwise's
# settings nest four tables deep at most (tiers.budget.models, routing.signals.large_lines).
MAX_UNTRUSTED_PROMPT_CHARS = 2_000
MAX_PROMPT_CHARS = 32_000
MAX_CONFIG_BYTES = 1_048_576
MAX_DEPTH = 8


class Layer(FrozenRecord):
    """One configuration source: its name for messages (usually a path), its data, its trust."""

    __slots__ = ("name", "data", "trusted")
    name: str
    data: dict[str, Any]
    trusted: bool

    def __init__(self, name: str, data: dict[str, Any], trusted: bool) -> None:
        setfield(self, "name", name)
        setfield(self, "data", data)
        setfield(self, "trusted", trusted)


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


def _cap_prompts(layer: Layer, data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Refuse prompt additions past the layer's bound: a workspace file's with a warning (the
    rest of the file still applies), the user's own with a ConfigError."""
    prompts = data.get("prompts")
    if not isinstance(prompts, dict):
        return data, []
    limit = MAX_PROMPT_CHARS if layer.trusted else MAX_UNTRUSTED_PROMPT_CHARS
    kept: dict[str, Any] = {}
    warnings: list[str] = []
    for action, text in prompts.items():
        size = len(text) if isinstance(text, str) else 0
        if size <= limit:
            kept[action] = text
            continue
        message = (
            f"{layer.name}: prompts.{action} is {size:,} characters (about {size // 4:,} tokens "
            f"added to every {action} request); "
        )
        if layer.trusted:
            raise ConfigError(message + f"the limit is {limit:,} characters")
        warnings.append(
            message + f"a workspace file may add at most {limit:,}: ignored. Longer "
            f"instructions belong in your user config ({user_config_path()})"
        )
    return {**data, "prompts": kept}, warnings


def _depth(value: Any) -> tuple[int, str]:
    """How deep tables and arrays nest in `value` (counted up to MAX_DEPTH + 1, without
    recursion: editor settings arrive as JSON of any depth), and the key path where."""
    stack: list[tuple[Any, int, str]] = [(value, 0, "")]
    deepest, where = 0, ""
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in node.items()]
        elif isinstance(node, list):
            items = [(f"{path}[{i}]", v) for i, v in enumerate(node)]
        else:
            continue
        if depth + 1 > deepest:
            deepest, where = depth + 1, path
        if depth + 1 > MAX_DEPTH:
            break
        stack.extend((child, depth + 1, key) for key, child in items)
    return deepest, where


def check_depth(layer: Layer) -> None:
    """Refuse a layer whose tables or arrays nest deeper than any tierwise setting does."""
    depth, where = _depth(layer.data)
    if depth > MAX_DEPTH:
        raise ConfigError(
            f"{layer.name}: nests more than {MAX_DEPTH} levels deep (at {where[:80]}…); "
            f"tierwise settings nest {MAX_DEPTH} at most"
        )


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
                "file locations, redaction and the shared cache come only from your user config "
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
    if not layers:
        # No file: the defaults as they are, without a walk over plain data.
        return Config(), []
    merged = defaults_dict()
    warnings: list[str] = []
    config = Config()
    for layer in layers:
        if not isinstance(layer.data, dict):
            raise ConfigError(f"{layer.name}: expected a table of settings")
        check_depth(layer)
        data, refused = (layer.data, []) if layer.trusted else _strip_untrusted(layer)
        data, too_long = _cap_prompts(layer, data)
        warnings.extend(refused + too_long)
        additive = () if layer.trusted else ADDITIVE_FOR_UNTRUSTED
        merged = deep_merge(merged, data, additive=additive)
        # Validating after every layer pins an error on the layer that introduced it.
        config = structure_config(merged, layer.name)
    return config, warnings


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, raising ConfigError with the path and the parser's line and column.

    A file over MAX_CONFIG_BYTES is refused before it is read, and one nested so deeply that the
    parser would run out of stack is an error too, not a crash.
    """
    import tomllib

    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)
            if len(data) > MAX_CONFIG_BYTES:
                size = path.stat().st_size
                raise ConfigError(
                    f"{path}: {size / 1_048_576:.1f} MB is more than the "
                    f"{MAX_CONFIG_BYTES // 1_048_576} MB a configuration file may hold"
                )
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables nest too deeply to read") from None
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
