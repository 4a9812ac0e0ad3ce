"""The parser-free pieces: language detection, the lexer, lexical imports, the block heuristic."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.context.extract import extract, list_targets, load
from tierwise.context.imports import import_bindings
from tierwise.context.languages import language_for, split_lines
from tierwise.context.lexer import lex
from tierwise.routing.signals import compute_signals

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b/mod.py", "python"),
        ("stubs.PYI", "python"),
        ("app.mjs", "javascript"),
        ("view.jsx", "javascript"),
        ("api.ts", "typescript"),
        ("page.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("Shop.java", "java"),
        ("notes.txt", "text"),
        ("Makefile", "text"),
    ],
)
def test_language_for(path: str, language: str) -> None:
    assert language_for(path) == language


def test_split_lines_counts_like_an_editor() -> None:
    assert split_lines("a\r\nb\rc\n") == ["a", "b", "c", ""]
    assert split_lines("") == [""]


def test_python_lexer_separates_code_strings_comments_and_docstrings() -> None:
    text = 'def f():\n    r"""Doc text."""\n    x = rb"a" + f"{y}"  # note\n    return "#no"\n'
    lexed = lex("python", text)
    assert lexed.comments == ("# note",)
    assert lexed.strings == ("a{y}", "#no")  # adjacent literals joined, the docstring left out
    assert lexed.code.split("\n") == ["def f():", "    ", '    x = "" + ""  ', '    return ""', ""]


def test_c_like_lexers_handle_templates_raw_strings_and_lifetimes() -> None:
    js = lex("javascript", "const q = `SELECT ${a}`; /* c */ s = 'x' // t")
    assert (js.strings, js.comments) == (("SELECT ${a}", "x"), ("/* c */", "// t"))
    rust = lex("rust", "fn f<'a>(s: &'a str) { let r = r#\"say \"hi\"\"#; let c = 'x'; }")
    assert rust.strings == ('say "hi"', "x")
    assert "'a" in rust.code  # a lifetime is not a character literal
    go = lex("go", "q := `multi\nline` // c\n")
    assert go.code == 'q := ""\n \n'


def test_lexical_import_bindings() -> None:
    assert import_bindings(
        "python", "import os.path\nimport numpy as np\nfrom .m import (a as b,\n c)"
    ) == [
        ("b", ".m.a"),
        ("c", ".m.c"),
        ("os", "os"),
        ("np", "numpy"),
    ]
    js = (
        'import d, { x as y } from "pkg";\nimport * as ns from "./ns";\n'
        'const { r, s: t } = require("cp");'
    )
    assert sorted(import_bindings("javascript", js)) == [
        ("d", "pkg"),
        ("ns", "./ns"),
        ("r", "cp.r"),
        ("t", "cp.s"),
        ("y", "pkg.x"),
    ]
    go = 'import (\n\t"fmt"\n\tex "os/exec"\n\t_ "embed"\n\t"gopkg.in/yaml.v3"\n)'
    assert import_bindings("go", go) == [
        ("fmt", "fmt"),
        ("ex", "os/exec"),
        ("yaml", "gopkg.in/yaml.v3"),
    ]
    rust = "use std::sync::{Arc, Mutex as M, mpsc::{self, Sender}};\nuse crate::db::*;"
    assert import_bindings("rust", rust) == [
        ("Arc", "std::sync::Arc"),
        ("M", "std::sync::Mutex"),
        ("mpsc", "std::sync::mpsc"),
        ("Sender", "std::sync::mpsc::Sender"),
    ]


def test_java_methods_through_the_brace_heuristic() -> None:
    source = (DATA / "Inventory.java").read_text()
    lines = source.split("\n")
    targets = [(t.kind, t.name) for t in list_targets("Inventory.java", source)]
    assert targets == [("class", "Inventory"), ("method", "count"), ("method", "add")]
    line = next(i for i, text in enumerate(lines) if "return 0;" in text)
    ctx = extract("Inventory.java", source, line, 12)
    assert (ctx.target.kind, ctx.target.name) == ("method", "count")
    assert ctx.target.text.splitlines()[-1].strip() == "}"
    assert ctx.target.params == ("sku",)
    assert ctx.enclosing == "public class Inventory"
    assert "import java.util.Map;" in ctx.imports
    add = extract("Inventory.java", source, line + 5, 8)
    assert add.target.name == "add"
    assert add.callees == ("public int count(String sku)",)


def test_indentation_heuristic_with_end_keywords() -> None:
    source = (
        "class Greeter\n"
        "  def hello(name)\n"
        "    if name\n"
        '      puts "hi #{name}"\n'
        "    end\n"
        "  end\n"
        "end\n"
    )
    ctx = extract("greeter.rb", source, 3, 6)
    assert (ctx.target.kind, ctx.target.name) == ("method", "hello")
    assert (ctx.target.span.start_line, ctx.target.span.end_line) == (1, 5)
    assert ctx.enclosing == "class Greeter"


def test_unknown_language_outside_blocks_is_the_module() -> None:
    ctx = extract("notes.txt", "just some words\nand more\n", 1, 0)
    assert ctx.target.kind == "module"


def test_deeply_nested_blocks_each_end_at_their_own_closer() -> None:
    # Hostile shapes from the reliability probe: thousands of nested functions and braces.
    # Each block must still end where its own `}` or dedent is, with the right parent.
    depth = 3000
    source = "".join(f"int f{i}(void) {{\n" for i in range(depth)) + "}\n" * depth
    parsed = load("deep.c", source).parsed
    assert len(parsed.definitions) == depth
    for i in (0, 1, depth // 2, depth - 1):
        definition = parsed.definitions[i]
        assert definition.name == f"f{i}"
        assert (definition.span.start_line, definition.span.end_line) == (i, 2 * depth - 1 - i)
        assert definition.parent == (i - 1 if i else None)
    indented = "".join("  " * i + f"def f{i}\n" for i in range(depth)) + "end\n"
    nested = load("deep.rb", indented).parsed
    assert [d.parent for d in nested.definitions[:3]] == [None, 0, 1]
    assert nested.definitions[0].span.end_line == depth  # the closing `end` at its indent
    assert nested.definitions[-1].span.end_line == depth  # a closer at a lower indent too


def test_fifty_thousand_open_braces_are_one_function() -> None:
    source = "int f(void)\n" + "{\n" * 50_000
    ctx = extract("nested.c", source, 10, 0)
    assert (ctx.target.kind, ctx.target.name) == ("function", "f")
    assert ctx.target.span.end_line == 50_001  # never closed: runs to the last (empty) line
    assert compute_signals(ctx).nesting == 0  # plain blocks, no control statements
