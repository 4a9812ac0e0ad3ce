"""Context extraction for JavaScript, TypeScript, Go and Rust through tree-sitter."""

from __future__ import annotations

from pathlib import Path

from tierwise.context.extract import extract, list_targets
from tierwise.context.grammars import token_stream
from tierwise.core.code import CodeContext

DATA = Path(__file__).resolve().parents[1] / "data"


def at(name: str, needle: str, col: int = 0) -> CodeContext:
    """Extract at the first line of a data file that contains `needle`."""
    path = DATA / name
    source = path.read_text()
    line = next(i for i, text in enumerate(source.split("\n")) if needle in text)
    return extract(str(path), source, line, col)


def test_javascript_method_in_a_class() -> None:
    ctx = at("sample_client.js", "for (let attempt = 0;", 4)
    target = ctx.target
    assert (target.language, target.kind, target.name) == ("javascript", "method", "get")
    assert target.signature == "async get(path, retries = 3)"
    assert target.params == ("path", "retries")
    assert target.raises == ("Error",)
    assert ctx.enclosing == "class ApiClient"  # the signature leaves `export` out
    assert {"cacheKey", "axios.get", "this.headers", "sleep"} <= set(ctx.called_names)
    assert ctx.callees == ("function cacheKey(method, url)", "headers()", "const sleep = (ms) =>")
    assert 'import axios from "axios";' in ctx.imports
    assert ctx.cross_file_calls == 1  # axios is a package; crypto and this.* are not cross-file


def test_javascript_jsdoc_above_an_exported_function() -> None:
    ctx = at("sample_client.js", "return createHash(")
    target = ctx.target
    assert target.name == "cacheKey"
    assert target.text.startswith("export function cacheKey")
    slot = target.doc_slot
    assert slot is not None and slot.existing is not None
    assert slot.line == target.span.start_line
    assert slot.indent == ""
    assert slot.existing_text == "/**\n * Build the cache key for a request.\n */"
    assert slot.existing.end_line == target.span.start_line - 1


def test_javascript_arrow_function_assigned_to_const() -> None:
    ctx = at("sample_client.js", "export const sleep")
    assert (ctx.target.kind, ctx.target.name) == ("function", "sleep")
    assert ctx.target.signature == "const sleep = (ms) =>"
    assert ctx.target.params == ("ms",)
    assert ctx.target.doc_slot is not None and ctx.target.doc_slot.existing is None


def test_javascript_commonjs_assignments_are_definitions() -> None:
    """`exports.sign = function`, `res.send = function send`, `Foo.prototype.bar = ...` and
    `module.exports = function`: how most npm packages define their functions."""
    source = (
        "/** Sign it. */\n"
        "exports.sign = function(val, secret) {\n  return val + secret;\n};\n"
        "res.send = function send(body) {\n  return body;\n};\n"
        "View.prototype.lookup = function lookup(name) {\n  return name;\n};\n"
        "module.exports = function (token, key) {\n  return token;\n};\n"
        "counter = 1;\n"
    )
    targets = list_targets("lib.js", source)
    assert [(t.name, t.params) for t in targets] == [
        ("sign", ("val", "secret")),
        ("send", ("body",)),
        ("lookup", ("name",)),
        ("exports", ("token", "key")),
    ]
    assert targets[0].signature == "exports.sign = function(val, secret)"
    assert targets[0].doc_slot is not None and targets[0].doc_slot.existing is not None
    ctx = extract("lib.js", source, 2, 4)
    assert ctx.target.name == "sign" and ctx.target.kind == "function"


def test_javascript_nested_callback_picks_the_enclosing_function() -> None:
    ctx = at("sample_client.js", 'execFile("tool", args', 4)
    assert ctx.target.name == "runTool"
    assert "execFile" in ctx.called_names


def test_typescript_types_docs_and_relative_imports() -> None:
    ctx = at("sample_store.ts", "const result = await this.pool.query(", 4)
    target = ctx.target
    assert (target.language, target.kind, target.name) == ("typescript", "method", "find")
    assert target.returns == "Promise<Order | null>"
    assert target.params == ("id",)
    assert target.doc_slot is not None
    assert target.doc_slot.existing_text == "/** Load one order by id. */"
    assert target.doc_slot.indent == "  "
    assert ctx.callees == ("private toOrder(row: OrderRow): Order",)
    to_order = at("sample_store.ts", "return { id: row.id", 4)
    assert to_order.called_names == ("money.fromCents",)
    assert to_order.cross_file_calls == 1  # ./money is another file of the project


def test_typescript_constructor_parameter_properties() -> None:
    ctx = at("sample_store.ts", "constructor(private readonly pool: Pool)", 2)
    assert (ctx.target.name, ctx.target.params) == ("constructor", ("pool",))


def test_tsx_is_parsed_with_the_tsx_grammar() -> None:
    source = (
        "import React from 'react';\n"
        "export function Price({ cents }: { cents: number }) {\n"
        '  return <span className="price">{format(cents)}</span>;\n'
        "}\n"
    )
    ctx = extract("Price.tsx", source, 2, 4)
    assert (ctx.target.language, ctx.target.name) == ("tsx", "Price")
    assert "format" in ctx.called_names


def test_go_method_with_receiver() -> None:
    ctx = at("sample_worker.go", "wg.Add(1)", 2)
    target = ctx.target
    assert (target.language, target.kind, target.name) == ("go", "method", "Run")
    assert target.params == ("ctx", "jobs")
    assert target.returns == "error"
    assert ctx.enclosing == "type Pool struct"
    assert {"exec.CommandContext", "p.mark", "wg.Wait"} <= set(ctx.called_names)
    assert ctx.callees == ("func (p *Pool) mark(id string, on bool)",)
    assert 'import "os/exec"' in ctx.imports


def test_go_doc_comment_blocks() -> None:
    pool = at("sample_worker.go", "type Pool struct").target
    assert pool.kind == "class"
    assert pool.doc_slot is not None
    assert pool.doc_slot.existing_text == (
        "// Pool runs jobs on a fixed number of goroutines.\n// It is safe for concurrent use."
    )
    mark = at("sample_worker.go", "p.mu.Lock()", 2).target
    assert mark.doc_slot is not None and mark.doc_slot.existing is None


def test_rust_impl_methods_attributes_and_doc_comments() -> None:
    get = at("sample_cache.rs", "match entries.get(key)", 8)
    assert (get.target.kind, get.target.name) == ("method", "get")
    assert get.enclosing == "impl Cache"
    assert get.target.params == ("key",)  # &self is the receiver
    assert get.target.returns == "Option<String>"

    clear = at("sample_cache.rs", "fs::remove_dir_all", 8)
    assert clear.target.name == "clear_dir"
    assert clear.target.text.startswith("#[allow(dead_code)]\n")
    assert (
        clear.target.signature == "fn clear_dir(&self, settings: &Settings) -> std::io::Result<()>"
    )
    assert "fs::remove_dir_all" in clear.called_names

    new = at("sample_cache.rs", "pub fn new()", 8).target
    assert new.doc_slot is not None and new.doc_slot.existing_text == "/// Create an empty cache."
    assert new.doc_slot.indent == "    "


def test_rust_struct_doc_comment_sits_above_its_attributes() -> None:
    source = (DATA / "sample_cache.rs").read_text()
    cache = next(t for t in list_targets("cache.rs", source) if t.signature == "pub struct Cache")
    lines = source.split("\n")
    assert lines[cache.span.start_line] == "#[derive(Debug, Default)]"
    assert cache.doc_slot is not None and cache.doc_slot.existing is not None
    assert cache.doc_slot.existing_text == "/// An in-memory cache with a file backing."
    assert cache.doc_slot.existing.end_line == cache.span.start_line - 1


def test_name_spans_are_character_columns_after_non_ascii_text() -> None:
    source = 'const s = "héllo wörld"; function greet(name) { return s + name; }\n'
    target = list_targets("g.js", source)[0]
    span = target.name_span
    assert span is not None
    assert source[span.start_col : span.end_col] == "greet"
    assert target.text == "function greet(name) { return s + name; }"


def test_syntax_errors_still_yield_the_surrounding_function() -> None:
    source = "function ok(a) {\n  return a +;\n}\n"
    assert extract("bad.js", source, 1, 2).target.name == "ok"


def test_token_stream_drops_comments_and_keeps_literals() -> None:
    tokens = token_stream("javascript", 'f("a b", 1); // note\n/* block */ g();')
    assert tokens is not None
    assert "a b" in tokens
    assert not any("note" in t or "block" in t for t in tokens)
    assert tokens.count("(") == 2
    rust = token_stream("rust", "/// doc\nfn f() {} // tail")
    assert rust is not None and not any("doc" in t or "tail" in t for t in rust)


def test_token_stream_is_none_for_unsupported_languages() -> None:
    assert token_stream("text", "anything") is None
    assert token_stream("python", "x = 1") is None
