"""`signals.file_signals` reads each file's lex once, into tables (routing/file_risks.py's
`FileRisks`, context/metrics.py's `PythonLines`), and gives every target the signals that
`compute_signals` gives it alone: risk evidence with the same first evidence for each
category, the same decisions, body lines and nesting. Compared target by target on all of
flask and requests, every third file of Django (sorted, so the same files each run),
express, and corners real packages rarely hold.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import realcode
from tierwise.context import extract
from tierwise.routing import signals

# Each corner holds what one of the tables reads across lines or ranges: a join whose root
# is on the next line (inside a target, and past its end in a file that does not parse), a
# mention whose attribute is on the next line, definitions nested in a function (the first
# def adds no level alone), a method under an `if` of its class, a class whose methods and
# own lines hold different first evidence, a helper that deletes, a loader, a write mode, a
# currency code, a `..` segment, goroutines and a concurrency type, a match statement, a
# migration's path.
CORNERS = (
    (
        "joins.py",
        "import os\n\ndef under(root):\n    return os.path.join(\n        root, 'x')\n\n"
        "import threading\n\ndef spans():\n    return (threading\n        .Lock)\n",
    ),
    # A file that does not parse: the fallback's block ends where the join's root starts.
    ("broken.py", "def broken(:\n    return os.path.join(\nroot = 1\ndef fine(x):\n    return 2\n"),
    (
        "nested.py",
        "def outer(x):\n    def inner(y):\n        if y:\n            for z in y:\n"
        "                while z:\n                    return z\n    class Local:\n"
        "        def m(self):\n            if self:\n                return 1\n"
        "    return inner\n",
    ),
    (
        "classes.py",
        "import threading\nfrom decimal import Decimal\n\n\nclass Store:\n"
        "    lock = threading\n    if True:\n        def m(self):\n            if self:\n"
        "                return self.cursor.execute('DELETE FROM t WHERE 1')\n"
        "    def total_price(self, amount):\n        return Decimal(amount)\n\n"
        "    def chores(self):\n        return self._tidy()\n\n"
        "    def _tidy(self):\n        import shutil\n        shutil.rmtree('x')\n\n"
        "    def paths(self, p):\n        if '..' in p:\n            return None\n"
        "        with open(p, 'w') as f:\n            f.write(p + ' EUR')\n\n"
        "    def guard(self):\n        Lock\n        go (1)\n        mutex = threading.Lock()\n"
        "        return mutex\n",
    ),
    (
        "loaders.py",
        "import yaml\n\ndef load(stream):\n    return yaml.load(stream, Loader=yaml.FullLoader)\n\n"
        "def loads(text):\n    loader = make_loader()\n    return loader(text)\n",
    ),
    (
        "matches.py",
        "def kind(x):\n    match x:\n        case 1 if x and y:\n            return 'one'\n"
        "        case _:\n            return 'other'\n",
    ),
    (
        "go_like.py",
        "def g():\n    go (x)\n    go\tf(1)\n    kind = Barrier\n"
        "    return [x for x in y if x or y]\n"
        "def h():\n    go (x)\n    kind = Barrier\n",
    ),
    ("dollar.js", "function up(p) {\n  return p.$join(root, 'x');\n}\n"),
    ("tabs.py", "class T:\n\tdef m(self):\n\t\tif x:\n\t\t\treturn (1,\n\t\t\t\t2)\n"),
    (
        "migrations/0001_initial.py",
        "from django.db import migrations\n\nclass Migration(migrations.Migration):\n"
        "    def apply(self):\n        return 1\n",
    ),
)


def _files() -> list[Path]:
    flask = sorted((realcode.sdist("flask") / "src" / "flask").rglob("*.py"))
    requests = sorted((realcode.sdist("requests") / "src" / "requests").rglob("*.py"))
    django = sorted((realcode.sdist("django") / "django").rglob("*.py"))[::3]
    express = sorted((realcode.npm_package("express") / "lib").rglob("*.js"))
    return [*flask, *requests, *django, *express]


@pytest.fixture(scope="module")
def sources() -> list[tuple[str, str]]:
    found = [(str(path), path.read_text(encoding="utf-8")) for path in _files()]
    assert len(found) > 200
    return [*found, *CORNERS]


def test_a_files_signals_from_its_tables_equal_each_target_computed_alone(
    sources: list[tuple[str, str]],
) -> None:
    compared = classes = 0
    fast_risks = 0
    for path, source in sources:
        file = extract.load(path, source)
        contexts = extract.extract_all(path, source, parsed=file)
        fast = signals.file_signals(contexts, file.lines)
        for ctx, got in zip(contexts, fast, strict=True):
            alone = signals.compute_signals(ctx)
            where = f"{path}:{ctx.target.span.start_line + 1} {ctx.target.name}"
            assert got == alone, where
            compared += 1
            classes += ctx.target.kind == "class"
            fast_risks += bool(got.risks)
    assert compared > 4_000 and classes > 600 and fast_risks > 900


def test_the_corners_find_what_they_hold(sources: list[tuple[str, str]]) -> None:
    """The corners reach the rules they were written for (else the comparison above would
    pass without reading them)."""
    found: dict[str, signals.Signals] = {}
    for path, source in CORNERS:
        file = extract.load(path, source)
        contexts = extract.extract_all(path, source, parsed=file)
        for ctx, got in zip(contexts, signals.file_signals(contexts, file.lines), strict=True):
            found[f"{path}:{ctx.target.name}"] = got
    reasons = {key: {hit.category: hit.evidence for hit in s.risks} for key, s in found.items()}
    assert reasons["joins.py:under"]["filesystem"] == "joins paths under root"
    assert "filesystem" not in reasons["broken.py:broken"]
    assert reasons["joins.py:spans"]["concurrency"] == "uses threading.Lock"
    assert [found[f"nested.py:{name}"].nesting for name in ("outer", "inner", "Local", "m")] == [
        4,
        3,
        1,
        1,
    ]
    assert reasons["classes.py:Store"] == {
        "payments": "handles money (total_price with Decimal)",
        "sql": "calls self.cursor.execute",
        "deletion": "calls shutil.rmtree",
        "filesystem": "checks paths for '..'",
        "concurrency": "uses threading.Lock",
    }
    assert reasons["classes.py:m"]["deletion"] == "runs DELETE FROM"
    assert reasons["classes.py:chores"]["deletion"] == "through _tidy: calls shutil.rmtree"
    assert reasons["classes.py:guard"]["concurrency"] == "uses threading.Lock"
    assert reasons["loaders.py:loads"]["deserialization"] == "loads objects with a loader"
    assert reasons["go_like.py:g"]["concurrency"] == "starts goroutines"
    assert reasons["go_like.py:h"]["concurrency"] == "uses Barrier"
    assert found["matches.py:kind"].cyclomatic == 4
    assert reasons["dollar.js:up"]["filesystem"] == "joins paths under root"
    assert reasons["migrations/0001_initial.py:Migration"]["sql"].startswith("uses django.db")
    assert reasons["migrations/0001_initial.py:apply"]["sql"] == "is a database migration"
