"""Python's normal form for cache keys: what a formatter may change is removed, meaning is kept.

Removed (each only where it can never change what the code means):
- layout: comments, blank lines, spacing, indentation width, line breaks inside brackets;
- spelling: string quote style and prefixes (`'a'`, `"a"`, `u"a"` are one value), f-strings
  included (compared by their syntax tree, so `{{` stays a brace and never becomes a field);
  number spelling (`0XFF` and `0xff`);
- a magic trailing comma: a comma right before a closing bracket with a line break between
  them (what a formatter adds when it splits a collection), except where the comma makes a
  one-element tuple or subscript (`(x,)`, `a[x,]`). A trailing comma on one line is kept: no
  formatter leaves one there, and keys stay conservative where nothing needs them;
- parentheses that only group a whole statement-level expression (what a formatter adds to
  wrap a long one): `x = (a + b)`, `return (a and b)`, `if (a):`. Never where precedence or
  a tuple could change: `(a + b) * c`, `f((a, b))`, `assert (a, b)` keep theirs;
- the order of a run of consecutive import statements, and of the names inside one (what an
  import sorter changes), when no name is bound twice; split and combined `from` imports of
  one module are the same.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Callable

from tierwise.cache.python_scan import scan
from tierwise.cache.python_tokens import (
    DEDENT,
    FSTRING,
    INDENT,
    NEWLINE,
    Tok,
    canonical,
    tokenize_tokens,
)

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = frozenset(_OPENERS.values())
# Soft keywords that start statements: `match (x,):` is not a call of `match`.
_NOT_CALLEES = frozenset({"match", "case", "type"})
_AUGMENTED = frozenset({"+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "^=", "|="})
# Parentheses around a whole statement-level expression, by the token before them: whether a
# top-level comma may be inside (the tuple is the same without them), and the tokens that may
# follow the closing one. A line start allows no ":" after: `(x): int` is not `x: int`.
_STATEMENT_ENDS = frozenset({"<NEWLINE>", ";"})
_ELEMENT_ENDS = frozenset({",", ")", "]", "}"})
_WHOLE_AFTER: dict[str, tuple[bool, frozenset[str]]] = {
    "<LINE>": (True, _STATEMENT_ENDS | {"="}),
    "=": (True, _STATEMENT_ENDS | {"="}),
    "return": (True, _STATEMENT_ENDS),
    "yield": (True, _STATEMENT_ENDS),
    "del": (True, _STATEMENT_ENDS),
    "with": (True, frozenset({":"})),
    "for": (True, frozenset({"in"})),
    "assert": (False, _STATEMENT_ENDS | {","}),
    "if": (False, frozenset({":"})),
    "elif": (False, frozenset({":"})),
    "while": (False, frozenset({":"})),
    "in": (False, frozenset({":"})),
    "->": (False, frozenset({":"})),
    ":": (False, _STATEMENT_ENDS | {"="}),
    **dict.fromkeys(_AUGMENTED, (True, _STATEMENT_ENDS)),
}
_LINE_START = frozenset({NEWLINE, INDENT, DEDENT})


def tokens(
    code: str, *, skip: Callable[[tuple[int, int], tuple[int, int]], bool] | None
) -> tuple[list[Tok], bool]:
    """The normal-form tokens of `code`, without those `skip` names (None: skip nothing), and
    whether the scanner read them; raises tokenize.TokenError or SyntaxError. The scanner reads
    what it can promise to read as the tokenizer does (only with nothing to skip: it keeps no
    positions); the rest goes to the tokenizer, which raises what it raises. The scanner's
    names and operators are ASCII words and symbols; 3.12's tokenizer can put a lone carriage
    return in a name."""
    if skip is None:
        scanned = scan(code)
        if scanned is not None:
            return scanned, True
    return tokenize_tokens(code, skip=skip), False


# -- formatter changes --------------------------------------------------------------------------


def without_formatting(toks: list[Tok]) -> list[Tok]:
    """Apply the import, trailing-comma and parenthesis rules until nothing changes."""
    toks = _sort_imports(_join_strings(toks))
    for _ in range(8):  # nested redundant parentheses come off one pair per pass
        # One bracket reading for both rules: the commas the first drops are no brackets.
        pairs, depths = _pairs(toks)
        changed = _drop_trailing_commas(toks, pairs) | _drop_grouping_parens(toks, pairs, depths)
        toks = [t for t in toks if t.kind != "dropped"]
        if not changed:
            break
    return toks


def _join_strings(toks: list[Tok]) -> list[Tok]:
    """Adjacent string literals as the one literal they are (a formatter joins or splits them).

    `"a " "b"` is `"a b"`; `f"{x} " "y"` is `f"{x} y"`: the parsed value decides, so `"a" "b"`
    (the value "ab") never meets `"a b"`.
    """
    out: list[Tok] = []
    run: list[Tok] = []

    def flush() -> None:
        joined = _joined(run) if len(run) > 1 else None
        if joined is not None:
            out.append(Tok("string", joined, run[0].nl, " ".join(t.raw for t in run)))
        else:
            out.extend(run)
        run.clear()

    for tok in toks:
        if tok.kind == "string" and tok.raw:
            run.append(tok)
            continue
        if run:  # most tokens end no run: no call for them
            flush()
        out.append(tok)
    flush()
    return out


def _joined(run: list[Tok]) -> str | None:
    try:
        node = ast.parse("(" + " ".join(t.raw for t in run) + ")", mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None  # e.g. bytes next to str: kept apart
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return repr(node.value)
    return FSTRING + canonical(node)


def _pairs(toks: list[Tok]) -> tuple[dict[int, int], dict[int, int]]:
    """Opening bracket index -> closing bracket index, and -> the bracket depth it sits at
    (the brackets open around it; a closing one with none open is passed over)."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    depths: dict[int, int] = {}
    for i, t in enumerate(toks):
        if t.kind != "op":
            continue
        if t.text in _OPENERS:
            depths[i] = len(stack)
            stack.append(i)
        elif t.text in _CLOSERS and stack:
            pairs[stack.pop()] = i
    return pairs, depths


def _is_callee(toks: list[Tok], index: int) -> bool:
    """Whether the bracket at `index` calls or subscripts what precedes it."""
    if index == 0:
        return False
    prev = toks[index - 1]
    if prev.kind == "name":
        return not keyword.iskeyword(prev.text) and prev.text not in _NOT_CALLEES
    return prev.kind in ("string", "number") or (prev.kind == "op" and prev.text in _CLOSERS)


def _top_level(toks: list[Tok], start: int, end: int, pairs: dict[int, int]) -> list[int]:
    """Indices of the tokens directly inside the bracket pair (start, end)."""
    inside: list[int] = []
    i = start + 1
    while i < end:
        inside.append(i)
        i = pairs[i] + 1 if i in pairs else i + 1
    return inside


def _drop_trailing_commas(toks: list[Tok], pairs: dict[int, int]) -> bool:
    changed = False
    for start, end in pairs.items():
        comma = end - 1
        if (
            comma <= start
            or not toks[end].nl
            or toks[comma].text != ","
            or toks[comma].kind != "op"
        ):
            continue
        opener = toks[start].text
        others = [i for i in _top_level(toks, start, comma, pairs) if toks[i].text == ","]
        one_element_tuple = not others and (
            (opener == "(" and not _is_callee(toks, start))
            or (opener == "[" and _is_callee(toks, start))
        )
        if not one_element_tuple:
            toks[comma].kind = "dropped"
            changed = True
    return changed


def _statement_head(toks: list[Tok], index: int) -> str:
    """The first token of the logical line holding `index`."""
    while index > 0 and toks[index - 1].kind != "layout":
        index -= 1
    return toks[index].text


def _paren_rule(toks: list[Tok], start: int, depth: int) -> tuple[bool, frozenset[str]] | None:
    """Whether parentheses opening at `start` may wrap a whole expression there: (commas
    allowed inside, tokens allowed after the closing one), or None."""
    before = toks[start - 1] if start else Tok("layout", NEWLINE)
    if before.kind not in ("op", "name", "layout"):
        return None
    prev = "<LINE>" if before.text in _LINE_START else before.text
    if depth > 0:
        # A keyword argument or default (`f(x=(a))`), a dict value, slice bound or annotation
        # (`{k: (v)}`, `a[i:(j)]`, `def f(x: (int))`): one whole element, no comma inside.
        if prev in ("=", ":"):
            return False, _ELEMENT_ENDS | ({"="} if prev == ":" else set())
        return None
    if prev == "," and _statement_head(toks, start) == "assert":
        return False, _STATEMENT_ENDS  # the message of an assert
    return _WHOLE_AFTER.get(prev)


def _drop_grouping_parens(toks: list[Tok], pairs: dict[int, int], depths: dict[int, int]) -> bool:
    changed = False
    for start, end in pairs.items():
        if toks[start].text != "(" or end == start + 1 or _is_callee(toks, start):
            continue
        rule = _paren_rule(toks, start, depths[start])
        nxt = toks[end + 1].text if end + 1 < len(toks) else NEWLINE
        if rule is None or nxt not in rule[1]:
            continue
        commas_ok = rule[0]
        inside = [toks[i] for i in _top_level(toks, start, end, pairs)]
        if any(t.kind == "layout" for t in toks[start:end]):
            continue
        if any(t.text in ("for", ":=", "async") and t.kind in ("name", "op") for t in inside):
            continue  # a generator expression, or an assignment expression needing its parens
        if not commas_ok and any(t.text == "," and t.kind == "op" for t in inside):
            continue
        if any(t.text in ("*", "**", "yield") for t in inside[:1]):
            continue  # `(*a)` is no expression, `f(x=(yield))` needs its parentheses
        toks[start].kind = toks[end].kind = "dropped"
        changed = True
    return changed


# -- imports ------------------------------------------------------------------------------------


def _sort_imports(toks: list[Tok]) -> list[Tok]:
    """Canonical order for each run of consecutive import statements."""
    if not any(t.text in _IMPORT_WORDS and t.kind == "name" for t in toks):
        return toks  # no statement can start an import run (most targets): nothing moves
    return _sort_import_runs(toks)


_IMPORT_WORDS = frozenset({"import", "from"})


def _sort_import_runs(toks: list[Tok]) -> list[Tok]:
    out: list[Tok] = []
    run: list[list[Tok]] = []
    line: list[Tok] = []

    def flush() -> None:
        if run:
            out.extend(_canonical_imports(run))
            run.clear()

    for tok in toks:
        line.append(tok)
        if tok.kind == "layout":
            if (
                tok.text == NEWLINE
                and line[0].text in ("import", "from")
                and line[0].kind == "name"
            ):
                run.append(line)
            else:
                flush()
                out.extend(line)
            line = []
    flush()
    out.extend(line)
    return out


def _canonical_imports(run: list[list[Tok]]) -> list[Tok]:
    """One statement per module in sorted order, names sorted; as written if names clash."""
    text = "\n".join(" ".join(t.text for t in line[:-1]) for line in run)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return [t for line in run for t in line]
    bound: dict[str, tuple[str, str]] = {}
    plain: set[tuple[str, str]] = set()
    froms: dict[tuple[int, str], set[tuple[str, str]]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                name = alias.asname or alias.name.split(".")[0]
                origin = ("import", alias.name if alias.asname else alias.name.split(".")[0])
                if bound.setdefault(name, origin) != origin:
                    return [t for line in run for t in line]
                plain.add((alias.name, alias.asname or ""))
        elif isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            for alias in stmt.names:
                name = alias.asname or alias.name
                origin = (f"{stmt.level}:{module}", alias.name)
                if name != "*" and bound.setdefault(name, origin) != origin:
                    return [t for line in run for t in line]
                froms.setdefault((stmt.level, module), set()).add((alias.name, alias.asname or ""))
        else:
            return [t for line in run for t in line]
    out: list[Tok] = []
    for (level, module), names in sorted(
        froms.items(), key=lambda kv: (kv[0][1] != "__future__", kv[0])
    ):
        out += [Tok("name", "from"), Tok("op", "." * level)] if level else [Tok("name", "from")]
        out += [Tok("name", module)] if module else []
        out.append(Tok("name", "import"))
        for i, (name, asname) in enumerate(sorted(names)):
            out += [Tok("op", ",")] if i else []
            out += [Tok("name", name)] + (
                [Tok("name", "as"), Tok("name", asname)] if asname else []
            )
        out.append(Tok("layout", NEWLINE))
    for name, asname in sorted(plain):
        out += [Tok("name", "import"), Tok("name", name)]
        out += [Tok("name", "as"), Tok("name", asname)] if asname else []
        out.append(Tok("layout", NEWLINE))
    return out
