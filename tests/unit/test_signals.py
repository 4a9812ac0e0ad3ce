"""Routing signals: size, complexity, nesting, directives and target identity."""

from __future__ import annotations

import textwrap

from tierwise.context.extract import extract
from tierwise.routing.signals import Signals, compute_signals, target_key


def signals_at(code: str, marker: str, path: str = "snippet.py") -> Signals:
    """Signals of the target enclosing the first line that contains `marker`."""
    source = textwrap.dedent(code)
    line = next(i for i, text in enumerate(source.split("\n")) if marker in text)
    return compute_signals(extract(path, source, line, 0))


PYTHON = """
    def pick(a, b):
        if a and b:
            for x in a:
                if x:
                    return x
        elif b or a:
            return 1
        return [y for y in b if y]
"""


def test_python_cyclomatic_and_nesting() -> None:
    s = signals_at(PYTHON, "def pick")
    # 1 + if, and, for, if, elif, or, comprehension for, comprehension if
    assert s.cyclomatic == 9
    assert s.nesting == 3  # if > for > if
    assert s.lines == 7
    assert not s.trivial


def test_nested_function_counts_one_level_and_classes_none() -> None:
    code = """
        class Box:
            def outer(self):
                def inner(x):
                    while x:
                        x -= 1
                return inner
    """
    s = signals_at(code, "def outer")
    assert s.nesting == 2  # inner's body, then the while body
    assert s.cyclomatic == 2
    assert signals_at(code, "class Box").nesting == 2


def test_match_counts_cases_but_not_the_wildcard() -> None:
    code = """
        def kind(v):
            match v:
                case 1:
                    return "one"
                case [x, y]:
                    return "pair"
                case _:
                    return "other"
    """
    s = signals_at(code, "def kind")
    assert s.cyclomatic == 3
    assert s.nesting == 1  # a case body sits at the match's level


def test_javascript_cyclomatic_and_nesting() -> None:
    code = """
        function g(a) {
          if (a && a.b) {
            for (const x of a.b) {
              try { use(x); } catch (e) { log(e); }
            }
          } else if (a) {
            return a ? 1 : 2;
          }
          const opts = { retries: 3, nested: { deep: true } };
          return a?.c ?? opts;
        }
    """
    s = signals_at(code, "function g", "g.js")
    # 1 + if, &&, for, catch, else-if, ?:, ??   (optional chaining is not a branch)
    assert s.cyclomatic == 8
    assert s.nesting == 3  # if > for > try/catch; object literals are not blocks


def test_go_cyclomatic_and_nesting() -> None:
    code = """
        func h(xs []int) int {
            total := 0
            for _, x := range xs {
                switch {
                case x > 10 && x < 20:
                    total += x
                case x < 0:
                    return -1
                default:
                }
            }
            return total
        }
    """
    s = signals_at(code, "func h", "h.go")
    assert s.cyclomatic == 5  # 1 + for, two cases, &&
    assert s.nesting == 2  # for > switch


def test_rust_match_arms_and_guards() -> None:
    code = """
        fn k(v: Option<u32>) -> u32 {
            match v {
                Some(x) if x > 3 => x,
                Some(_) => 1,
                None => 0,
            }
        }
    """
    s = signals_at(code, "fn k", "k.rs")
    assert s.cyclomatic == 4  # 1 + three arms beyond... minus the first + the guard
    assert s.nesting == 1


def test_lines_leave_out_the_signature_docstring_comments_and_closers() -> None:
    code = '''
        def documented(
            a: int,
            b: int,
        ) -> int:
            """Add two numbers.

            A long docstring does not make the code bigger.
            """
            # a comment line

            return a + b
    '''
    s = signals_at(code, "def documented")
    assert s.lines == 1
    assert s.trivial
    brace = signals_at("function f(a) {\n  return a;\n}\n", "function f", "f.js")
    assert brace.lines == 1 and brace.trivial


def test_trivial_needs_small_branch_free_and_risk_free_code() -> None:
    small = "def f(x):\n    return x + 1\n"
    assert signals_at(small, "def f").trivial
    branchy = "def f(x):\n    return 1 if x else 2\n"
    assert not signals_at(branchy, "def f").trivial
    risky = "import os\n\ndef f(p):\n    os.remove(p)\n"
    assert not signals_at(risky, "def f").trivial
    long_body = "def f(x):\n" + "".join(f"    x += {i}\n" for i in range(5)) + "    return x\n"
    s = signals_at(long_body, "def f")
    assert s.lines == 6 and not s.trivial


def test_a_target_over_the_budget_counts_every_line() -> None:
    source = "def big(x):\n" + "".join(f"    x = x + {i}\n" for i in range(200)) + "    return x\n"
    ctx = extract("big.py", source, 3, 0, budget_tokens=50)
    assert compute_signals(ctx).lines == 201


def test_wrapped_statements_count_once_and_nest_no_deeper() -> None:
    flat = "def f(a, b):\n    if a and b:\n        return g(a, b, 1)\n    return 0\n"
    wrapped = (
        "def f(\n    a,\n    b,\n):\n    if (\n        a\n        and b\n    ):\n"
        "        return g(\n            a,\n            b,\n            1,\n        )\n"
        "    return 0\n"
    )
    one, two = signals_at(flat, "def f"), signals_at(wrapped, "def f")
    assert (one.lines, one.nesting, one.cyclomatic) == (two.lines, two.nesting, two.cyclomatic)
    assert one.lines == 3 and one.trivial == two.trivial


def test_cross_file_calls_come_from_the_context() -> None:
    code = "from .models import User\n\ndef load(i):\n    return User.get(i) or User.new(i)\n"
    assert signals_at(code, "def load").cross_file_calls == 2


def test_directive_in_the_comment_lines_above() -> None:
    code = """
        # Careful: money moves here.
        # tierwise: Frontier
        @decorated
        def settle(x):
            return x
    """
    assert signals_at(code, "return x").directive == "frontier"


def test_directive_inside_the_target() -> None:
    code = """
        function f(a) {
          // tierwise: local
          return a;
        }
    """
    assert signals_at(code, "return a", "f.js").directive == "local"


def test_directive_near_misses_are_ignored() -> None:
    in_string = 'def f():\n    return "# tierwise: frontier"\n'
    assert signals_at(in_string, "def f").directive is None
    separated = "# tierwise: frontier\nX = 1\n\ndef f():\n    return X\n"
    assert signals_at(separated, "def f").directive is None


def test_target_key_survives_edits_but_not_renames() -> None:
    before = "def f(x):\n    return x\n"
    after = "def f(x):\n    # now different\n    y = x * 2\n    return y\n"
    renamed = "def g(x):\n    return x\n"
    key = signals_at(before, "def f").target_key
    assert signals_at(after, "def f").target_key == key
    assert signals_at(renamed, "def g").target_key != key
    assert signals_at(before, "def f", "other.py").target_key != key
    assert key == target_key("snippet.py", "function", "f")


def test_go_if_with_an_init_statement_is_a_block() -> None:
    code = """
        func scan(m map[string]int, keys []string) {
            for _, k := range keys {
                if v, ok := m[k]; ok && v > 0 {
                    fmt.Println(v)
                }
            }
        }
    """
    s = signals_at(code, "func scan", "scan.go")
    assert s.nesting == 2
    assert s.cyclomatic == 4  # 1 + for, if, &&
