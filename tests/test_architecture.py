"""Import direction: every module imports only from its own unit or from layers below it, and no
modules import each other in a loop. Lazy (function-level) and TYPE_CHECKING imports count: they
hide a cycle from Python, not from a reader.

The layers are listed here, bottom first, and described in docs/architecture.md. A new module must
be placed: the test names any module that no unit covers. Units in one layer are independent
siblings (routing may not import handlers). Inside a package listed in INNER, the same rule holds
for its modules; a package's __init__ sits above its own modules (it may hand their names on).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "tierwise"

LAYERS: list[list[str]] = [
    ["tierwise", "tierwise.core"],  # `tierwise` itself only holds __version__
    ["tierwise.config", "tierwise.privacy", "tierwise.edits"],
    ["tierwise.context"],
    [
        "tierwise.routing",
        "tierwise.handlers",
        "tierwise.cache",
        "tierwise.providers",
        "tierwise.ledger",
    ],
    ["tierwise.engine"],
    ["tierwise.report"],
    ["tierwise.server"],
    ["tierwise.cli"],
    ["tierwise.__main__"],
]

# Packages whose modules are layered too (names relative to the package, bottom first).
INNER: dict[str, list[list[str]]] = {
    "tierwise.core": [
        ["records"],
        ["code", "models", "sqlite", "text"],
        ["errors"],
        ["tiers"],
        ["task"],
        ["results"],
    ],
    "tierwise.config": [
        ["sections"],
        ["tree"],
        ["loader", "paths"],
        ["validation"],
        ["layers"],
        ["schema", "edit"],
    ],
    "tierwise.privacy": [["globs", "values"], ["formats"], ["redaction"]],
    "tierwise.providers": [
        ["base", "keys"],
        ["sdk_errors", "catalogue", "streaming"],
        ["anthropic", "openai"],
        ["pool"],
    ],
    "tierwise.ledger": [["rows"], ["migrations"], ["store"]],
    "tierwise.report": [["outcomes"], ["stats"]],
    "tierwise.engine": [
        [
            "asks",
            "outcome",
            "pricing",
            "memo",
            "team",
            "apart",
            "checking",
            "rows",
            "spending",
            "tune_findings",
        ],
        ["sharing", "keying", "calling", "paths", "documents", "recent_asks"],
        ["stores", "answers"],
        ["cached", "tune", "route_inputs"],
        ["execution"],
        ["verified"],
        ["engine"],
    ],
    "tierwise.server": [
        ["convert", "settings", "progress", "jsonscan", "validation", "client_log"],
        ["args", "envelope"],
        ["rename", "state", "protocol", "framing"],
        ["app", "transport"],
        ["guards"],
        ["results"],
        ["renames"],
        ["runner"],
        ["actions"],
        ["features"],
    ],
    "tierwise.cli": [["common", "sources"], ["doctor", "plan", "tune"], ["commands"], ["main"]],
}


@attrs.frozen
class Edge:
    """One import: `source` imports `target` at `line` of `path`."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} imports {self.target}"


def module_files(root: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    out: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imported(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, list[str]]]:
    """(module, names) for an import statement or an import_module("...") call."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, []
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".") if is_package else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        yield base, [alias.name for alias in node.names]
    elif isinstance(node, ast.Call):
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name in ("import_module", "__import__") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield first.value, []


def import_edges(root: Path, package: str) -> tuple[dict[str, Path], list[Edge]]:
    """Every module of the package and every import between two of its modules."""
    modules = module_files(root, package)
    edges: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = str(path.relative_to(root))
        for node in ast.walk(tree):  # the whole tree: function bodies and TYPE_CHECKING too
            for target, names in _imported(node, module, path.name == "__init__.py"):
                if target != package and not target.startswith(package + "."):
                    continue
                subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
                plain = [n for n in names if f"{target}.{n}" not in modules]
                hits = subs + ([target] if plain or not names else [])
                for hit in hits:
                    while hit not in modules and "." in hit:
                        hit = hit.rsplit(".", 1)[0]
                    edges.append(Edge(module, hit, rel, getattr(node, "lineno", 0)))
    return modules, edges


def _unit(module: str, units: list[str], root_unit: str | None) -> str | None:
    """The longest unit covering the module (a root unit covers only itself)."""
    found = [u for u in units if module == u or (u != root_unit and module.startswith(u + "."))]
    return max(found, key=len) if found else None


def layer_problems(
    modules: dict[str, Path],
    edges: list[Edge],
    layers: list[list[str]],
    inner: dict[str, list[list[str]]],
    package: str = PACKAGE,
) -> list[str]:
    """Modules no unit covers, and imports that go up a layer or across to a sibling."""
    problems: list[str] = []
    level = {u: i for i, layer in enumerate(layers) for u in layer}
    units = list(level)
    for module in modules:
        if _unit(module, units, package) is None:
            problems.append(f"{module} is in no layer: add it to LAYERS in {Path(__file__).name}")
    for pkg, pkg_layers in inner.items():
        listed = {f"{pkg}.{name}" for layer in pkg_layers for name in layer}
        for module in modules:
            if module.startswith(pkg + ".") and module not in listed:
                own = module.removeprefix(pkg + ".").split(".")[0]
                if f"{pkg}.{own}" not in listed:
                    problems.append(f"{module} is in no layer of INNER[{pkg!r}]")
    inner_level = {
        f"{pkg}.{name}": i
        for pkg, pkg_layers in inner.items()
        for i, layer in enumerate(pkg_layers)
        for name in layer
    }
    for edge in edges:
        if edge.source == edge.target:
            continue
        source_unit = _unit(edge.source, units, package)
        target_unit = _unit(edge.target, units, package)
        if source_unit is None or target_unit is None:
            continue
        if source_unit != target_unit:
            if level[target_unit] > level[source_unit]:
                problems.append(f"{edge}: {source_unit} may not import the higher {target_unit}")
            elif level[target_unit] == level[source_unit]:
                problems.append(f"{edge}: {source_unit} and {target_unit} are independent siblings")
            continue
        if source_unit not in inner:
            continue
        if edge.target == source_unit:
            problems.append(f"{edge}: nothing inside {source_unit} may import its __init__")
            continue
        if edge.source == source_unit:
            continue  # the package's __init__ stands above its own modules
        src, dst = _inner_unit(edge.source, source_unit), _inner_unit(edge.target, source_unit)
        if src == dst or src not in inner_level or dst not in inner_level:
            continue  # the same module, or one already named as unplaced
        if inner_level[dst] > inner_level[src]:
            problems.append(f"{edge}: {src} may not import the higher {dst}")
        elif inner_level[dst] == inner_level[src]:
            problems.append(f"{edge}: {src} and {dst} are independent siblings")
    return problems


def _inner_unit(module: str, pkg: str) -> str:
    return f"{pkg}.{module.removeprefix(pkg + '.').split('.')[0]}"


def cycles(modules: dict[str, Path], edges: list[Edge]) -> list[list[str]]:
    """Groups of modules that import each other in a loop (Tarjan's strongly connected parts)."""
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for edge in edges:
        if edge.source != edge.target:
            graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def describe_cycles(groups: list[list[str]], edges: list[Edge]) -> list[str]:
    """Each cycle with the imports that tie it."""
    out = []
    for group in groups:
        ties = [str(e) for e in edges if e.source in group and e.target in group]
        out.append("cycle: " + ", ".join(group) + "\n    " + "\n    ".join(ties))
    return out


# -- the contract on tierwise itself ------------------------------------------------------------


def test_tierwise_has_no_import_cycles() -> None:
    modules, edges = import_edges(ROOT, PACKAGE)
    problems = describe_cycles(cycles(modules, edges), edges)
    assert not problems, "\n".join(problems)


def test_tierwise_imports_only_downwards() -> None:
    modules, edges = import_edges(ROOT, PACKAGE)
    problems = layer_problems(modules, edges, LAYERS, INNER)
    assert not problems, "\n".join(problems)


def test_the_root_package_imports_nothing_of_tierwise() -> None:
    _modules, edges = import_edges(ROOT, PACKAGE)
    assert [str(e) for e in edges if e.source == PACKAGE] == []


# -- the checker sees every kind of import (a synthetic package, so these can fail) -------------


def _package(tmp_path: Path, files: dict[str, str]) -> tuple[dict[str, Path], list[Edge]]:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_edges(tmp_path, "pkg")


TOY_LAYERS = [["pkg"], ["pkg.low"], ["pkg.high"]]


@pytest.mark.parametrize(
    "upward",
    [
        "from pkg.high import thing\n",
        "def f():\n    from pkg.high import thing\n    return thing\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.high import Thing\n",
        "import pkg.high\n",
        "from . import high\n",
        "import importlib\nhigh = importlib.import_module('pkg.high')\n",
    ],
    ids=["module-level", "lazy", "type-checking", "import", "relative", "import_module"],
)
def test_an_upward_import_of_any_kind_is_caught(tmp_path: Path, upward: str) -> None:
    modules, edges = _package(
        tmp_path, {"__init__.py": "", "low.py": upward, "high.py": "from pkg.low import x\n"}
    )
    problems = layer_problems(modules, edges, TOY_LAYERS, {}, package="pkg")
    assert any("pkg.low may not import the higher pkg.high" in p for p in problems), problems
    assert cycles(modules, edges) == [["pkg.high", "pkg.low"]]


def test_siblings_in_one_layer_are_independent(tmp_path: Path) -> None:
    modules, edges = _package(
        tmp_path, {"__init__.py": "", "a.py": "from pkg.b import y\n", "b.py": "y = 1\n"}
    )
    problems = layer_problems(modules, edges, [["pkg"], ["pkg.a", "pkg.b"]], {}, package="pkg")
    assert problems == ["pkg/a.py:1: pkg.a imports pkg.b: pkg.a and pkg.b are independent siblings"]


def test_inner_layers_and_unplaced_modules(tmp_path: Path) -> None:
    modules, edges = _package(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "from pkg.sub.top import z\n",
            "sub/base.py": "def f():\n    from pkg.sub.top import z\n",
            "sub/top.py": "z = 1\n",
            "sub/stray.py": "from pkg.sub import z\n",
        },
    )
    problems = layer_problems(
        modules, edges, [["pkg", "pkg.sub"]], {"pkg.sub": [["base"], ["top"]]}, package="pkg"
    )
    assert problems == [
        "pkg.sub.stray is in no layer of INNER['pkg.sub']",
        "pkg/sub/base.py:2: pkg.sub.base imports pkg.sub.top:"
        " pkg.sub.base may not import the higher pkg.sub.top",
        "pkg/sub/stray.py:1: pkg.sub.stray imports pkg.sub:"
        " nothing inside pkg.sub may import its __init__",
    ]


def test_a_module_outside_every_layer_is_named(tmp_path: Path) -> None:
    modules, edges = _package(tmp_path, {"__init__.py": "", "new.py": ""})
    problems = layer_problems(modules, edges, [["pkg"]], {}, package="pkg")
    assert problems == [f"pkg.new is in no layer: add it to LAYERS in {Path(__file__).name}"]


# -- docs/architecture.md matches the tree ------------------------------------------------------


def _documented_modules() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return {
        token
        for token in re.findall(r"`([\w/]+\.py)`", text)
        if not token.startswith(("tests/", "scripts/", "bench/"))
    }


def _modules_worth_a_line() -> set[str]:
    """Every module file, except an __init__.py that only holds a docstring."""
    out = set()
    for path in (ROOT / PACKAGE).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if path.name == "__init__.py" and len(tree.body) <= 1:
            continue
        out.add(str(path.relative_to(ROOT / PACKAGE)))
    return out


def test_the_architecture_doc_names_every_module() -> None:
    missing = sorted(_modules_worth_a_line() - _documented_modules())
    assert not missing, f"docs/architecture.md has no line for: {', '.join(missing)}"


def test_the_architecture_doc_names_no_module_that_is_gone() -> None:
    gone = sorted(m for m in _documented_modules() if not (ROOT / PACKAGE / m).is_file())
    assert not gone, f"docs/architecture.md names modules that do not exist: {', '.join(gone)}"
