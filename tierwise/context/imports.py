"""The names that import statements bind, with their origin, found without a parser (Python,
JavaScript/TypeScript, Go, Rust)."""

from __future__ import annotations

import re

_PY_FROM = re.compile(r"^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\r\n]*)", re.M)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\r\n]*)", re.M)
_JS_IMPORT = re.compile(
    r"^[ \t]*import\s+(?:type\s+)?([\s\S]*?)\s+from\s+['\"]([^'\"]+)['\"]", re.M
)
_JS_REQUIRE = re.compile(
    r"(?:const|let|var)\s+([\w$]+|\{[^}]*\})\s*=\s*require\(\s*['\"]([^'\"]+)['\"]\s*\)"
)
_GO_SPEC = re.compile(r"(?:^|\bimport)[ \t]*(?:(?!import\b)([\w.]+)[ \t]+)?\"([^\"]+)\"", re.M)
_RUST_USE = re.compile(r"\buse\s+([^;]+);")
_WORD = re.compile(r"[A-Za-z_$][\w$]*")


def import_bindings(language: str, text: str) -> list[tuple[str, str]]:
    """Names that import statements in `text` bind, with their origin, found without a parser."""
    pairs: list[tuple[str, str]] = []
    if language == "python":
        for match in _PY_FROM.finditer(text):
            module = match.group(1)
            for name, alias in _aliases(match.group(2)):
                origin = module + name if module.endswith(".") else f"{module}.{name}"
                if name != "*":
                    pairs.append((alias or name, origin))
        for match in _PY_IMPORT.finditer(text):
            for name, alias in _aliases(match.group(1)):
                pairs.append((alias, name) if alias else (name.split(".")[0], name.split(".")[0]))
    elif language in ("javascript", "typescript", "tsx"):
        for match in _JS_IMPORT.finditer(text):
            pairs.extend(_js_clause(match.group(1), match.group(2)))
        for match in _JS_REQUIRE.finditer(text):
            pairs.extend(_js_clause(match.group(1), match.group(2), require=True))
    elif language == "go":
        for match in _GO_SPEC.finditer(text):
            alias, path = match.group(1), match.group(2)
            bound = alias or re.sub(r"^go-|\.v\d+$", "", path.rsplit("/", 1)[-1])
            if bound not in ("_", "."):
                pairs.append((bound, path))
    elif language == "rust":
        for match in _RUST_USE.finditer(text):
            tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+", "@", match.group(1)))
            pairs.extend(_rust_use(tree, ""))
    return pairs


def _aliases(names: str) -> list[tuple[str, str | None]]:
    names = re.sub(r"#[^\n]*", "", names).strip("() \\\t\r\n")
    found: list[tuple[str, str | None]] = []
    for piece in names.replace("\\", " ").split(","):
        words = piece.split()
        if len(words) == 3 and words[1] == "as":
            found.append((words[0], words[2]))
        elif len(words) == 1:
            found.append((words[0], None))
    return found


def _js_clause(clause: str, source: str, *, require: bool = False) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    braces = re.search(r"\{([^}]*)\}", clause)
    if braces:
        for piece in braces.group(1).split(","):
            words = re.split(r"\s+as\s+|\s*:\s*", piece.strip())
            if words[0]:
                pairs.append((words[-1].strip(), f"{source}.{words[0].strip()}"))
        clause = clause[: braces.start()] + clause[braces.end() :]
    star = re.search(r"\*\s*as\s+([\w$]+)", clause)
    if star:
        pairs.append((star.group(1), source))
        clause = clause[: star.start()] + clause[star.end() :]
    default = _WORD.search(clause)
    if default and (require or not braces or clause.strip(" ,")):
        pairs.append((default.group(0), source))
    return pairs


def _rust_use(tree: str, prefix: str) -> list[tuple[str, str]]:
    brace = tree.find("{")
    if brace >= 0 and tree.endswith("}"):
        inner_prefix = prefix + tree[:brace]
        pairs: list[tuple[str, str]] = []
        depth, start, inner = 0, 0, tree[brace + 1 : -1]
        for index, char in enumerate(inner + ","):
            depth += {"{": 1, "}": -1}.get(char, 0)
            if char == "," and depth == 0:
                if inner[start:index]:
                    pairs.extend(_rust_use(inner[start:index], inner_prefix))
                start = index + 1
        return pairs
    if tree.endswith("*"):
        return []
    path, _, alias = tree.partition("@")
    if alias:
        return [(alias, prefix + path)]
    full = (prefix + tree).removesuffix("::self")
    return [(full.rsplit("::", 1)[-1], full)]
