"""Hostile documents: what a malicious repository (or a broken editor buffer) can hand over.

Each builder returns the text of one document; the tests open it and ask for code actions,
a route and a static review at several places, over the real server.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs


@attrs.frozen
class Hostile:
    """One hostile document."""

    name: str
    language: str
    build: Callable[[], str]
    suffix: str = ".py"


def _nested_braces(n: int) -> str:
    return "int f(void) " + "{" * n + "}" * n + "\n"


def _functions(n: int) -> str:
    return "".join(f"int f{i}(int x) {{\n  return x + {i};\n}}\n\n" for i in range(n))


def _python_module(kib: int) -> str:
    block = (
        "def handler_{i}(request, retries=3):\n"
        '    """Handle one request."""\n'
        "    for attempt in range(retries):\n"
        "        if request.ok:\n"
        "            return request.body\n"
        "    raise RuntimeError(request)\n\n\n"
    )
    out: list[str] = []
    i = 0
    while sum(map(len, out)) < kib * 1024:
        out.append(block.format(i=i))
        i += 1
    return "".join(out)


def _binary(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    return bytes(rng.randrange(256) for _ in range(size)).decode("latin-1")


HOSTILE: list[Hostile] = [
    Hostile("50,000 nested braces (C, 100 KB)", "c", lambda: _nested_braces(50_000), ".c"),
    Hostile("5,000 nested braces (C)", "c", lambda: _nested_braces(5_000), ".c"),
    Hostile("10,000 C functions (0.4 MB)", "c", lambda: _functions(10_000), ".c"),
    Hostile("Python module, 1 MB", "python", lambda: _python_module(1024)),
    Hostile("Python module, 200 KB", "python", lambda: _python_module(200)),
    Hostile("one 1 MB line", "python", lambda: "x = '" + "a" * 1_000_000 + "'\n"),
    Hostile("200,000 empty lines", "python", lambda: "\n" * 200_000 + "def f():\n    pass\n"),
    Hostile(
        "100 nested ifs (Python's limit)",
        "python",
        lambda: "".join(" " * i + "if x:\n" for i in range(0, 400, 4)) + " " * 400 + "pass\n",
    ),
    Hostile(
        "1,000 nested parentheses", "python", lambda: "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n"
    ),
    Hostile(
        "deep JavaScript",
        "javascript",
        lambda: "function f() {" + "[" * 3000 + "]" * 3000 + "}\n",
        ".js",
    ),
    Hostile("binary bytes as latin-1", "python", lambda: _binary(20_000)),
    Hostile("NULs in code", "python", lambda: "def f(a):\n    return a\x00\x00\n" * 50),
    Hostile(
        "lone surrogates everywhere",
        "python",
        lambda: "def f\ud800(a):\n    '\udfff'\n    return a # \ud83d\n" * 50,
    ),
    Hostile(
        "CRLF line ends",
        "python",
        lambda: "def f(a, b):\r\n    if a:\r\n        return b\r\n    return a\r\n" * 50,
    ),
    Hostile(
        "CR-only line ends",
        "python",
        lambda: "def f(a, b):\r    if a:\r        return b\r    return a\r" * 50,
    ),
    Hostile(
        "Unicode line separators",
        "python",
        lambda: "def f(a):\u2028    return a\u2029\x0b\x0c\x1c\x85\ndef g(b):\n    return b\n" * 30,
    ),
    Hostile(
        "astral characters (UTF-16 pairs)",
        "python",
        lambda: "def \U0001d523(a):\n    s = '🎉🎉🎉'\n    return a + s\n" * 100,
    ),
    Hostile("a BOM and a form feed", "python", lambda: "\ufeff\x0cdef f(a):\n    return a\n"),
    Hostile(
        "unterminated string and bracket",
        "python",
        lambda: "def f(a:\n    s = '''never ends\n" * 20,
    ),
    Hostile(
        "unknown language, 300 KB",
        "cobol",
        lambda: "       IDENTIFICATION DIVISION.\n" * 10_000,
        ".cbl",
    ),
    Hostile("empty document", "python", lambda: ""),
]
