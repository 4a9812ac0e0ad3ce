"""Plain data (merged TOML or editor JSON) to the settings tree and back, by the annotations of
the record classes in tree.py.

This replaces cattrs for the config: importing cattrs and generating its structuring functions
for fifteen classes was 125 M instructions on every command that read a config file, about a
fifth of a `tierwise route` (docs/benchmarks.md, pass 5). Its messages are cattrs' ("<what> @
<path>", in its order: tests/unit/test_config_loader.py compares the two on a corpus of files),
but not its conversions: cattrs ran `bool(value)`, `int(value)`, `str(value)` and `list(value)`,
so `enabled = "no"` read as true, `exclude = "secrets/*"` became nine one-letter patterns (and
excluded nothing), and `max_file_bytes = 3.7` became 3. A value of the wrong type is refused
here, naming the key: a bool is only a bool, an int an int (or a float with no fraction, as an
editor's JSON may send it, never a bool), a float an int or float, text only text (or a TOML
date, as its ISO text), a list only a list.
"""

from __future__ import annotations

from datetime import date as _date
from datetime import time as _time
from typing import Any

from tierwise.config import tree
from tierwise.core.records import Record

# A field's kind: ("scalar", convert), ("optional", kind), ("list", kind), ("dict", kind) or
# ("record", class); with it, the type's name as cattrs' messages print it.
Kind = tuple[str, Any, str]


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"not a bool: {type(value).__name__}")


def _int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        raise ValueError(f"not a whole number: {value!r}")
    raise TypeError(f"not an int: {type(value).__name__}")


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"not a number: {type(value).__name__}")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, _date | _time):  # TOML's unquoted `as_of = 2026-11-22`
        return str(value)
    raise TypeError(f"not text: {type(value).__name__}")


_SCALARS: dict[str, Any] = {"int": _int, "float": _float, "str": _str, "bool": _bool}
_MISSING = object()


class _Fail(Exception):
    """An error cattrs would have let escape the structuring of a table to its parent."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _kind(text: str) -> Kind:
    """The kind of an annotation as written in tree.py ("list[str]", "float | None", ...)."""
    if text.endswith(" | None"):
        return ("optional", _kind(text[: -len(" | None")]), text)
    if text.startswith("list[") and text.endswith("]"):
        return ("list", _kind(text[5:-1]), "list")
    if text.startswith("dict[str, ") and text.endswith("]"):
        return ("dict", _kind(text[10:-1]), "dict")
    if text in _SCALARS:
        return ("scalar", _SCALARS[text], text)
    cls = getattr(tree, text)
    return ("record", cls, cls.__name__)


_FIELDS: dict[type[Record], tuple[tuple[str, Kind, bool], ...]] = {}


def record_fields(cls: type[Record]) -> tuple[tuple[str, Kind, bool], ...]:
    """(name, kind, required) of each field of a settings class, in order."""
    known = _FIELDS.get(cls)
    if known is None:
        known = _FIELDS[cls] = _read_fields(cls)
    return known


def _read_fields(cls: type[Record]) -> tuple[tuple[str, Kind, bool], ...]:
    # Not inspect.get_annotations: importing inspect costs more than this whole module.
    annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    init: Any = cls.__dict__["__init__"]
    params = init.__code__.co_varnames[1 : init.__code__.co_argcount]
    required = set(params[: len(params) - len(init.__defaults__ or ())])
    return tuple((name, _kind(annotations[name]), name in required) for name in cls.__slots__)


def describe(error: BaseException, type_name: str | None) -> str:
    """What went wrong, in the words of cattrs.v.format_exception."""
    if isinstance(error, KeyError):
        return "required field missing"
    if isinstance(error, ValueError):
        return f"invalid value for type, expected {type_name}" if type_name else "invalid value"
    if isinstance(error, TypeError):
        if type_name is not None:
            return f"invalid value for type, expected {type_name}"
        if str(error).endswith("object is not iterable"):
            return "invalid value for type, expected an iterable"
        return f"invalid type ({error})"
    if isinstance(error, AttributeError) and str(error).endswith("object has no attribute 'items'"):
        return "expected a mapping"
    return f"unknown error ({error})"


def _value(value: Any, kind: Kind, path: str, errors: list[str]) -> Any:
    """Structure one value; a problem inside it is added to `errors` (and _MISSING returned),
    or raised as _Fail when cattrs would have given up on the enclosing value instead."""
    tag, arg, _ = kind
    if tag == "scalar":
        return arg(value)  # its exceptions are reported by the caller, with the type's name
    if tag == "optional":
        return None if value is None else _value(value, arg, path, errors)
    if tag == "record":
        return _record(value, arg, path, errors)
    if tag == "list":
        if not isinstance(value, list | tuple):  # text would be a list of its letters
            raise TypeError(f"not a list: {type(value).__name__}")
        items = iter(value)
        out: list[Any] = []
        failed = False
        for i, item in enumerate(items):
            got = _item(item, arg, f"{path}[{i!r}]", errors)
            failed = failed or got is _MISSING
            out.append(got)
        return _MISSING if failed else out
    pairs = value.items()  # not a mapping: the caller reports "expected a mapping"
    table: dict[str, Any] = {}
    failed = False
    for key, item in pairs:
        got = _item(item, arg, f"{path}[{key!r}]", errors)
        failed = failed or got is _MISSING
        table[str(key)] = got
    return _MISSING if failed else table


def _item(value: Any, kind: Kind, path: str, errors: list[str]) -> Any:
    """Structure one field, list item or table value, reporting what fails at its path."""
    try:
        return _value(value, kind, path, errors)
    except _Fail as fail:
        errors.append(f"{describe(fail.error, kind[2])} @ {path}")
    except Exception as exc:  # what cattrs' per-field `except Exception` caught
        errors.append(f"{describe(exc, kind[2])} @ {path}")
    return _MISSING


def _record(data: Any, cls: type[Record], path: str, errors: list[str]) -> Any:
    """Structure a table into a settings class, as cattrs' generated function for it did."""
    specs = record_fields(cls)
    if not isinstance(data, dict):
        # cattrs looked a first optional key up with `in` (a TypeError for a number, a bool,
        # None or a date) and then asked for `.keys()` (an AttributeError for text or a list).
        optional = [name for name, _, required in specs if not required]
        try:
            optional[0] in data  # noqa: B015
        except TypeError as exc:
            raise _Fail(exc) from None
        raise _Fail(AttributeError(f"'{type(data).__name__}' object has no attribute 'keys'"))
    values: dict[str, Any] = {}
    failed = False
    for name, kind, required in specs:
        here = f"{path}.{name}"
        if name not in data:
            if required:
                errors.append(f"required field missing @ {here}")
                failed = True
            continue
        got = _item(data[name], kind, here, errors)
        failed = failed or got is _MISSING
        values[name] = got
    unknown = set(data) - {name for name, _, _ in specs}
    if unknown:
        errors.append(f"extra fields found ({', '.join(sorted(unknown))}) @ {path}")
        failed = True
    return _MISSING if failed else cls(**values)


def structure(data: dict[str, Any]) -> tuple[tree.Config | None, list[str]]:
    """(the Config, []) from merged plain data, or (None, every problem as "what @ $.path")."""
    errors: list[str] = []
    try:
        config = _record(data, tree.Config, "$", errors)
    except _Fail as fail:
        return None, [f"{describe(fail.error, None)} @ $"]
    return (None, errors) if errors else (config, [])


def unstructure(value: Any) -> Any:
    """A settings value as plain data: records as tables, lists and tables copied."""
    if isinstance(value, Record):
        return {name: unstructure(getattr(value, name)) for name in value.__slots__}
    if isinstance(value, list):
        return [unstructure(v) for v in value]
    if isinstance(value, dict):
        return {k: unstructure(v) for k, v in value.items()}
    return value
