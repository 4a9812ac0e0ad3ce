"""`tierwise plan`'s walk (context/plan_walk.py) gives what the full walk gives, on real code.

The plan's walk keeps only the names an import of the file binds and steps through nodes that
hold one child; everything else must be the full walk's: the definitions (every detail), the
imports, the calls in the same order, and each of those names as often. And every context a
plan extracts from it (the fitted imports, enclosing signatures, callees, helpers and called
names) must equal the one extracted from the full load, at a budget that takes every item and
at one small enough to refuse some. Compared on flask, requests, Django's ORM and a spread of
the rest of Django, and on a corner file written to exercise each stepped-through node.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests import realcode
from tierwise.context import plan_walk
from tierwise.context.extract import extract_all, load
from tierwise.core.records import evolve
from tierwise.routing.signals import file_signals

BUDGETS = (2000, 120)

CORNERS = '''
import os
import os.path as osp
from typing import TYPE_CHECKING
try:
    import json
except ImportError:  # pragma: no cover
    json = None
if TYPE_CHECKING:
    from collections.abc import Iterator

def deco(f):
    return f

@deco
@os.fspath
def annotated(a: os.PathLike = osp.sep, *rest: "Iterator", **kw: json.JSONDecoder) -> osp:
    """Doc."""
    global os
    return (yield from json.loads(a))

class Outer(osp.Base, metaclass=json.Meta):
    attr: os.PathLike = -os.sep
    def method(self, x):
        lam = lambda y: (_ for _ in ()).throw(ValueError(os.sep))
        if (n := len(x)) > 1:
            raise os.error(n) from json.JSONDecodeError
        self.other(*x, key=osp.join(*[os.sep for _ in x]))
        return not os.sep, await_it

    def other(self, *a, **k):
        [f"{os.sep!r:>{len(a)}}" for a in a if a]
        {k: v for k, v in k.items()}
        print(*a, **{"x": osp})
        return self.method(a)

    class Inner:
        def deep(self):
            match os.name:
                case "nt" | "posix" as which if json:
                    return which
                case osp.Thing(x=1):
                    raise
                case [first, *others]:
                    return first, others
                case {"k": value, **rest}:
                    return value, rest

async def coroutine(items):
    async with os.lock() as held, osp.other():
        async for item in items:
            await json.dump(item)
            yield item
    try:
        del os.environ[held]
    except (OSError, json.JSONDecodeError) as error:
        raise RuntimeError(error) from None
    finally:
        assert osp.exists(items), os.sep
    with open(os.devnull) as f:
        f.write(not os)
    return os if items else osp
'''


def _files() -> list[Path]:
    django = realcode.sdist("django")
    spread = sorted((django / "django").rglob("*.py"))[::17]
    files = [
        *sorted((realcode.sdist("flask") / "src").rglob("*.py")),
        *sorted((realcode.sdist("requests") / "src").rglob("*.py")),
        *sorted((django / "django" / "db").rglob("*.py")),
        *spread,
        *sorted((django / "tests").rglob("*.py"))[::41],
    ]
    return list(dict.fromkeys(files))


def _same(path: str, source: str) -> None:
    full = load(path, source)
    fast = plan_walk.load_for_plan(path, source)
    assert fast.backend == full.backend
    if full.backend != "python":
        assert fast.parsed == full.parsed, path
        return
    # Everything but the names is the full walk's, in the same order.
    assert evolve(fast.parsed, names=()) == evolve(full.parsed, names=()), path
    bound = {name for found in full.parsed.imports for name, _ in found.bindings}
    assert Counter(fast.parsed.names) == Counter(n for n in full.parsed.names if n[0] in bound)
    for budget in BUDGETS:
        fast_contexts = extract_all(path, source, budget_tokens=budget, parsed=fast)
        full_contexts = extract_all(path, source, budget_tokens=budget, parsed=full)
        assert fast_contexts == full_contexts, (path, budget)
    assert file_signals(fast_contexts, fast.lines) == file_signals(full_contexts, full.lines)


def test_plan_walk_equals_the_full_walk_on_real_code() -> None:
    files = _files()
    assert len(files) > 150
    used = 0
    for path in files:
        source = path.read_text(encoding="utf-8")
        _same(str(path), source)
        used += any(name in source for name in ("import ",))
    assert used > 100  # files whose targets use imports: the names the plan keeps


def test_plan_walk_corners() -> None:
    _same("corners.py", CORNERS)
    fast = plan_walk.load_for_plan("corners.py", CORNERS)
    kept = {name for name, _, _ in fast.parsed.names}
    assert kept == {"os", "osp", "json", "TYPE_CHECKING"}
    # A name bound by no import is not kept, wherever it is.
    assert "self" not in kept and "items" not in kept


@pytest.mark.parametrize("source", ["def f(:\n    pass\n", "", "x = 1\n", "\x00"])
def test_plan_walk_of_what_does_not_parse_or_holds_nothing(source: str) -> None:
    _same("odd.py", source)
