"""The key's scanner gives the tokenizer's tokens, or gives way to it, on real code and edits.

`python_scan.scan` replaced `tokenize` for the cache key's normal form (pass 7, issue 8).
`python_tokens.tokenize_tokens` is the tokenizer-based reading every key was made with before,
and stays as the scanner's fallback: wherever the scanner answers, its tokens (kind, text,
source of a literal, the line-break mark) must equal the tokenizer's, and wherever the tokenizer
raises, the scanner must give way. Compared on every module and every class and function span of
flask and requests, a deterministic sample of Django's sources, the cache-key tests' corner
cases, cases written to be awkward, and random edits of all of them (characters deleted or
duplicated), so the tokenizer's error paths are compared too. The cache-key tests run on 3.12
too (scripts/test_py312.sh), and so does this file: 3.12 tokenizes f-strings into parts.
The formatter rules' own fast paths (one bracket reading for both rules, no import sorting
where no statement can start an import) are compared with the rules as they were.
"""

from __future__ import annotations

import ast
import random
import sys
import token
import tokenize
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import realcode
from tests.unit import test_cache_keys
from tierwise.cache import keys, python_norm, python_scan
from tierwise.cache.python_scan import scan
from tierwise.cache.python_tokens import Tok, tokenize_tokens

Reading = list[tuple[str, str, str, bool]] | str


def reference(code: str) -> Reading:
    """What the tokenizer reads, or the name of the error it raises."""
    try:
        return _fields(tokenize_tokens(code, skip=None))
    except (tokenize.TokenError, SyntaxError) as error:
        return type(error).__name__


def _fields(toks: list[Tok]) -> list[tuple[str, str, str, bool]]:
    return [(t.kind, t.text, t.raw, t.nl) for t in toks]


def agrees(code: str) -> bool:
    """Asserts that the scanner reads `code` as the tokenizer does; whether it read it."""
    scanned = scan(code)
    if scanned is None:
        return False
    assert _fields(scanned) == reference(code), code[:200]
    return True


def reference_normal_form(code: str) -> str:
    """`normalise("python", code)` as it was before the scanner: the tokenizer only, the rules
    as they were."""
    try:
        toks = tokenize_tokens(code, skip=None)
    except (tokenize.TokenError, SyntaxError):
        return keys.collapse_whitespace(code)
    return keys._join(t.text for t in reference_without_formatting(toks))


def reference_without_formatting(toks: list[Tok]) -> list[Tok]:
    """`python_norm.without_formatting` as it was before pass 7: each rule read the brackets
    again, the depths were a list over every token, and every target went through the import
    sorter."""
    toks = python_norm._sort_import_runs(python_norm._join_strings(toks))
    for _ in range(8):
        changed = python_norm._drop_trailing_commas(toks, _old_pairs(toks))
        depths = dict(enumerate(_old_depths(toks)))
        changed |= python_norm._drop_grouping_parens(toks, _old_pairs(toks), depths)
        toks = [t for t in toks if t.kind != "dropped"]
        if not changed:
            break
    return toks


def _old_pairs(toks: list[Tok]) -> dict[int, int]:
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, t in enumerate(toks):
        if t.kind != "op":
            continue
        if t.text in "([{":
            stack.append(i)
        elif t.text in ")]}" and stack:
            pairs[stack.pop()] = i
    return pairs


def _old_depths(toks: list[Tok]) -> list[int]:
    depths: list[int] = []
    depth = 0
    for t in toks:
        if t.kind == "op" and t.text in ")]}":
            depth = max(0, depth - 1)
        depths.append(depth)
        if t.kind == "op" and t.text in "([{":
            depth += 1
    return depths


def outcome(normal_form: Callable[[str], str], code: str) -> str:
    """A normal form, or the error it raises (3.12's tokenizer refuses lone surrogates)."""
    try:
        return normal_form(code)
    except ValueError as error:
        return f"raises {type(error).__name__}"


def spans(text: str) -> Iterator[str]:
    """Every class and function of a module, as the extractor cuts them (indented, decorators
    included, no final line break)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return
    lines = text.splitlines(keepends=True)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield "".join(lines[first - 1 : node.end_lineno]).rstrip("\n")


def edits(text: str, rng: random.Random, count: int) -> Iterator[str]:
    """`text` with a few characters deleted or duplicated here and there."""
    for _ in range(count):
        if not text:
            return
        start = rng.randrange(len(text))
        end = min(len(text), start + rng.randrange(1, 4))
        yield text[:start] + text[end:]
        yield text[:end] + text[start:]


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def compare_tree(files: list[Path], seed: int) -> tuple[int, int]:
    """(pieces compared, pieces the scanner read) over modules, spans and edits of both."""
    rng = random.Random(seed)
    compared = read = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        pieces = [text, *spans(text)]
        for piece in pieces:
            for code in (piece, *edits(piece, rng, 1)):
                compared += 1
                read += agrees(code)
    return compared, read


# The scanner must read most real code itself, or it saves nothing: on 3.11 nearly all of it;
# on 3.12 it gives every f-string to the tokenizer.
MOST = 0.5 if sys.version_info >= (3, 12) else 0.8


@pytest.mark.parametrize("package", ["flask", "requests"])
def test_every_module_and_span_of_a_package(package: str) -> None:
    compared, read = compare_tree(_python_files(realcode.sdist(package)), seed=7)
    assert compared > 300 and read >= MOST * compared, (compared, read)


def test_a_sample_of_django() -> None:
    files = _python_files(realcode.sdist("django"))
    sample = files[::8]  # every eighth file in path order: several hundred, all of Django's areas
    assert len(sample) > 300
    compared, read = compare_tree(sample, seed=11)
    assert read >= MOST * compared, (compared, read)


def _corner_cases() -> list[str]:
    module = test_cache_keys
    cases = [module.PY_BASE, *module.PY_SAME.values(), *module.PY_DIFFERENT.values()]
    cases += [module.WITHOUT_DOC, module.OTHER_DOC, module.SAME_LINE_DOC]
    for group in (module.FORMATTER_SAME, module.FORMATTER_DIFFERENT):
        cases += [code for _, left, right in group for code in (left, right)]
    for left, right in [
        ('x = "a b"', 'x = "a  b"'),
        ('x = "a b"', 'x = "a" "b"'),
        ("x = 'a'", "x = b'a'"),
        ('x = f"{a} b"', 'x = f"{a}  b"'),
        ("x = 'it'", 'x = "it"'),
        ("x = r'\\d'", "x = '\\\\d'"),
        ("x = u'a'", "x = 'a'"),
        ("lambda x: x\n", "lambdax: x\n"),
    ]:
        cases += [left, right]
    return cases + AWKWARD


AWKWARD = [
    "",
    "\n",
    "   ",
    "# only a comment",
    "# a comment\n",
    "x = 1\n   ",
    "x = 1\n# trailing comment",
    "x = 1  # trailing comment",
    "    def m(self):\n        return 1",
    "    def m(self):\n        return 1\n",
    "    def m(self):\n        return 1\n  x = 2\n",  # a dedent to no outer level
    "if x:\n    a\n# c\nb\n",
    "if x:\n    a\n        # over-indented comment\n    b\n",
    "f(a,\n  # c\n  b,\n)",
    "f(a,\n\n  b\n)\n",
    "x = [\n]\n",
    "def f(a,\n    b",  # EOF inside brackets
    "x = (1]\n",
    "x = 1)\n",
    "x = }\n",
    "x = \\\n    1\n",
    "x = 1 \\\n",
    "if a:\n\tb = 1\n",
    "if a:\n    b = 1\n\tc = 2\n",
    "x = 1\r\ny = 2\r\n",
    "x = 1\ry = 2\n",
    "x = 1\x0cy = 2\n",
    "\x0cx = 1\n",
    "x = '\x00'\n",
    "x = '\udcff'\n",
    "x = 'abc\n",
    'x = "abc\n',  # the tokenizer's error token is a quote: written as JSON in the key
    "x = '''abc\n",
    "x = '''abc'\n",
    "x = 'a\\\nb'\n",
    "x = '''a\\\nb'''\n",
    "x = '''a\n# b'''",
    "x = ''''a'''\n",
    "x = 'a''''\n",
    "x = ''\n",
    "x = '' + ''\n",
    "x = ur'a'\n",
    "x = rb'a' + Rb'b' + bR'c' + BR'd' + U'e'\n",
    "x = bf'a'\n",
    "x = f'{a!r:>{w}}' + rf'\\d{x}' + fR'{y}' + Rf'{{z}}'\n",
    "x = f'{x[\"a\"]}'\n",  # nested quotes: valid on 3.12 only
    "x = f\"{x['a']}\"\n",
    "x = f'{a}\n",
    "x = f'''{\na\n}'''\n",
    "x = f'{a # no}'\n",
    "x = f'{\"\\n\".join(a)}'\n",
    "x = 1if y else 2\n",
    "x = 0x\n",
    "x = 0xfor\n",
    "x = 1_\n",
    "x = 1__0\n",
    "x = 0777\n",
    "x = 00 + 0_0 + 1_000 + 0o17 + 0b1_0 + 0XfF + 1e5 + 1E-5 + 1.5j + .5 + 5. + 1e5j\n",
    "x = 1.real\n",
    "x = 1 .real\n",
    "x = 1..real\n",
    "x = a..b\n",
    "x = ...\n",
    "x = a <> b\n",
    "x = !a\n",
    "x = a != b\n",
    "x = a $ b\n",
    "x = a ? b\n",
    "x = `a`\n",
    "x @= a -> b := c ** d // e >> f << g\n",
    "café = 1\n",
    "x = café\n",
    "x = 'café' # é\n",
    "x = a\u00a0+ b\n",
    "\ufeffx = 1\n",
    "x = 1\u2028y = 2\n",
    "x = '\u2028'\n",
    "match (x,):\n    case (1,):\n        pass\n",
    "async def f():\n    await x\n",
    "def f():\n    return (\n        a\n    )\n",
    "class A:\n\n    x = 1\n\n\n    def f(self):\n        pass\n\n\n\n",
    "import os\nimport sys\nfrom a import (\n    b,\n    c,\n)\n",
]


def test_corner_cases_and_their_edits() -> None:
    rng = random.Random(3)
    for case in _corner_cases():
        for code in (case, *edits(case, rng, 8)):
            agrees(code)


def test_the_scanner_reads_plain_code_itself() -> None:
    """The comparisons above pass trivially if the scanner gives way everywhere."""
    assert scan(test_cache_keys.PY_BASE) is not None
    assert scan("    def m(self):\n        return {'a': [1, 2.5, 0x1F]}  # c") is not None
    assert scan("x = 1\r\n") is None and scan("x = \\\n 1\n") is None


def _rules_agree(code: str) -> None:
    try:
        ours = python_norm.without_formatting(tokenize_tokens(code, skip=None))
    except (tokenize.TokenError, SyntaxError, ValueError):  # 3.12 refuses lone surrogates
        return
    before = reference_without_formatting(tokenize_tokens(code, skip=None))
    assert _fields(ours) == _fields(before), code[:200]


@pytest.mark.parametrize(("package", "step"), [("flask", 1), ("requests", 1), ("django", 25)])
def test_the_formatter_rules_read_as_before(package: str, step: int) -> None:
    """The rules' bracket reading, shared and with depths for openers only, changes nothing."""
    for path in _python_files(realcode.sdist(package))[::step]:
        text = path.read_text(encoding="utf-8")
        for code in (text, *spans(text)):
            _rules_agree(code)
    rng = random.Random(5)
    for case in _corner_cases():
        for code in (case, *edits(case, rng, 4)):
            _rules_agree(code)


def test_the_operators_are_the_tokenizers() -> None:
    """3.11's exact tokens less the brackets (3.12 adds `!`, which the scanner leaves to it)."""
    exact = set(token.EXACT_TOKEN_TYPES) - set("()[]{}") - {"!"}
    assert set(python_scan._OPERATOR_LIST) == exact


def test_normal_forms_equal_the_tokenizers() -> None:
    """The key itself: `normalise` with the scanner against the tokenizer-only normal form."""
    root = realcode.sdist("requests")
    for path in _python_files(root):
        text = path.read_text(encoding="utf-8")
        for code in (text, *spans(text)):
            assert keys.normalise("python", code) == reference_normal_form(code), path
    for code in _corner_cases():
        ours = outcome(lambda c: keys.normalise("python", c), code)
        assert ours == outcome(reference_normal_form, code), code
