"""Cache keys: normalise the target so that edits which cannot change an answer keep the key.

Normalisation removes what does not change meaning and what formatters change: comments, blank
lines, spacing, line wrapping inside brackets, string and f-string quote style, number
spelling, magic trailing commas, wrapping parentheses, the order of a run of imports (the
Python rules are in tierwise.cache.python_norm). Python's tokens come from a scanner that reads
as `tokenize` does, or from `tokenize` itself where the scanner cannot promise that (and `ast`
for docstrings and f-strings); other languages use the tree-sitter token stream; anything else gets
a whitespace collapse. The context part (imports, enclosing signature, callee signatures) is
normalised the same way. The whole target is always keyed: it is never cut. The output is only
ever hashed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping, Sequence

from tierwise.cache import python_norm

# Part of every key: bump it when normalisation or the key layout changes, so old entries
# (computed under other rules) can never be served for a new key. 3: the namespaced layout
# shared with L2, the concrete provider, generation parameters and language as fields.
KEY_VERSION = "3"


def normalise(language: str, code: str, *, drop_docstrings: bool = False) -> str:
    """Meaning-preserving normal form of `code`: formatting and comments removed."""
    if language == "python":
        tokens = _python_tokens(code, drop_docstrings=drop_docstrings)
        if tokens is not None:
            return " ".join(tokens)  # encoded as _join encodes them
    else:
        tokens = _tree_sitter_tokens(language, code)
        if tokens is not None:
            return _join(tokens)
    return collapse_whitespace(code)


def collapse_whitespace(code: str) -> str:
    """The last resort: runs of whitespace become one space.

    Comments are deliberately kept: stripping `#` or `//` without a parser would also eat
    string contents ("http://x", "#fff") and could give two different programs one key.
    """
    return " ".join(code.split())


def digest(text: str) -> str:
    """SHA-256 hex digest of a text (for the context part of a key)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def context_digest(
    language: str,
    *,
    imports: Sequence[str],
    enclosing: str | None,
    callees: Sequence[str],
    normal: Callable[[str, str], str] = normalise,
) -> str:
    """The context part of a key: each item in the same normal form as the target.

    Imports are normalised as one run, so an import sorter's order does not matter; a callee
    signature wrapped by a formatter keeps its key, and one whose string default changed does
    not (a whitespace collapse would have merged `"    "` and `"  "`). `normal` is `normalise`
    or a memory of it (every function of a file shares its imports, a class's methods share
    their enclosing signature).
    """
    fields = {
        "imports": normal(language, "\n".join(imports)) if imports else "",
        "enclosing": normal(language, enclosing) if enclosing else "",
        "callees": [normal(language, callee) for callee in callees],
    }
    return digest(json.dumps(fields, sort_keys=True, ensure_ascii=True))


def cache_key(
    *,
    namespace: str,
    action: str,
    prompt_version: str,
    model: str,
    params: Mapping[str, str | int | float],
    language: str,
    normalised_target: str,
    context_digest: str,
    options: Mapping[str, str],
) -> str:
    """The one key of an answer, in L1 and L2 alike: `tierwise:v{N}:{namespace}:{action}:{hex}`.

    The hex is a SHA-256 over a canonical JSON (sorted keys, one explicit field each, never a
    concatenation) of everything that can change an answer: the key version, the namespace,
    the action and its prompt version, the concrete provider and model (`model` is the
    "provider:model" ref), the generation parameters, the language, the normalised target's
    hash, the context digest and the action options. Nothing in it depends on dict order, on a
    path or on who asks, so two developers with the same code and settings share a key.
    """
    if not _PREFIX_PART.fullmatch(namespace) or not _PREFIX_PART.fullmatch(action):
        raise ValueError(f"a key's namespace and action are plain names: {namespace!r}, {action!r}")
    provider, _, _ = model.partition(":")
    fields = {
        "key_version": KEY_VERSION,
        "namespace": namespace,
        "action": action,
        "prompt_version": prompt_version,
        "provider": provider,
        "model": model,
        "params": {str(k): _param(v) for k, v in params.items()},
        "language": language,
        "target": digest(normalised_target),
        "context": context_digest,
        "options": {str(k): str(v) for k, v in options.items()},
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    hexdigest = hashlib.sha256(canonical.encode("ascii")).hexdigest()
    return f"{key_prefix(namespace)}{action}:{hexdigest}"


def key_prefix(namespace: str) -> str:
    """What every key of a namespace starts with (clearing and scanning match on it)."""
    return f"tierwise:v{KEY_VERSION}:{namespace}:"


# The personal namespace, when no team is configured: L1 only.
LOCAL_NAMESPACE = "local"
_PREFIX_PART = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _param(value: str | int | float) -> str | int | float:
    """Numbers stay numbers in the canonical JSON; 2048 and 2048.0 are one parameter."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _join(tokens: Iterable[str]) -> str:
    """Join tokens with single spaces so that the join can be split back unambiguously.

    A token holding whitespace (a string literal's contents), or starting with a double quote,
    is written as a JSON string with spaces escaped; every other token is written as is.
    """
    return " ".join(_encode(t) for t in tokens)


# Unicode whitespace: sre's `\s` is Py_UNICODE_ISSPACE, the test str.isspace() makes; one search
# instead of a generator over each token's characters took an eighth off a target's normal form.
_SPACE = re.compile(r"\s")


def _encode(token: str) -> str:
    if token.startswith('"') or _SPACE.search(token) is not None:
        return json.dumps(token, ensure_ascii=True).replace(" ", "\\u0020")
    return token


def _tree_sitter_tokens(language: str, code: str) -> list[str] | None:
    """Leaf tokens from tree-sitter, or None when the backend or the grammar is missing."""
    try:
        from tierwise.context.grammars import token_stream
    except ImportError:  # tree-sitter not installed: whitespace collapse instead
        return None
    try:
        return token_stream(language, code)
    except (ValueError, RuntimeError, UnicodeError):  # a parser failure is a fallback, not a crash
        return None


def _python_tokens(code: str, *, drop_docstrings: bool) -> list[str] | None:
    """The Python normal form's tokens (tierwise.cache.python_norm), each as `_join` writes it,
    or None when the code does not tokenize."""
    ranges = _docstring_ranges(code) if drop_docstrings else []

    def skip(start: Position, end: Position) -> bool:
        return any(a <= start and end <= b for a, b in ranges)

    try:
        # No ranges, no skip: a call per token was a tenth of normalising a target.
        toks, scanned = python_norm.tokens(code, skip=skip if ranges else None)
    except (tokenize.TokenError, SyntaxError):  # unclosed bracket, bad dedent, stray character
        return None
    formatted = python_norm.without_formatting(toks)
    if not scanned:
        return [_encode(t.text) for t in formatted]
    # Of the scanner's tokens only a literal can hold whitespace or start with a quote: `_encode`
    # is called for those alone, as `_join` would (a call per token was a tenth).
    return [t.text if t.kind in _PLAIN_KINDS else _encode(t.text) for t in formatted]


# The scanner's names and operators, numbers (repr or source spelling) and layout markers.
_PLAIN_KINDS = frozenset({"name", "op", "number", "layout"})


Position = tuple[int, int]


def _docstring_ranges(code: str) -> list[tuple[Position, Position]]:
    """(start, end) tokenize positions of every module, class and function docstring."""
    parsed = _parse_fragment(code)
    if parsed is None:
        return []
    tree, line_shift = parsed
    lines = code.splitlines(keepends=True)
    ranges: list[tuple[Position, Position]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        body = node.body
        if not (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            continue
        doc = body[0]
        if doc.end_lineno is None or doc.end_col_offset is None:
            continue
        start_line, end_line = doc.lineno - line_shift, doc.end_lineno - line_shift
        if start_line < 1 or end_line > len(lines):
            continue
        ranges.append(
            (
                (start_line, _char_col(lines[start_line - 1], doc.col_offset)),
                (end_line, _char_col(lines[end_line - 1], doc.end_col_offset)),
            )
        )
    return ranges


def _parse_fragment(code: str) -> tuple[ast.Module, int] | None:
    """Parse code that may be an indented method; returns the tree and its line offset."""
    try:
        return ast.parse(code), 0
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        pass
    # An extracted method starts indented; under an `if` header it parses with the same columns.
    try:
        return ast.parse("if 1:\n" + code), 1
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def _char_col(line: str, byte_col: int) -> int:
    """Convert an ast UTF-8 byte column into the character column tokenize reports."""
    return len(line.encode("utf-8", "surrogatepass")[:byte_col].decode("utf-8", "replace"))
