"""What the parse child process runs (engine/apart.py starts it): a full parse of a big file,
pickled, without its calls and names (context/lazy.py). It lives in `context`, not next to
`ApartParser` in `engine`, so that the child imports only the parser (0.11 s and 14 MB; the
engine package is 0.26 s and 23 MB), on the way to the first big file's answer.
"""

from __future__ import annotations

import io
import operator
import threading
from collections.abc import Callable
from typing import Any

from tierwise.context import lazy, python
from tierwise.context.languages import (
    Call,
    Definition,
    Import,
    ParsedFile,
    language_for,
    split_lines,
)
from tierwise.context.source import gc_paused, load
from tierwise.core.code import DocSlot, Span
from tierwise.core.records import FrozenRecord

# The child's last tree, freed a moment after its answer has left (see parse_in_child).
_KEPT: list[object] = []
FREE_AFTER_S = 0.5

# The records a parse is made of, pickled as their class and field values in order (their
# `__init__` takes them so) instead of a dict of field names each: a third less to pickle,
# send and unpickle (1.1 MB instead of 1.6 MB for a 1 MB module), in half the time.
_PARSE_RECORDS = (ParsedFile, Definition, Import, Call, Span, DocSlot)
_VALUES: dict[type, Callable[[Any], Any]] = {
    cls: operator.attrgetter(*cls.__slots__) for cls in _PARSE_RECORDS
}


def _positional(record: FrozenRecord) -> tuple[type, tuple[Any, ...]]:
    """How the pickler writes one of `_PARSE_RECORDS`: its class, called with its fields."""
    return type(record), _VALUES[type(record)](record)


def parse_in_child(path: str, source: str, lazy_from: int = lazy.LAZY_CHARS) -> bytes:
    """What the child process runs: the parse and its backend, pickled (the text is not sent
    back; the caller unpickles it with the garbage collector paused, as the parse ran). A
    Python text of `lazy_from` characters or more is parsed without its calls and names.

    Freeing the tree of a 1 MB module (hundreds of thousands of nodes) takes a quarter of a
    second, so it is not done before the answer is sent but a moment later, in a thread.
    """
    import pickle  # here: `tierwise route` imports this module and never needs pickle

    with gc_paused():
        tree = python.parse_tree(source) if language_for(path) == "python" else None
        if tree is not None:
            build = lazy.build_lazy if len(source) >= lazy_from else python.build
            parsed, backend = build(tree, split_lines(source)), "python"
        else:
            file = load(path, source)
            parsed, backend = file.parsed, file.backend
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = {cls: _positional for cls in _PARSE_RECORDS}
        pickler.dump((parsed, backend))
        data = buffer.getvalue()
    if tree is not None:
        _KEPT.append(tree)
        del tree
        timer = threading.Timer(FREE_AFTER_S, _KEPT.clear)
        timer.daemon = True
        timer.start()
    return data
