"""package.json's settings and the server's editor-settable settings stay in step.

The server side comes from the settings tree itself (tierwise.config.schema), so a key added
on either side without the other fails here (after ruff-vscode's tests/client/package_json.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tierwise.config import TRUSTED_ONLY, Config, Layer, build_config
from tierwise.config.schema import EditorSetting, editor_settings
from tierwise.server.settings import editor_settings as from_editor

PACKAGE = Path(__file__).resolve().parents[1] / "vscode-client" / "package.json"
EXTENSION_SECTION = "tierwise-extension"


def _sections() -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = json.loads(PACKAGE.read_text(encoding="utf-8"))["contributes"][
        "configuration"
    ]
    return sections


def _contributed(extension: bool) -> dict[str, dict[str, Any]]:
    """Contributed properties by key relative to "tierwise." (camelCase, as contributed)."""
    out: dict[str, dict[str, Any]] = {}
    for section in _sections():
        if (section.get("id") == EXTENSION_SECTION) == extension:
            for key, prop in section["properties"].items():
                assert key.startswith("tierwise."), key
                out[key.removeprefix("tierwise.")] = prop
    return out


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    head, _, rest = dotted.partition(".")
    return {head: _nest(rest, value) if rest else value}


def _flatten(data: dict[str, Any], prefix: str = "") -> str:
    (key, value) = next(iter(data.items()))
    return _flatten(value, f"{prefix}{key}.") if isinstance(value, dict) and value else prefix + key


def _server_key(contributed: str) -> str:
    """The snake_case key the server reads for a contributed camelCase key (its own rule)."""
    converted = from_editor(_nest(contributed, 1))
    assert isinstance(converted, dict)
    return _flatten(converted)


@pytest.fixture(scope="module")
def server() -> dict[str, EditorSetting]:
    return {s.key: s for s in editor_settings()}


@pytest.fixture(scope="module")
def contributed() -> dict[str, dict[str, Any]]:
    return {_server_key(k): v for k, v in _contributed(extension=False).items()}


def test_every_server_setting_is_contributed_and_nothing_else(
    server: dict[str, EditorSetting], contributed: dict[str, dict[str, Any]]
) -> None:
    missing = sorted(set(server) - set(contributed))
    unknown = sorted(set(contributed) - set(server))
    assert not missing, f"server settings missing from package.json: {missing}"
    assert not unknown, f"package.json settings the server does not accept: {unknown}"


def test_defaults_types_and_enums_match(
    server: dict[str, EditorSetting], contributed: dict[str, dict[str, Any]]
) -> None:
    for key, setting in server.items():
        prop = contributed[key]
        assert prop["default"] == setting.default, key
        assert prop["type"] == setting.json_type, key
        assert prop.get("enum") == (list(setting.enum) if setting.enum else None), key
        assert prop.get("markdownDescription") or prop.get("description"), f"{key}: no description"
        if setting.additive:
            assert "only add" in prop["markdownDescription"], f"{key}: say it only adds"


def test_no_trusted_only_setting_is_offered() -> None:
    contributed = {_server_key(k) for k in _contributed(extension=False)}
    for path in TRUSTED_ONLY:
        prefix = ".".join(path)
        assert not [k for k in contributed if k == prefix or k.startswith(prefix + ".")], prefix


def test_the_server_accepts_every_contributed_default_as_editor_settings() -> None:
    """All defaults sent as VS Code would name them: no unknown key, nothing refused, no change."""
    nested: dict[str, Any] = {}
    for key, prop in _contributed(extension=False).items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = prop["default"]
    data = from_editor({"tierwise": nested})
    assert isinstance(data, dict)
    config, warnings = build_config([Layer("workspace/configuration (tierwise)", data, False)])
    assert warnings == []
    assert config == Config()


def test_extension_only_settings_are_not_server_settings(server: dict[str, EditorSetting]) -> None:
    extension = _contributed(extension=True)
    assert sorted(extension) == ["interpreter", "server.path", "trace.server"]
    for key in extension:
        assert _server_key(key) not in server, key
    manifest = json.loads(PACKAGE.read_text(encoding="utf-8"))
    restricted = manifest["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"]
    assert sorted(restricted) == ["tierwise.interpreter", "tierwise.server.path"]
    assert manifest["capabilities"]["untrustedWorkspaces"]["supported"] == "limited"
