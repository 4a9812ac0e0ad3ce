"""Fitting a target's context to a token budget: items are taken most relevant first while
they fit (`fit`), and a fitted context is cut down to a smaller budget least relevant first
(`prune`). Sizes are `budget_tokens`, which ignores what a formatter changes; the target itself
is never cut.
"""

from __future__ import annotations

import functools

from tierwise.core.code import CodeContext, budget_tokens, significant_chars, tokens_of_significant
from tierwise.core.records import evolve

# Every target of a file is offered the same imports and signatures: each counted once.
_item_chars = functools.lru_cache(maxsize=4096)(significant_chars)

# The significant characters of render()'s section headings (budget_tokens skips layout).
_HEADINGS = {
    "import": significant_chars("Imports:"),
    "enclosing": significant_chars("Enclosing:"),
    "callee": significant_chars("Signatures of functions it calls in this file:"),
}


def fit(
    context: CodeContext,
    items: list[tuple[str, str]],
    budget: int,
    import_order: list[str] | None = None,
) -> CodeContext:
    """Add items while they fit; the target is always whole (over budget: no context).

    The size of each trial is counted, not rendered: budget_tokens counts significant
    characters, which add up over render()'s pieces, so an item adds its own characters and,
    for the first of its section, the heading's (tests/unit/test_fit_reference.py keeps this
    equal to assembling and rendering every trial).
    """
    target_tokens = budget_tokens(context.target.text)
    if target_tokens > budget:
        return context
    order = import_order or []
    in_order: dict[str, int] = {}
    for text in order:
        in_order[text] = in_order.get(text, 0) + 1
    chosen: dict[str, list[str]] = {"enclosing": [], "import": [], "callee": []}
    chosen_imports: set[str] = set()
    shown = {"enclosing": False, "import": False, "callee": False}  # section rendered yet
    size = 0  # significant characters of the context rendered from `chosen`
    accepted = False
    for kind, text in items:
        if kind == "import":
            # render() shows import_order's lines whose text was chosen, each time it occurs.
            copies = 0 if text in chosen_imports else in_order.get(text, 0)
            grows = copies * _item_chars(text)
            opens = copies > 0 and not shown["import"]
        elif kind == "enclosing":
            # Only the first enclosing item is rendered, and only when it is not empty.
            first = not chosen["enclosing"] and bool(text)
            grows = _item_chars(text) if first else 0
            opens = first
        else:
            grows = _item_chars(text)
            opens = not shown["callee"]
        trial = size + grows + (_HEADINGS[kind] if opens else 0)
        if target_tokens + tokens_of_significant(trial) <= budget:
            chosen[kind].append(text)
            if kind == "import":
                chosen_imports.add(text)
            shown[kind] = shown[kind] or opens
            size = trial
            accepted = True
    return assemble(context, chosen, order) if accepted else context


def prune(context: CodeContext, budget: int) -> CodeContext:
    """The context cut down to a smaller budget, least relevant first: other callees and
    imports, then the enclosing signature. The target is never touched."""
    target_tokens = budget_tokens(context.target.text)
    current = context
    while target_tokens + budget_tokens(current.render()) > budget:
        if current.callees:
            current = evolve(current, callees=current.callees[:-1])
        elif current.imports:
            current = evolve(current, imports=current.imports[:-1])
        elif current.enclosing:
            current = evolve(current, enclosing=None)
        else:
            break
    return current


def assemble(
    context: CodeContext, chosen: dict[str, list[str]], import_order: list[str]
) -> CodeContext:
    wanted = set(chosen["import"])  # a file's targets are offered all of its imports
    imports = [text for text in import_order if text in wanted]
    return evolve(
        context,
        imports=tuple(imports),
        callees=tuple(chosen["callee"]),
        enclosing=chosen["enclosing"][0] if chosen["enclosing"] else None,
    )
