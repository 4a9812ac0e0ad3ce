"""The static docstring tier: a skeleton built from the signature, with no model.

It is honest about what it knows: the summary is a sentence made from the name's words
("parse_token" -> "Parse token."), parameters and types come from the signature, and a
raised exception's condition is quoted from the code when the raise sits under an `if`.
"""

from __future__ import annotations

import ast
import re

from tierwise.core.code import Target
from tierwise.core.records import FrozenRecord, evolve, setfield
from tierwise.handlers.docstring_words import (
    PARAM_PLACEHOLDER,
    RETURN_PLACEHOLDER,
    YIELD_PLACEHOLDER,
    Param,
    param_text,
    returns_text,
    summary,
)
from tierwise.handlers.parsing import Layout, is_js

_NO_VALUE = frozenset({"None", "NoReturn", "Never", "void", "Promise<void>", "()", "!"})


class Facts(FrozenRecord):
    """What the skeleton documents."""

    __slots__ = ("params", "returns", "yields", "raises")
    params: tuple[Param, ...]
    returns: str | None  # the type, "" when a value is returned without a known type
    yields: bool
    raises: tuple[tuple[str, str], ...]  # (exception, description)

    def __init__(
        self,
        params: tuple[Param, ...],
        returns: str | None,
        yields: bool,
        raises: tuple[tuple[str, str], ...],
    ) -> None:
        setfield(self, "params", params)
        setfield(self, "returns", returns)
        setfield(self, "yields", yields)
        setfield(self, "raises", raises)


# A first parameter that is the receiver is never documented. Methods already leave it out of
# `target.params` (and the JS/TS extraction drops a `this:` parameter); a nested function
# taking `self` (a callback bound later, as Flask's `on_update(self)` in
# SecureCookieSession.__init__) does not.
_RECEIVERS = ("self", "cls")


def facts(target: Target) -> Facts:
    """Parameters, return, yield and raise facts for the target."""
    if target.kind in ("class", "module", "selection"):
        return Facts((), None, False, ())
    if target.language == "python":
        found = _python_facts(target)
    elif is_js(target.language):
        found = _js_facts(target)
    else:
        returns = target.returns if target.returns and target.returns not in _NO_VALUE else None
        found = Facts(tuple(Param(p) for p in target.params), returns, False, ())
    if target.language == "python" and found.params and found.params[0].name in _RECEIVERS:
        return evolve(found, params=found.params[1:])
    return found


def _python_function(target: Target) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse("\n".join(Layout.of(target).display()))
    except (SyntaxError, ValueError, RecursionError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == target.name:
            return node
    return None


def _own_nodes(func: ast.AST) -> list[ast.AST]:
    """Nodes of a function body in source order, skipping nested functions, classes, lambdas."""
    found: list[ast.AST] = []
    stack = list(reversed(list(ast.iter_child_nodes(func))))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        found.append(node)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return found


def _python_facts(target: Target) -> Facts:
    func = _python_function(target)
    if func is None:
        annotation = target.returns if target.returns not in (None, *_NO_VALUE) else None
        return Facts(tuple(Param(p) for p in target.params), annotation, False, ())
    args = func.args
    annotated: dict[str, Param] = {}
    positional = [*args.posonlyargs, *args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = [
        *zip(positional, defaults, strict=True),
        *zip(args.kwonlyargs, args.kw_defaults, strict=True),
    ]
    for arg, default in pairs:
        annotated[arg.arg] = Param(
            arg.arg,
            ast.unparse(arg.annotation) if arg.annotation else None,
            ast.unparse(default) if default is not None else None,
        )
    for star, rest in (("*", args.vararg), ("**", args.kwarg)):
        if rest is not None:
            annotated[star + rest.arg] = Param(
                star + rest.arg, ast.unparse(rest.annotation) if rest.annotation else None
            )
    params = tuple(annotated.get(name, Param(name)) for name in target.params)
    own = _own_nodes(func)
    yields = any(isinstance(n, ast.Yield | ast.YieldFrom) for n in own)
    returns: str | None = None
    if func.returns is not None and ast.unparse(func.returns) not in _NO_VALUE:
        returns = ast.unparse(func.returns)
    elif any(isinstance(n, ast.Return) and _returns_value(n) for n in own):
        returns = ""
    return Facts(params, None if yields else returns, yields, _python_raises(target, func))


def _returns_value(node: ast.Return) -> bool:
    value = node.value
    return value is not None and not (isinstance(value, ast.Constant) and value.value is None)


def _python_raises(target: Target, func: ast.AST) -> tuple[tuple[str, str], ...]:
    """Each raised exception with the conditions it is raised under, in source order."""
    reasons: dict[str, list[str]] = {}
    for node in _own_nodes(func):
        if isinstance(node, ast.If):
            for stmt in node.body:
                name = _raised_name(stmt)
                if name:
                    reasons.setdefault(name, []).append(f"`{ast.unparse(node.test)}`")
        elif isinstance(node, ast.ExceptHandler) and node.type is not None:
            for inner in ast.walk(node):
                name = _raised_name(inner)
                if name:
                    reasons.setdefault(name, []).append(f"{ast.unparse(node.type)} is raised")
    described = []
    for name in target.raises:
        found = list(dict.fromkeys(reasons.get(name, [])))
        text = (
            "If " + "; or if ".join(found) + "." if found else "Raised directly by this function."
        )
        described.append((name, text))
    return tuple(described)


def _raised_name(stmt: ast.AST) -> str | None:
    if not isinstance(stmt, ast.Raise) or stmt.exc is None:
        return None
    exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
    return ast.unparse(exc)


def _js_facts(target: Target) -> Facts:
    signature = target.signature
    open_at = signature.find("(")
    pieces = _split_params(signature[open_at + 1 :]) if open_at >= 0 else []
    typed: dict[str, Param] = {}
    for piece in pieces:
        piece = re.sub(r"^(?:(?:public|private|protected|readonly)\s+)+", "", piece.strip())
        match = re.match(r"(\.\.\.)?([\w$]+)\??\s*(?::\s*([^=]+?))?\s*(?:=\s*(.+))?$", piece, re.S)
        if match:
            name = match.group(2)
            typed[name] = Param(name, match.group(3), match.group(4))
    params = tuple(typed.get(name, Param(name)) for name in target.params)
    returns: str | None = None
    if target.returns and target.returns.strip() not in _NO_VALUE:
        returns = target.returns.strip()
    elif re.search(r"\breturn\s+[^;\s}]", target.text) or re.search(
        r"=>\s*[^{\s]", signature + target.text[:200]
    ):
        returns = ""
    raises = []
    for name in target.raises:
        cond = re.search(
            r"if\s*\(([^\n]+?)\)\s*\{?\s*throw\s+new\s+" + re.escape(name) + r"\b",
            target.text,
            re.S,
        )
        raises.append(
            (
                name,
                f"If `{' '.join(cond.group(1).split())}`."
                if cond
                else "Thrown directly by this function.",
            )
        )
    return Facts(params, returns, False, tuple(raises))


def _split_params(text: str) -> list[str]:
    """Top-level comma-separated parameters up to the closing parenthesis."""
    pieces: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return [p for p in pieces if p.strip()]


def skeleton(target: Target, style: str) -> str:
    """The skeleton docstring text (no quotes or comment markers) in the given style."""
    known = facts(target)
    voice = {"godoc": "go", "rustdoc": "third"}.get(style, "imperative")
    head = summary(target, returns_value=known.returns is not None, voice=voice)
    if style in ("godoc", "rustdoc", "comment") or target.kind in ("class", "module", "selection"):
        return head
    sections = {
        "google": _google,
        "numpy": _numpy,
        "sphinx": _sphinx,
        "pep257": _pep257,
    }.get(style, _jsdoc)(target, known)
    return "\n\n".join([head, *sections]) if sections else head


def _default_note(param: Param) -> str:
    return f" Defaults to {param.default}." if param.default is not None else ""


def param_entries(target: Target, style: str, params: tuple[Param, ...]) -> list[list[str]]:
    """Each parameter's lines in a style, relative to the entries' own indentation."""
    entries: list[list[str]] = []
    typed = target.language not in ("typescript", "tsx")  # TS signatures already carry types
    for p in params:
        text = f"{param_text(p)}{_default_note(p)}"
        if style == "google":
            kind = f"{p.type}, optional" if p.type and p.default is not None else p.type
            entries.append([f"{p.name} ({kind}): {text}" if kind else f"{p.name}: {text}"])
        elif style == "numpy":
            kind = ", ".join(
                x for x in (p.type, "optional" if p.default is not None else None) if x
            )
            entries.append([f"{p.name} : {kind}" if kind else p.name, f"    {text}"])
        elif style == "sphinx":
            rows = [f":param {p.name}: {text}"]
            entries.append([*rows, f":type {p.name}: {p.type}"] if p.type else rows)
        elif style == "pep257":
            plain = param_text(p).rstrip(".")
            if plain != PARAM_PLACEHOLDER.rstrip("."):
                plain = plain[0].lower() + plain[1:]
            note = f" (default {p.default})" if p.default is not None else ""
            entries.append([f"{p.name} -- {plain}{note}"])
        else:  # jsdoc and javadoc
            kind = f"{{{p.type.strip()}}} " if p.type and typed else ""
            name = p.name.lstrip(".")
            label = f"[{name}={p.default.strip()}]" if p.default is not None else name
            entries.append([f"@param {kind}{label} - {param_text(p)}"])
    return entries


# Where a style's parameter entries sit: under a header (indented by `indent`) or as bare lines.
PARAM_HEADERS = {
    "google": ("Args:", "    "),
    "numpy": ("Parameters\n----------", ""),
    "pep257": ("Arguments:", ""),
}


def param_section(target: Target, style: str, params: tuple[Param, ...]) -> str:
    """The whole parameter section of a style (header and entries), or "" for none."""
    if not params:
        return ""
    header, indent = PARAM_HEADERS.get(style, ("", ""))
    rows = [indent + line for entry in param_entries(target, style, params) for line in entry]
    return "\n".join([header, *rows] if header else rows)


def _google(target: Target, known: Facts) -> list[str]:
    sections: list[str] = []
    if known.params:
        sections.append(param_section(target, "google", known.params))
    if known.yields:
        sections.append(f"Yields:\n    {returns_text(target, yields=True)}")
    elif known.returns is not None:
        prefix = f"{known.returns}: " if known.returns else ""
        sections.append(f"Returns:\n    {prefix}{returns_text(target)}")
    if known.raises:
        sections.append("Raises:\n" + "\n".join(f"    {n}: {why}" for n, why in known.raises))
    return sections


def _numpy(target: Target, known: Facts) -> list[str]:
    sections: list[str] = []
    if known.params:
        sections.append(param_section(target, "numpy", known.params))
    if known.yields or known.returns is not None:
        title = "Yields\n------" if known.yields else "Returns\n-------"
        kind = known.returns or "object"
        sections.append(f"{title}\n{kind}\n    {returns_text(target, yields=known.yields)}")
    if known.raises:
        rows = [f"{n}\n    {why}" for n, why in known.raises]
        sections.append("Raises\n------\n" + "\n".join(rows))
    return sections


def _sphinx(target: Target, known: Facts) -> list[str]:
    rows: list[str] = [param_section(target, "sphinx", known.params)] if known.params else []
    if known.yields:
        rows.append(f":yields: {returns_text(target, yields=True)}")
    elif known.returns is not None:
        rows.append(f":returns: {returns_text(target)}")
        if known.returns:
            rows.append(f":rtype: {known.returns}")
    rows.extend(f":raises {n}: {why}" for n, why in known.raises)
    return ["\n".join(rows)] if rows else []


def _pep257(target: Target, known: Facts) -> list[str]:
    sections: list[str] = []
    if known.params:
        sections.append(param_section(target, "pep257", known.params))
    if known.yields or known.returns is not None:
        text = returns_text(target, yields=known.yields)
        verb = "Yield" if known.yields else "Return"
        placeholder = text in (RETURN_PLACEHOLDER, YIELD_PLACEHOLDER)
        sections.append(text if placeholder else f"{verb} {_lower_first(text)}")
    for name, why in known.raises:
        sections.append(f"Raise {name}: {_lower_first(why)}")
    return sections


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _jsdoc(target: Target, known: Facts) -> list[str]:
    rows: list[str] = [param_section(target, "jsdoc", known.params)] if known.params else []
    typed = target.language not in ("typescript", "tsx")  # TS signatures already carry types
    if known.returns is not None:
        kind = f"{{{known.returns}}} " if known.returns and typed else ""
        tag = "@returns" if is_js(target.language) else "@return"  # Javadoc spells it @return
        rows.append(f"{tag} {kind}{returns_text(target)}")
    rows.extend(f"@throws {{{n}}} {why}" for n, why in known.raises)
    return ["\n".join(rows)] if rows else []
