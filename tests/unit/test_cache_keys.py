"""Cache keys: formatting and comments keep a key, any change of meaning changes it."""

from __future__ import annotations

from typing import Any

import pytest

from tierwise.cache.keys import KEY_VERSION, cache_key, digest, normalise

PY_BASE = '''\
def total(items, rate):
    """Sum the item prices with tax."""
    result = 0
    for item in items:
        if item.price > 0:
            result += item.price * (1 + rate)
    return round(result, 2)
'''

PY_SAME = {
    "two-space indent": '''\
def total(items, rate):
  """Sum the item prices with tax."""
  result = 0
  for item in items:
    if item.price > 0:
      result += item.price * (1 + rate)
  return round(result, 2)
''',
    "tab indent and CRLF": (
        'def total(items, rate):\r\n\t"""Sum the item prices with tax."""\r\n\tresult = 0\r\n'
        "\tfor item in items:\r\n\t\tif item.price > 0:\r\n"
        "\t\t\tresult += item.price * (1 + rate)\r\n\treturn round(result, 2)\r\n"
    ),
    "blank lines": '''\


def total(items, rate):

    """Sum the item prices with tax."""

    result = 0


    for item in items:
        if item.price > 0:
            result += item.price * (1 + rate)

    return round(result, 2)

''',
    "operator spacing": '''\
def total(items,rate):
    """Sum the item prices with tax."""
    result=0
    for item in items:
        if item.price>0:
            result+=item.price*(1+rate)
    return round(result,2)
''',
    "wrapped inside brackets and backslash": '''\
def total(
    items,
    rate
):
    """Sum the item prices with tax."""
    result = \\
        0
    for item in items:
        if item.price > 0:
            result += item.price * (
                1 + rate
            )
    return round(result,
                 2)
''',
    "comments": '''\
# module comment
def total(items, rate):  # entry point
    """Sum the item prices with tax."""
    result = 0
# a comment at column 0 inside the body
    for item in items:
            # an over-indented comment
        if item.price > 0:  # skip free items
            result += item.price * (1 + rate)
    return round(result, 2)  # cents
''',
    "quote style of strings": """\
def total(items, rate):
    '''Sum the item prices with tax.'''
    result = 0
    for item in items:
        if item.price > 0:
            result += item.price * (1 + rate)
    return round(result, 2)
""",
}

PY_DIFFERENT = {
    "renamed variable": PY_BASE.replace("result", "acc"),
    "changed constant": PY_BASE.replace("round(result, 2)", "round(result, 3)"),
    "changed operator": PY_BASE.replace("item.price > 0", "item.price >= 0"),
    "changed arithmetic": PY_BASE.replace("1 + rate", "1 - rate"),
    "return moved into the loop": PY_BASE.replace(
        "    return round(result, 2)", "        return round(result, 2)"
    ),
    "changed docstring": PY_BASE.replace("with tax", "without tax"),
    "added trailing comma": PY_BASE.replace("round(result, 2)", "round(result, 2,)"),
}


@pytest.mark.parametrize("variant", sorted(PY_SAME))
def test_python_formatting_and_comments_keep_the_normal_form(variant: str) -> None:
    assert normalise("python", PY_SAME[variant]) == normalise("python", PY_BASE)


@pytest.mark.parametrize("variant", sorted(PY_DIFFERENT))
def test_python_changes_of_meaning_change_the_normal_form(variant: str) -> None:
    assert normalise("python", PY_DIFFERENT[variant]) != normalise("python", PY_BASE)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ('x = "a b"', 'x = "a  b"'),  # whitespace inside a string is meaning
        ('x = "a b"', 'x = "a" "b"'),  # one literal is not two
        ("x = 'a'", "x = b'a'"),  # str is not bytes
        ('x = f"{a} b"', 'x = f"{a}  b"'),
        ("x = 1  # one", "x = '1'  # one"),
    ],
)
def test_python_string_contents_matter(left: str, right: str) -> None:
    assert normalise("python", left) != normalise("python", right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("x = 'it'", 'x = "it"'),
        ("x = r'\\d'", "x = '\\\\d'"),  # same value, different spelling
        ("x = u'a'", "x = 'a'"),
    ],
)
def test_python_string_spelling_does_not_matter(left: str, right: str) -> None:
    assert normalise("python", left) == normalise("python", right)


WITHOUT_DOC = PY_BASE.replace('    """Sum the item prices with tax."""\n', "")
OTHER_DOC = PY_BASE.replace(
    '"""Sum the item prices with tax."""',
    '"""Add up prices.\n\n    Args:\n        items: things.\n    """',
)
SAME_LINE_DOC = 'def f(x): "Doc."; return x\n'


def test_docstrings_are_dropped_only_when_asked() -> None:
    base = normalise("python", PY_BASE, drop_docstrings=True)
    assert normalise("python", WITHOUT_DOC, drop_docstrings=True) == base
    assert normalise("python", OTHER_DOC, drop_docstrings=True) == base
    assert normalise("python", WITHOUT_DOC) != normalise("python", PY_BASE)
    assert normalise("python", OTHER_DOC) != normalise("python", PY_BASE)


def test_dropping_docstrings_still_sees_code_changes() -> None:
    changed = PY_BASE.replace("1 + rate", "1 - rate")
    assert normalise("python", changed, drop_docstrings=True) != normalise(
        "python", PY_BASE, drop_docstrings=True
    )


def test_docstring_on_the_def_line_with_a_semicolon() -> None:
    assert normalise("python", SAME_LINE_DOC, drop_docstrings=True) == normalise(
        "python", "def f(x): return x\n", drop_docstrings=True
    )


def test_module_class_and_indented_method_docstrings_are_dropped() -> None:
    module = '"""Module doc."""\nimport os\n\n\nclass A:\n    """Class doc."""\n\n    x = 1\n'
    bare = "import os\n\n\nclass A:\n    x = 1\n"
    assert normalise("python", module, drop_docstrings=True) == normalise(
        "python", bare, drop_docstrings=True
    )
    # An extracted method keeps its indentation and does not parse on its own.
    method = '    def m(self) -> int:\n        """Say é twice."""\n        return 1\n'
    method_bare = "    def m(self) -> int:\n        return 1\n"
    assert normalise("python", method, drop_docstrings=True) == normalise(
        "python", method_bare, drop_docstrings=True
    )


def test_a_later_string_statement_is_not_a_docstring() -> None:
    left = 'def f():\n    x = 1\n    "note one"\n'
    right = 'def f():\n    x = 1\n    "note two"\n'
    assert normalise("python", left, drop_docstrings=True) != normalise(
        "python", right, drop_docstrings=True
    )


def test_untokenizable_python_falls_back_to_whitespace_collapse() -> None:
    broken = "def f(a,\n    b"  # an unclosed bracket: tokenize fails
    assert normalise("python", broken) == normalise("python", "def f(a, b")
    assert normalise("python", broken) != normalise("python", "def f(a, c")


JS_BASE = """\
function total(items, rate) {
  let result = 0;
  for (const item of items) {
    if (item.price > 0) {
      result += item.price * (1 + rate);
    }
  }
  return Math.round(result * 100) / 100;
}
"""

JS_SAME = {
    "four-space indent": JS_BASE.replace("  ", "    "),
    "one line": " ".join(JS_BASE.split()),
    "comments": JS_BASE.replace("{\n  let", "{ // running sum\n  /* start */ let").replace(
        "return", "// round to cents\n  return"
    ),
    "blank lines and spacing": JS_BASE.replace("\n", "\n\n").replace(" = ", "="),
}
JS_DIFFERENT = {
    "renamed variable": JS_BASE.replace("result", "acc"),
    "changed constant": JS_BASE.replace("100) / 100", "1000) / 1000"),
    "changed operator": JS_BASE.replace("> 0", ">= 0"),
    "string contents": JS_BASE.replace("let result = 0;", 'let result = 0; const s = "a b";'),
}

GO_BASE = """\
package shop

func Total(prices []float64, rate float64) float64 {
\tresult := 0.0
\tfor _, p := range prices {
\t\tif p > 0 {
\t\t\tresult += p * (1 + rate)
\t\t}
\t}
\treturn result
}
"""
GO_SAME = {
    "spaces for tabs": GO_BASE.replace("\t", "    "),
    "comments": GO_BASE.replace("package shop", "// Package shop sells.\npackage shop").replace(
        "result := 0.0", "result := 0.0 // running sum /* not a block */"
    ),
    "blank lines": GO_BASE.replace("\n", "\n\n"),
}
GO_DIFFERENT = {
    "renamed variable": GO_BASE.replace("result", "acc"),
    "changed constant": GO_BASE.replace("0.0", "1.0"),
    "changed operator": GO_BASE.replace("p > 0", "p < 0"),
}

TREE_SITTER_SAME = [("javascript", JS_BASE, v, JS_SAME[v]) for v in sorted(JS_SAME)] + [
    ("go", GO_BASE, v, GO_SAME[v]) for v in sorted(GO_SAME)
]
TREE_SITTER_DIFFERENT = [
    ("javascript", JS_BASE, v, JS_DIFFERENT[v]) for v in sorted(JS_DIFFERENT)
] + [("go", GO_BASE, v, GO_DIFFERENT[v]) for v in sorted(GO_DIFFERENT)]


@pytest.fixture
def token_stream_available() -> None:
    """Skip only when the tree-sitter backend module does not exist at all."""
    pytest.importorskip("tierwise.context.treesitter")


@pytest.mark.parametrize(("language", "base", "variant", "code"), TREE_SITTER_SAME)
def test_tree_sitter_formatting_and_comments_keep_the_normal_form(
    token_stream_available: None, language: str, base: str, variant: str, code: str
) -> None:
    assert normalise(language, code) == normalise(language, base), variant


@pytest.mark.parametrize(("language", "base", "variant", "code"), TREE_SITTER_DIFFERENT)
def test_tree_sitter_changes_of_meaning_change_the_normal_form(
    token_stream_available: None, language: str, base: str, variant: str, code: str
) -> None:
    assert normalise(language, code) != normalise(language, base), variant


def test_tree_sitter_string_whitespace_matters(token_stream_available: None) -> None:
    assert normalise("javascript", 'f("a b")') != normalise("javascript", 'f("a  b")')
    assert normalise("javascript", 'f("a b")') != normalise("javascript", 'f("a", "b")')


def test_unknown_language_collapses_whitespace_but_keeps_comments() -> None:
    code = "proc main {\n    # set x\n    set x 1\n}"
    assert normalise("tcl", code) == normalise("tcl", "proc main { # set x\n set x 1 }")
    # Without a parser a comment cannot be told from string contents, so it stays significant.
    assert normalise("tcl", code) != normalise("tcl", code.replace("# set x", "# set y"))


KEY_FIELDS: dict[str, object] = {
    "namespace": "acme-payments",
    "action": "review",
    "prompt_version": "3",
    "model": "anthropic:claude-sonnet-4-6",
    "params": {"max_output_tokens": 3000, "temperature": 0.0},
    "language": "python",
    "normalised_target": "def f ( ) : pass",
    "context_digest": digest("imports"),
    "options": {"style": "google", "candidates": "3"},
}
KEY_CHANGES: dict[str, object] = {
    "namespace": "acme-billing",
    "action": "explain",
    "prompt_version": "4",
    "model": "anthropic:claude-haiku-4-5",
    "params": {"max_output_tokens": 2048, "temperature": 0.0},
    "language": "javascript",
    "normalised_target": "def g ( ) : pass",
    "context_digest": digest("imports!"),
    "options": {"style": "numpy", "candidates": "3"},
}


def key(**changes: Any) -> str:
    fields: dict[str, Any] = {**KEY_FIELDS, **changes}
    return cache_key(**fields)


def test_key_is_namespaced_versioned_and_independent_of_dict_order() -> None:
    """`tierwise:v{N}:{namespace}:{action}:{sha256}`, the same whatever order the dicts are in."""
    first = key()
    prefix, _, hexdigest = first.rpartition(":")
    assert prefix == f"tierwise:v{KEY_VERSION}:acme-payments:review"
    assert len(hexdigest) == 64 and int(hexdigest, 16) >= 0
    assert key() == first
    assert key(options={"candidates": "3", "style": "google"}) == first
    assert key(params={"temperature": 0.0, "max_output_tokens": 3000}) == first
    assert key(params={"temperature": 0, "max_output_tokens": 3000.0}) == first  # same numbers


@pytest.mark.parametrize("field", sorted(KEY_CHANGES))
def test_key_changes_with_every_field(field: str) -> None:
    assert key(**{field: KEY_CHANGES[field]}) != key()


@pytest.mark.parametrize(
    "model",
    [
        "openai:claude-sonnet-4-6",  # the same model id on another provider
        "anthropic:claude-sonnet-4-5",  # a near-identical model id
        "anthropic:claude-sonnet-4-6-20260101",
    ],
)
def test_the_concrete_provider_and_model_are_part_of_the_key(model: str) -> None:
    """An answer is a model's answer: another provider or model id never shares its key."""
    assert key(model=model) != key()


def test_every_generation_parameter_counts() -> None:
    assert key(params={"max_output_tokens": 3000, "temperature": 0.7}) != key()
    assert key(params={"max_output_tokens": 3000}) != key()
    assert key(params={"max_output_tokens": 3000, "temperature": 0.0, "top_p": 1}) != key()


def test_key_changes_when_an_option_is_added_or_removed() -> None:
    assert key(options={"style": "google", "candidates": "3", "extra": "be brief"}) != key()
    assert key(options={"style": "google"}) != key()


def test_fields_cannot_bleed_into_each_other() -> None:
    # Moving text from one field to its neighbour must not give the same key.
    assert key(action="review", prompt_version="3") != key(action="review3", prompt_version="")
    assert key(options={"style": "google", "candidates": "3"}) != key(
        options={"style": "google,candidates=3"}
    )


@pytest.mark.parametrize("namespace", ["", "Acme", "a:b", "a*", "a b", "x" * 65])
def test_a_namespace_that_could_reach_another_prefix_is_refused(namespace: str) -> None:
    """Clearing matches `{prefix}*`: a namespace with a separator or a glob could touch
    another team's keys, so it never makes a key."""
    with pytest.raises(ValueError):
        key(namespace=namespace)


def test_digest_is_deterministic_and_sensitive() -> None:
    assert digest("a") == digest("a")
    assert digest("a") != digest("a ")
    assert len(digest("")) == 64


@pytest.mark.parametrize(
    ("language", "left", "right"),
    [
        ("python", "lambda x: x\n", "lambdax: x\n"),  # both valid: an expression, an annotation
        ("javascript", "typeof x;", "typeofx;"),
    ],
)
def test_token_boundaries_are_kept(language: str, left: str, right: str) -> None:
    assert normalise(language, left) != normalise(language, right)


# -- what formatters change (ruff format, isort) shares a key; what changes meaning never does --

FORMATTER_SAME = [
    ("magic trailing comma", "f(a, b)\n", "f(\n    a,\n    b,\n)\n"),
    ("split signature", "def g(a, b=1):\n    pass\n", "def g(\n    a,\n    b=1,\n):\n    pass\n"),
    ("trailing comma in a list", "x = [1, 2]\n", "x = [\n    1,\n    2,\n]\n"),
    ("one-element call", "f(a)\n", "f(\n    a,\n)\n"),
    ("parenthesised assignment", "x = a + b\n", "x = (\n    a\n    + b\n)\n"),
    ("parenthesised return", "def g():\n    return a and b\n", "def g():\n    return (a and b)\n"),
    ("parenthesised condition", "if a or b:\n    pass\n", "if (\n    a\n    or b\n):\n    pass\n"),
    ("parenthesised keyword value", "f(x=a + b)\n", "f(\n    x=(\n        a + b\n    ),\n)\n"),
    ("parenthesised for target", "for x in y:\n    pass\n", "for (\n    x\n) in y:\n    pass\n"),
    ("assert message", 'assert a, "m"\n', 'assert a, (\n    "m"\n)\n'),
    ("implicit concatenation joined", 'x = ("a " "b")\n', 'x = "a b"\n'),
    ("f-string quote style", "x = f'{a} b'\n", 'x = f"{a} b"\n'),
    ("f-string spacing inside a field", 'x = f"{a+1}"\n', 'x = f"{a + 1}"\n'),
    ("f-string joined with a string", 'x = f"{a} " "b"\n', 'x = f"{a} b"\n'),
    ("number spelling", "x = 0XFF + 1E5\n", "x = 0xff + 1e5\n"),
    (
        "sorted imports",
        "def g():\n    import sys\n    from os import sep, path\n    import json\n    return 1\n",
        "def g():\n    import json\n    import sys\n    from os import path, sep\n    return 1\n",
    ),
    (
        "combined from-imports",
        "from os import path\nfrom os import sep\n",
        "from os import path, sep\n",
    ),
]

FORMATTER_DIFFERENT = [
    ("precedence", "x = (a + b) * c\n", "x = a + b * c\n"),
    ("one-element tuple", "x = (\n    a,\n)\n", "x = (\n    a\n)\n"),
    ("one-element subscript tuple", "v = m[\n    a,\n]\n", "v = m[\n    a\n]\n"),
    ("tuple argument", "f((a, b))\n", "f(a, b)\n"),
    ("tuple keyword value", "f(x=(a, b))\n", "f(x=a, b)\n"),
    ("assert on a tuple", "assert (a, b)\n", "assert a, b\n"),
    ("membership in a tuple", "y = x in (a, b)\n", "y = x in a, b\n"),
    ("lambda returning a tuple", "g = lambda: (a, b)\n", "g = lambda: a, b\n"),
    ("annotated parenthesised target", "(x): int = 1\n", "x: int = 1\n"),
    ("generator in parentheses", "x = (y for y in z)\n", "x = y for y in z\n"),
    ("int and float", "x = 1\n", "x = 1.0\n"),
    ("two literals, not one", 'x = "a" "b"\n', 'x = "a b"\n'),
    ("escaped braces are text", 'x = f"{{a}}"\n', 'x = f"{a}"\n'),
    ("braces around a field are text, a set is a set", 'x = f"{{{a}}}"\n', 'x = f"{ {a} }"\n'),
    ("conversion", 'x = f"{a!r}"\n', 'x = f"{a}"\n'),
    ("format spec", 'x = f"{a:>4}"\n', 'x = f"{a:>5}"\n'),
    (
        "import order that rebinds a name",
        "from a import x\nfrom b import x\n",
        "from b import x\nfrom a import x\n",
    ),
    ("import alias", "import numpy as np\n", "import numpy\n"),
]


@pytest.mark.parametrize(
    ("label", "left", "right"), FORMATTER_SAME, ids=[c[0] for c in FORMATTER_SAME]
)
def test_formatter_changes_keep_the_normal_form(label: str, left: str, right: str) -> None:
    assert normalise("python", left) == normalise("python", right), label


@pytest.mark.parametrize(
    ("label", "left", "right"), FORMATTER_DIFFERENT, ids=[c[0] for c in FORMATTER_DIFFERENT]
)
def test_changes_of_meaning_near_formatter_rules_change_the_normal_form(
    label: str, left: str, right: str
) -> None:
    assert normalise("python", left) != normalise("python", right), label
