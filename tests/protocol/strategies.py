"""Hypothesis strategies for hostile LSP input: params, positions, documents, framing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Text a client can send: any code point, lone surrogates included (JSON escapes them).
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
surrogate = st.sampled_from(["\ud800", "\udfff", "\udc80x", "a\ud83d"])
weird_text = st.one_of(
    any_text,
    surrogate,
    st.sampled_from(
        ["", " ", "\x00", "\r\n", "auto", "AUTO", "frontier ", "…", "../../etc/passwd"]
    ),
    st.integers(1, 200_000).map(lambda n: "x" * n),
)

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.sampled_from([0, -1, 1, 2**31, -(2**31) - 1, 2**53 + 1, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    weird_text,
)
json_value = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(weird_text, inner, max_size=5),
    max_leaves=15,
)

ACTIONS = ["docstring", "rename", "explain", "review", "design"]
TIERS = ["static", "local", "budget", "mid", "frontier", "auto"]


def number() -> st.SearchStrategy[Any]:
    """A position field: mostly plausible, often not (negative, huge, float, string, null)."""
    return st.one_of(
        st.integers(0, 40),
        st.integers(-5, 10**12),
        st.sampled_from([-1, 2**31 - 1, 2**31, 2**63, 10**400, 0.5, 1.0, "3", None, True, [], {}]),
    )


def position() -> st.SearchStrategy[Any]:
    """An LSP position, or something in its place."""
    return st.one_of(
        st.fixed_dictionaries({"line": number(), "character": number()}),
        st.fixed_dictionaries({"line": number()}),
        json_value,
    )


def range_() -> st.SearchStrategy[Any]:
    """An LSP range, or something in its place."""
    return st.one_of(st.fixed_dictionaries({"start": position(), "end": position()}), json_value)


def field(known: list[str]) -> st.SearchStrategy[Any]:
    """A string-valued field: a known value, a near miss, or anything."""
    return st.one_of(
        st.sampled_from(known), st.sampled_from(known).map(str.upper), weird_text, json_value
    )


def uri(open_uris: list[str]) -> st.SearchStrategy[Any]:
    """A document URI: an open one, a closed or odd one, or not a string."""
    return st.one_of(
        st.sampled_from(open_uris),
        st.sampled_from(
            ["", "file:///nowhere.py", "untitled:1", "file://%00", "::", "file:///\ud800.py"]
        ),
        st.sampled_from(open_uris).map(lambda u: u + "?#\x00"),
        json_value,
    )


def command_arguments(command: str, open_uris: list[str]) -> st.SearchStrategy[Any]:
    """executeCommand `arguments` for a command: shaped like its schema, or not at all."""
    shaped: dict[str, st.SearchStrategy[Any]] = {
        "tierwise.run": st.fixed_dictionaries(
            {"action": field(ACTIONS), "uri": uri(open_uris)},
            optional={
                "position": position(),
                "range": range_(),
                "tier": field(TIERS),
                "refresh": st.one_of(st.booleans(), json_value),
                "extra": json_value,
            },
        ),
        "tierwise.route": st.fixed_dictionaries(
            {"action": field(ACTIONS), "uri": uri(open_uris)},
            optional={"position": position(), "range": range_(), "tier": field(TIERS)},
        ),
        "tierwise.setTier": st.fixed_dictionaries(
            {}, optional={"tier": field(TIERS), "x": json_value}
        ),
        "tierwise.escalate": st.fixed_dictionaries({}, optional={"uri": uri(open_uris)}),
        "tierwise.applyRename": st.fixed_dictionaries(
            {"uri": uri(open_uris), "position": position()},
            optional={"name": weird_text | json_value},
        ),
    }
    one = shaped.get(command, json_value)
    damaged_valid = valid_arguments(command, open_uris).flatmap(damaged)
    return st.one_of(
        st.lists(damaged_valid, min_size=1, max_size=1),
        st.lists(damaged_valid, min_size=1, max_size=1),
        st.lists(one, min_size=1, max_size=1),
        st.lists(one | json_value, max_size=3),
        json_value,
        st.none(),
    )


def code_action_params(open_uris: list[str]) -> st.SearchStrategy[Any]:
    """textDocument/codeAction params, shaped or not."""
    diagnostic = st.one_of(
        st.fixed_dictionaries(
            {"range": range_(), "message": weird_text | json_value},
            optional={
                "severity": number(),
                "source": json_value,
                "data": json_value,
                "code": json_value,
            },
        ),
        json_value,
    )
    context = st.one_of(
        st.fixed_dictionaries(
            {"diagnostics": st.lists(diagnostic, max_size=3) | json_value},
            optional={
                "only": st.lists(
                    field(["quickfix", "refactor", "source", "refactor.rewrite", ""]) | leaf,
                    max_size=3,
                )
                | json_value,
                "triggerKind": number(),
            },
        ),
        json_value,
    )
    return st.one_of(
        st.fixed_dictionaries(
            {
                "textDocument": st.fixed_dictionaries({"uri": uri(open_uris)}) | json_value,
                "range": range_(),
                "context": context,
            }
        ),
        json_value,
    )


def frame_bytes(message: Any) -> bytes:
    """A message framed correctly."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


# -- valid messages, then damaged ---------------------------------------------------------------

type_swaps = st.sampled_from([None, True, 0, -1, 1.5, "", "x", [], {}, [1], {"a": 1}, 10**20])


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*path, i))
    return out


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _set(value[head], rest, new)}
    copy = list(value)
    copy[head] = _set(copy[head], rest, new)
    return copy


def _delete(value: Any, path: tuple[Any, ...]) -> Any:
    if len(path) == 1:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k != path[0]}
        return [v for i, v in enumerate(value) if i != path[0]]
    head = path[0]
    if isinstance(value, dict):
        return {**value, head: _delete(value[head], path[1:])}
    copy = list(value)
    copy[head] = _delete(copy[head], path[1:])
    return copy


@st.composite
def damaged(draw: st.DrawFn, base: Any, most: int = 3) -> Any:
    """A valid value with up to `most` fields replaced (by another JSON type or anything),
    deleted, or joined by an unknown one."""
    value = base
    for _ in range(draw(st.integers(0, most))):
        path = draw(st.sampled_from(_paths(value)))
        op = draw(st.sampled_from(["swap", "swap", "any", "delete", "add"]))
        if op == "delete" and path:
            value = _delete(value, path)
        elif op == "add" and isinstance(_get(value, path), dict):
            value = _set(value, path, {**_get(value, path), draw(weird_text): draw(json_value)})
        else:
            value = _set(value, path, draw(type_swaps if op == "swap" else json_value))
    return value


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def valid_position(lines: int = 20, width: int = 8) -> st.SearchStrategy[dict[str, int]]:
    """A position inside a small document (most land on a real character)."""
    return st.fixed_dictionaries(
        {"line": st.integers(0, lines), "character": st.integers(0, width)}
    )


KINDS = ["quickfix", "refactor", "refactor.rewrite", "refactor.tierwise.review", "source", ""]


def valid_code_action(uris: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A well-formed codeAction request's params."""
    return st.fixed_dictionaries(
        {
            "textDocument": st.fixed_dictionaries({"uri": st.sampled_from(uris)}),
            "range": st.fixed_dictionaries({"start": valid_position(), "end": valid_position()}),
            "context": st.fixed_dictionaries(
                {"diagnostics": st.just([])},
                optional={
                    "only": st.lists(st.sampled_from(KINDS), max_size=2),
                    "triggerKind": st.sampled_from([1, 2]),
                },
            ),
        }
    )


def valid_arguments(command: str, uris: list[str]) -> st.SearchStrategy[Any]:
    """Well-formed arguments for a command."""
    target = {
        "action": st.sampled_from(ACTIONS),
        "uri": st.sampled_from(uris),
        "position": valid_position(),
    }
    return {
        "tierwise.run": st.fixed_dictionaries(
            target, optional={"tier": st.sampled_from(TIERS), "refresh": st.booleans()}
        ),
        "tierwise.route": st.fixed_dictionaries(target, optional={"tier": st.sampled_from(TIERS)}),
        "tierwise.setTier": st.fixed_dictionaries({"tier": st.sampled_from(TIERS)}),
        "tierwise.escalate": st.fixed_dictionaries({}, optional={"uri": st.sampled_from(uris)}),
        "tierwise.applyRename": st.fixed_dictionaries(
            {
                "uri": st.sampled_from(uris),
                "position": valid_position(),
                "name": st.sampled_from(["total", "compute", "x1"]),
            }
        ),
    }.get(command, st.just({}))
