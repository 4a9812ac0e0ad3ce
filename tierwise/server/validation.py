"""Client input checked strictly, and described the way a user can act on.

Every InvalidParams message names the field (a JSON path), what was expected and what was got,
with the input cut short: never a Python exception's text, never a megabyte echoed back.
"""

from __future__ import annotations

import enum
import re
import types as pytypes
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import cattrs
from cattrs.cols import (
    homogenous_tuple_structure_factory,
    is_mutable_sequence,
    is_sequence,
    list_structure_factory,
)
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from tierwise.core.errors import clip

__all__ = [
    "MISSING",
    "clip",
    "describe",
    "got",
    "json_type",
    "make_strict",
    "type_name",
    "well_formed",
]

MISSING: Any = object()
_RANGE = re.compile(r"\w+\.(\w+) should be in range \[(-?\d+):(-?\d+)\], but was .*", re.DOTALL)
_MAX_PROBLEMS = 3


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def well_formed(value: Any) -> Any:
    """A JSON value with every lone surrogate in its strings (and keys) replaced by U+FFFD.

    JSON can carry `"\\ud800"`, and an editor's UTF-16 buffer can hold one, but no UTF-8
    encoder, subprocess, SQLite or HTTP body takes it. U+FFFD is one code point and one UTF-16
    unit just like the surrogate it replaces, so every position the client sends still points
    at the same place (a UTF-8 client cannot count a lone surrogate at all).
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, list):
        return [well_formed(v) for v in value]
    if isinstance(value, dict):
        return {well_formed(k): well_formed(v) for k, v in value.items()}
    return value


def json_type(value: Any) -> str:
    """The JSON name of a value's type, with its article: "a string", "an array"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a value"


def got(value: Any) -> str:
    """ "got X" for a message: the JSON type, and the value when it is short enough to help."""
    if value is MISSING:
        return "nothing"
    if isinstance(value, dict | list | tuple) or value is None:
        return json_type(value)
    return f"{json_type(value)} {clip(value, 40)}"


def type_name(kind: Any) -> str:
    """A JSON-level name for a Python type annotation ("an integer", "an array of strings")."""
    if kind is None or kind is type(None):
        return "null"
    simple = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}
    if kind in simple:
        return simple[kind]
    if kind is Any:
        return "any value"
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, pytypes.UnionType):
        if Any in args:
            return "any value"
        if str in args and all(a is str or _str_enum(a) or a is type(None) for a in args):
            args = tuple(a for a in args if not _str_enum(a))  # LSP kinds are open strings
        names = list(dict.fromkeys(type_name(a) for a in args))
        return " or ".join(names)
    if origin is typing.Literal:
        return "one of " + ", ".join(clip(a, 20) for a in args)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return "an object"
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence):
        return "an array" + (f" of {_plural(type_name(args[0]))}" if args else "")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        values = [str(m.value) for m in kind if str(m.value)]
        shown = ", ".join(values[:6]) + (", …" if len(values) > 6 else "")
        return f"one of {shown}"
    if attrs.has(kind):
        return "an object"
    return "a value of another type"


def _str_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, str) and issubclass(kind, enum.Enum)


def _plural(name: str) -> str:
    word = re.sub(r"^(a|an) ", "", name)
    if word.startswith("one of"):
        return f"values that are {word}"
    return " or ".join(part if part.endswith("s") else part + "s" for part in word.split(" or "))


def _strict(kind: type[Any]) -> Callable[[Any, Any], Any]:
    def hook(value: Any, _type: Any) -> Any:
        # bool is an int in Python but not in JSON; an integral float is a fine integer.
        if isinstance(value, bool) and kind is not bool:
            raise TypeError(f"expected {type_name(kind)}, got {got(value)}")
        if kind is float and isinstance(value, int):
            return float(value)
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, kind):
            raise TypeError(f"expected {type_name(kind)}, got {got(value)}")
        return value

    return hook


def _arrays_only(converter: cattrs.Converter) -> Callable[[Any], Callable[[Any, Any], Any]]:
    def factory(kind: Any) -> Callable[[Any, Any], Any]:
        # The same factories cattrs picks for these types, behind a JSON type check.
        base = (
            list_structure_factory(kind, converter)
            if is_mutable_sequence(kind)
            else homogenous_tuple_structure_factory(kind, converter)
        )

        def hook(value: Any, cl: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise TypeError(f"expected {type_name(kind)}, got {got(value)}")
            return base(value, cl)

        return hook

    return factory


def make_strict(converter: cattrs.Converter) -> cattrs.Converter:
    """Reject wrong JSON types for strings, numbers, booleans and arrays (in place).

    cattrs' defaults call str(), int() or bool() on anything and iterate any iterable: `5`
    becomes the string "5", `"no"` becomes True and `"refactor"` the array of its letters, so a
    client's bug would become a silent wrong answer.
    """
    for kind in (str, int, float, bool):
        converter.register_structure_hook(kind, _strict(kind))
    converter.register_structure_hook_factory(is_sequence, _arrays_only(converter))
    return converter


def describe(exc: BaseException, path: str = "$", value: Any = MISSING) -> str:
    """A validation error as "path: expected X, got Y" phrases (the first few)."""
    problems = list(_walk(exc, path, value))
    shown = "; ".join(problems[:_MAX_PROBLEMS])
    more = len(problems) - _MAX_PROBLEMS
    return shown + (f"; and {more} more" if more > 0 else "")


def _walk(exc: BaseException, path: str, value: Any) -> Iterator[str]:
    if isinstance(exc, IterableValidationError):
        with_notes, without = exc.group_exceptions()
        for sub, note in with_notes:
            index = note.index
            child = _child(value, index)
            yield from _walk_or_leaf(sub, f"{path}[{clip(index, 20)}]", child, note.type)
        for sub in without:
            yield _leaf(sub, path, value, None)
    elif isinstance(exc, ClassValidationError):
        fields, rest = exc.group_exceptions()
        camel = getattr(exc.cl, "__module__", "").startswith("lsprotocol")
        for sub, field in fields:
            key = _key(value, field.name, camel)
            yield from _walk_or_leaf(sub, f"{path}.{key}", _child(value, key), field.type)
        for sub in rest:
            yield _leaf(sub, path, value, getattr(exc, "cl", None))
    else:
        yield _leaf(exc, path, value, None)


def _walk_or_leaf(exc: BaseException, path: str, value: Any, kind: Any) -> Iterator[str]:
    if isinstance(exc, ClassValidationError | IterableValidationError):
        yield from _walk(exc, path, value)
    else:
        yield _leaf(exc, path, value, kind)


def _key(value: Any, name: str, camel: bool) -> str:
    """The JSON key of an attribute: as the client sent it, else the form the LSP uses."""
    as_camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
    if isinstance(value, dict):
        for candidate in (name, as_camel):
            if candidate in value:
                return candidate
    return as_camel if camel else name


def _child(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        return value.get(key, MISSING)
    if isinstance(value, list | tuple) and isinstance(key, int) and -len(value) <= key < len(value):
        return value[key]
    return MISSING


def _leaf(exc: BaseException, path: str, value: Any, kind: Any) -> str:
    if isinstance(exc, KeyError):
        return f"{path}: required key missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        extra = sorted(exc.extra_fields)
        shown = ", ".join(clip(k, 30).strip("'") for k in extra[:5])
        return f"{path}: unknown key(s) {shown}" + (
            f" and {len(extra) - 5} more" if len(extra) > 5 else ""
        )
    message = str(exc)
    if message.startswith("expected "):
        return f"{path}: {message}"  # from the strict hooks: already says what and what
    bounds = _RANGE.fullmatch(message)
    if bounds is not None:  # lsprotocol's validators for LSP integers
        name, low, high = bounds.groups()
        key = _key(value, name, camel=True)
        return (
            f"{path}.{key}: expected an integer from {low} to {high}, got {got(_child(value, key))}"
        )
    if kind is not None and not (isinstance(kind, type) and attrs.has(kind)):
        return f"{path}: expected {type_name(kind)}, got {got(value)}"
    if kind is not None or isinstance(exc, AttributeError | TypeError):
        return f"{path}: expected an object, got {got(value)}"
    return f"{path}: not a valid value ({got(value)})"
