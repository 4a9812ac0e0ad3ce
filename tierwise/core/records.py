"""Plain data classes without generated code: equality, repr, hashing, copying and `evolve`
by field, where the fields are the names in the class's `__slots__`, in order.

attrs (and dataclasses) generate and compile `__init__`, `__eq__`, `__repr__` and `__hash__`
for every class at import: about 3.2 M instructions a class, and `tierwise route` imports
some sixty of them (docs/benchmarks.md, pass 5). A class here writes its own `__init__`
(typed, with its defaults) and inherits the rest, computed from `__slots__` when called.
The rule every subclass keeps, checked by tests/unit/test_records.py: `__slots__` lists the
fields in the order of the class's annotations, and `__init__` takes each by that name.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, dataclass_transform

R = TypeVar("R", bound="Record")

# Frozen classes set their fields in `__init__` through this (their own __setattr__ refuses).
setfield = object.__setattr__


class FrozenError(AttributeError):
    """Raised on assignment to a field of a frozen record (as attrs' FrozenInstanceError)."""


class Record:
    """A mutable record: compared by fields, unhashable (as an `attrs.define` class)."""

    __slots__: tuple[str, ...] = ()
    # Reads the fields as a tuple in one C call (operator.attrgetter): equality and hashing are
    # on hot paths (lru_cache keys, comparing parse results), and a getattr loop was 10x slower.
    _fields_of: ClassVar[Callable[[Any], tuple[Any, ...]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names = cls.__dict__.get("__slots__", ())
        if names and "_fields_of" not in cls.__dict__:  # a class may compare fewer fields
            get = operator.attrgetter(*names)
            cls._fields_of = staticmethod(get if len(names) > 1 else lambda r: (get(r),))

    def _values(self) -> tuple[Any, ...]:
        return type(self)._fields_of(self)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickle and copy through __init__ (a frozen record refuses setattr-based state).
        return (_rebuild, (self.__class__, {n: getattr(self, n) for n in self.__slots__}))


# For the type checker only: it reads a subclass's annotations as frozen fields, so an
# assignment to one is an error before it is a FrozenError at run time. Each class still
# writes its own __init__, which the checker takes over the one it would synthesize.
@dataclass_transform(frozen_default=True)
class FrozenRecord(Record):
    """An immutable record: fields cannot be set after `__init__`; hashable by its fields."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((self.__class__, type(self)._fields_of(self)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def _rebuild(cls: type[R], values: dict[str, Any]) -> R:
    return cls(**values)


def fields(cls: type[Record]) -> tuple[str, ...]:
    """The field names of a record class, in order."""
    return tuple(cls.__slots__)


def evolve(record: R, **changes: Any) -> R:
    """A copy of a record with some fields changed (through `__init__`, as `attrs.evolve`)."""
    names = record.__slots__
    unknown = set(changes) - set(names)
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {', '.join(sorted(unknown))}")
    values = {n: changes[n] if n in changes else getattr(record, n) for n in names}
    return record.__class__(**values)


def asdict(record: Record, *, recurse: bool = True) -> dict[str, Any]:
    """A record's fields as a dict (records inside it, in lists, tuples and dicts too, unless
    `recurse` is False), as `attrs.asdict` gives them."""
    if not recurse:
        return {n: getattr(record, n) for n in record.__slots__}
    return {n: _plain(getattr(record, n)) for n in record.__slots__}


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return asdict(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]  # attrs.asdict's default: collections become lists
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value
