"""The settings an editor may set: the settings tree less what only the user file may set.

Derived from the record classes in tree.py and the trust rule in layers.py, so that an editor's
settings schema (the VS Code extension's package.json) can be checked against it by a test.
"""

from __future__ import annotations

from typing import Any

import attrs

from tierwise.config.layers import ADDITIVE_FOR_UNTRUSTED, TRUSTED_ONLY
from tierwise.config.loader import Kind, record_fields
from tierwise.config.tree import Config
from tierwise.config.validation import ENUMS, defaults_dict

_JSON_TYPES = {"bool": "boolean", "int": "integer", "float": "number", "str": "string"}


@attrs.frozen
class EditorSetting:
    """One editor-settable key: dotted snake_case path, JSON type, default and allowed values."""

    key: str
    json_type: str
    default: Any
    enum: tuple[str, ...] | None = None
    additive: bool = False  # an editor (untrusted) value only adds to the user's list


def _json_type(kind: Kind) -> str:
    tag, arg, name = kind
    if tag == "list":
        return "array"
    if tag == "dict":
        return "object"
    if tag == "optional":  # X | None: the editor leaves it unset instead
        return _json_type(arg)
    if tag == "scalar":
        return _JSON_TYPES[name]
    raise TypeError(f"no JSON type for {name}")


def _trusted_only(path: tuple[str, ...]) -> bool:
    return any(path[: len(rule)] == rule for rule in TRUSTED_ONLY)


def editor_settings() -> list[EditorSetting]:
    """Every key an editor may set, in the tree's order (tables of tables are walked)."""
    defaults = defaults_dict()
    out: list[EditorSetting] = []

    def walk(cls: type[Any], path: tuple[str, ...], values: dict[str, Any]) -> None:
        for name, kind, _ in record_fields(cls):
            here = (*path, name)
            if _trusted_only(here):
                continue
            if kind[0] == "record":
                walk(kind[1], here, values[name])
                continue
            out.append(
                EditorSetting(
                    key=".".join(here),
                    json_type=_json_type(kind),
                    default=values[name],
                    enum=ENUMS.get(here),
                    additive=here in ADDITIVE_FOR_UNTRUSTED,
                )
            )

    walk(Config, (), defaults)
    return out
