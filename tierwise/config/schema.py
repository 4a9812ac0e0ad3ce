"""The settings an editor may set: the settings tree less what only the user file may set.

Derived from the attrs classes in tree.py and the trust rule in layers.py, so that an editor's
settings schema (the VS Code extension's package.json) can be checked against it by a test.
"""

from __future__ import annotations

import typing
from typing import Any

import attrs

from tierwise.config.layers import ADDITIVE_FOR_UNTRUSTED, TRUSTED_ONLY
from tierwise.config.tree import Config
from tierwise.config.validation import ENUMS, defaults_dict

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


@attrs.frozen
class EditorSetting:
    """One editor-settable key: dotted snake_case path, JSON type, default and allowed values."""

    key: str
    json_type: str
    default: Any
    enum: tuple[str, ...] | None = None
    additive: bool = False  # an editor (untrusted) value only adds to the user's list


def _json_type(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        return "array"
    if origin is dict:
        return "object"
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args and origin is not None:  # X | None: the editor leaves it unset instead
        return _json_type(args[0])
    if hint in _JSON_TYPES:
        return _JSON_TYPES[hint]
    raise TypeError(f"no JSON type for {hint!r}")


def _trusted_only(path: tuple[str, ...]) -> bool:
    return any(path[: len(rule)] == rule for rule in TRUSTED_ONLY)


def editor_settings() -> list[EditorSetting]:
    """Every key an editor may set, in the tree's order (tables of tables are walked)."""
    defaults = defaults_dict()
    out: list[EditorSetting] = []

    def walk(cls: type[Any], path: tuple[str, ...], values: dict[str, Any]) -> None:
        hints = typing.get_type_hints(cls)
        for field in attrs.fields(cls):
            here = (*path, field.name)
            if _trusted_only(here):
                continue
            hint = hints[field.name]
            if attrs.has(hint):
                walk(hint, here, values[field.name])
                continue
            out.append(
                EditorSetting(
                    key=".".join(here),
                    json_type=_json_type(hint),
                    default=values[field.name],
                    enum=ENUMS.get(here),
                    additive=here in ADDITIVE_FOR_UNTRUSTED,
                )
            )

    walk(Config, (), defaults)
    return out
