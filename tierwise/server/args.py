"""Command arguments as attrs classes, and their strict conversion with precise messages.

pygls converts command arguments by annotation but accepts `5` for a string and `"no"` for a
boolean, and reports "While structuring RunArgs (1 sub-exception)". These converters reject
wrong JSON types and unknown keys and say which key is wrong, so a client bug is visible.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import cattrs
from lsprotocol import types

from tierwise.core.errors import UsageError
from tierwise.server.validation import describe, got, make_strict, type_name


@attrs.define
class RunArgs:
    """tierwise.run: an action at a position or on a range, optionally on a given tier."""

    action: str
    uri: str
    range: types.Range | None = None
    position: types.Position | None = None
    tier: str | None = None
    refresh: bool = False


@attrs.define
class RouteArgs:
    """tierwise.route: preview the decision for an action at a position or on a range."""

    action: str
    uri: str
    range: types.Range | None = None
    position: types.Position | None = None
    tier: str | None = None


@attrs.define
class SetTierArgs:
    """tierwise.setTier: the sticky session tier; "auto" clears it."""

    tier: str


@attrs.define
class EscalateArgs:
    """tierwise.escalate: re-run the last action (on this document, else the last one) a tier up."""

    uri: str | None = None


@attrs.define
class PickNameArgs:
    """tierwise.applyRename: rename the symbol at a position to a chosen candidate.

    For clients with their own name picker (they declare experimental.tierwise.pickName).
    """

    uri: str
    position: types.Position
    name: str


@attrs.define
class FixChosenArgs:
    """tierwise.fixChosen: a review quick fix the editor applied (the command the fix carries)."""

    uri: str
    request: int  # the review's ledger row
    fix: int  # the finding's number in that review


def strict_converter() -> cattrs.Converter:
    """A converter for command arguments that rejects wrong JSON types and unknown keys."""
    # Not a copy of lsprotocol's converter: its attrs hook factory closes over the original
    # converter, so hooks registered on a copy would never be used for nested fields.
    return make_strict(cattrs.Converter(forbid_extra_keys=True))


def _fields(kind: Any) -> str:
    """An argument's keys as a hint: "{action, uri, …}"."""
    kinds = [k for k in typing.get_args(kind) if k is not type(None)] or [kind]
    if attrs.has(kinds[0]):
        return "{" + ", ".join(f.name for f in attrs.fields(kinds[0])) + "}"
    return type_name(kind)


def prepare_arguments(
    command: str,
    handler: Callable[..., Any],
    arguments: Sequence[Any] | None,
    converter: cattrs.Converter,
) -> list[Any]:
    """Convert a command's JSON arguments by the handler's annotations (after the server).

    Raises UsageError naming the command, the argument and the key when they do not fit.
    """
    target = getattr(handler, "func", handler)
    hints = typing.get_type_hints(target)
    params = list(inspect.signature(target).parameters.values())[1:]  # the server comes first
    values = list(arguments or [])
    if len(values) > len(params):
        if not params:
            raise UsageError(f"{command} takes no arguments, got {len(values)}")
        raise UsageError(
            f"{command} takes {len(params)} argument(s), got {len(values)}: pass one object "
            + " ".join(_fields(hints.get(p.name)) for p in params)
        )
    out: list[Any] = []
    for i, param in enumerate(params):
        kind = hints.get(param.name, Any)
        if i >= len(values):
            if param.default is inspect.Parameter.empty:
                raise UsageError(f"{command} needs an argument object {_fields(kind)}")
            break
        value = values[i]
        if value is None and param.default is not inspect.Parameter.empty:
            out.append(param.default)
            continue
        if attrs.has(kind) and not isinstance(value, dict):
            raise UsageError(
                f"{command}: argument {i + 1} must be an object {_fields(kind)}, got {got(value)}"
            )
        try:
            out.append(converter.structure(value, kind))
        except Exception as exc:
            raise UsageError(f"{command}: {describe(exc, 'argument', value)}") from None
    return out
