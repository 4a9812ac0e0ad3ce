"""Helpers for driving `tierwise serve` over stdio as an editor would.

The test client applies server edits with its own position arithmetic (written here, not
imported from the server), so a wrong column in any encoding shows up as wrong text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

from tests.fakes.wire import FakeProvider
from tests.fakes.wire_formats import text_of

FAKE_KEY = "sk-test-fake"

# A module for the CLI and Neovim tests: SQL built from input (review routes to frontier) and a
# plain helper without a docstring.
APP = '''\
"""User lookups."""
import sqlite3


def find_user(conn: sqlite3.Connection, email: str) -> dict | None:
    query = "SELECT id, email FROM users WHERE email = '" + email + "'"
    row = conn.execute(query).fetchone()
    if row is None:
        return None
    return {"id": row[0], "email": row[1]}


def shout(text: str) -> str:
    cleaned = text.strip()
    if not cleaned:
        return ""
    return cleaned.upper() + "!"
'''

CLIENTS: dict[str, types.ClientCapabilities] = {
    "vscode": client_capabilities("visual_studio_code"),
    "neovim": client_capabilities("neovim"),
    # Declares one capability so that pytest-lsp keeps its spec checks on.
    "minimal": types.ClientCapabilities(
        general=types.GeneralClientCapabilities(
            position_encodings=[types.PositionEncodingKind.Utf32]
        )
    ),
}


# -- the editor's side ----------------------------------------------------------------------------


class EditorClient(LanguageClient):
    """A test client that applies edits, answers message requests and keeps its documents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.message_requests: list[types.ShowMessageRequestParams] = []
        self.choose: Callable[[types.ShowMessageRequestParams], str | None] = lambda p: (
            p.actions[0].title if p.actions else None
        )
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        # How the editor answers workspace/applyEdit: None applies it; a test may return a
        # result (applied: false, like a user saying no) or raise (an error answer, as eglot
        # 1.9 sends when its user answers no to "Proceed?").
        self.answer_edit: (
            Callable[[types.ApplyWorkspaceEditParams], types.ApplyWorkspaceEditResult | None] | None
        ) = None
        self.root: Path | None = None
        self.home = Path()  # the test's home directory (user config, data, cache)

    # documents ---------------------------------------------------------------------------------

    def open(self, path: Path, text: str | None = None, language: str = "python") -> str:
        """didOpen a file (its disk text unless given); returns its URI."""
        uri = path.as_uri()
        if uri in self.texts:
            self.close(uri)
        self.texts[uri] = path.read_text(encoding="utf-8") if text is None else text
        self.versions[uri] = 1
        self.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(
                    uri=uri, language_id=language, version=1, text=self.texts[uri]
                )
            )
        )
        return uri

    def replace_text(self, uri: str, text: str) -> None:
        """didChange with the whole new text."""
        self.versions[uri] += 1
        self.texts[uri] = text
        self.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
                [types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )

    def close(self, uri: str) -> None:
        """didClose."""
        self.texts.pop(uri, None)
        self.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

    @property
    def encoding(self) -> str:
        """The encoding the client offered first (the server picks the first it supports)."""
        general = self.capabilities.general if self.capabilities else None
        offered = general.position_encodings if general else None
        first = offered[0] if offered else "utf-16"
        return str(getattr(first, "value", first))

    def position(self, uri: str, needle: str, *, after: bool = False) -> types.Position:
        """The position of the first occurrence of `needle` in the client's text."""
        text = self.texts[uri]
        offset = text.index(needle) + (len(needle) if after else 0)
        return to_position(text, offset, self.encoding)

    async def command(self, name: str, *args: Any) -> Any:
        """workspace/executeCommand."""
        return await self.workspace_execute_command_async(
            types.ExecuteCommandParams(command=name, arguments=list(args))
        )


def supports(client: LanguageClient, field: str) -> bool:
    """Whether the test client declared a capability, e.g. "window.work_done_progress"."""
    return bool(get_capability(client.capabilities, field, False))


def to_position(text: str, offset: int, encoding: str) -> types.Position:
    """The LSP position of a str offset, counting columns in the given encoding."""
    before = text[:offset]
    line = len(re.findall(r"\r\n|\r|\n", before))
    start = max(before.rfind("\n"), before.rfind("\r")) + 1
    return types.Position(line, units(before[start:], encoding))


def units(text: str, encoding: str) -> int:
    """Length of text in LSP code units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-32":
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def to_offset(text: str, position: types.Position, encoding: str) -> int:
    """The str offset of an LSP position."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    if position.line >= len(starts):
        return len(text)
    line_start = starts[position.line]
    line_end = starts[position.line + 1] if position.line + 1 < len(starts) else len(text)
    line = text[line_start:line_end].rstrip("\r\n")
    count = 0
    for i, char in enumerate(line):
        if count >= position.character:
            return line_start + i
        count += units(char, encoding)
    return line_start + len(line)


def apply_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    """Apply TextEdits (all against the same text) the way an editor does."""
    spans = sorted(
        (
            (to_offset(text, e.range.start, encoding), to_offset(text, e.range.end, encoding), e)
            for e in edits
        ),
        key=lambda item: item[0],
        reverse=True,
    )
    for start, end, edit in spans:
        text = text[:start] + edit.new_text + text[end:]
    return text


def edits_by_uri(edit: types.WorkspaceEdit) -> dict[str, tuple[int | None, list[types.TextEdit]]]:
    """The TextEdits of a WorkspaceEdit per URI, with the version each was computed for."""
    out: dict[str, tuple[int | None, list[types.TextEdit]]] = {}
    for change in edit.document_changes or []:
        assert isinstance(change, types.TextDocumentEdit), change
        edits = [e for e in change.edits if isinstance(e, types.TextEdit)]
        out[change.text_document.uri] = (change.text_document.version, edits)
    for uri, plain in (edit.changes or {}).items():
        out[uri] = (None, list(plain))
    return out


def make_client() -> EditorClient:
    """The client factory for ClientServerConfig: default pytest-lsp handlers plus ours."""
    client = EditorClient(converter_factory=default_converter)
    register_lsp_features(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(
        ls: EditorClient, params: types.ApplyWorkspaceEditParams
    ) -> types.ApplyWorkspaceEditResult:
        ls.applied.append(params)
        if ls.answer_edit is not None:
            answer = ls.answer_edit(params)
            if answer is not None:
                return answer
        for uri, (version, edits) in edits_by_uri(params.edit).items():
            if uri not in ls.texts:
                continue  # a file the editor has not opened: it would edit it on disk
            if version is not None and version != ls.versions[uri]:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="stale")
            # Like an editor: change the buffer, then tell the server about the new version.
            ls.replace_text(uri, apply_edits(ls.texts[uri], edits, ls.encoding))
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def message_request(
        ls: EditorClient, params: types.ShowMessageRequestParams
    ) -> types.MessageActionItem | None:
        ls.message_requests.append(params)
        title = ls.choose(params)
        return types.MessageActionItem(title=title) if title else None

    return client


# -- the server's environment ---------------------------------------------------------------------


def user_config(fake: FakeProvider, extra: str = "") -> str:
    """A user config (trusted) that points both cloud providers at the fake."""
    return (
        "[providers.anthropic]\n"
        'kind = "anthropic"\n'
        f'base_url = "{fake.anthropic_base_url}"\n'
        'api_key_env = "ANTHROPIC_API_KEY"\n'
        "max_retries = 0\n\n"
        "[providers.openai]\n"
        'kind = "openai"\n'
        f'base_url = "{fake.openai_base_url}"\n'
        'api_key_env = "OPENAI_API_KEY"\n'
        "max_retries = 0\n" + extra
    )


def server_env(home: Path, config: Path) -> dict[str, str]:
    """The whole environment of the server process (pytest-lsp replaces, not extends, it)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "TIERWISE_CONFIG": str(config),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "OPENAI_API_KEY": FAKE_KEY,
        "PYTHONUNBUFFERED": "1",
    }


async def start(
    home: Path,
    root: Path,
    capabilities: types.ClientCapabilities,
    *,
    init_options: Any = None,
    configuration: dict[str, Any] | None = None,
    serve_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
) -> EditorClient:
    """Start `python -m tierwise serve` and initialize it for the workspace `root`.

    `serve_args` go after `serve`, `env` overrides the server's environment, and `prefix` runs
    the server through another command (e.g. one that drops privileges).
    """
    config = ClientServerConfig(
        server_command=[*prefix, sys.executable, "-m", "tierwise", "serve", *serve_args],
        server_env={**server_env(home, home / "config.toml"), **(env or {})},
        client_factory=make_client,
    )
    client = await config.start()
    assert isinstance(client, EditorClient)
    client.root = root
    if configuration is not None:
        client.set_configuration(configuration, section="tierwise")
    await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
            initialization_options=init_options,
        )
    )
    return client


async def stop(client: EditorClient) -> None:
    """shutdown + exit, without hanging on a server that no longer answers."""
    with contextlib.suppress(TimeoutError, RuntimeError):
        await asyncio.wait_for(client.shutdown_session(), timeout=15)
    server = client._server
    if server is not None and server.returncode is None:
        server.kill()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), timeout=10)


async def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll until the predicate is truthy (returns its value); fails the test on timeout.

    The default bound is a hang bound, not a speed check: a first request imports the SDK, and
    a 2-core machine running other suites can take many seconds for that.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


async def raw_request(client: LanguageClient, msg_id: str, method: str, params: Any) -> Any:
    """Send a request exactly as given (bypassing the client's typed serialization)."""
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await asyncio.wait_for(asyncio.wrap_future(future), timeout=10)


# -- the fake model -------------------------------------------------------------------------------

_NAME = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")
_NUMBERED_LINE = re.compile(r"^\s*(\d+) \| ?(.*)$")


def _params_of(prompt: str, name: str) -> list[str]:
    """The parameter names of the definition of `name` in the prompt's code (self/cls left out)."""
    found = re.search(rf"(?:def|function|func)\s+{re.escape(name)}\s*\(([^)]*)\)", prompt)
    if found is None:
        return []
    names = [re.match(r"\s*[*.]*([A-Za-z_$][\w$]*)", piece) for piece in found.group(1).split(",")]
    return [m.group(1) for m in names if m and m.group(1) not in ("self", "cls")]


def fake_reply(body: dict[str, Any]) -> str:
    """A plausible answer for each action, derived from the prompt the server sent."""
    prompt = text_of(body.get("messages", []))
    names = _NAME.findall(prompt)
    name = names[0] if names else "thing"
    if '{"findings"' in prompt:
        numbered = [m for line in prompt.split("\n") if (m := _NUMBERED_LINE.match(line))]
        last_number, last_code = numbered[-1].group(1), numbered[-1].group(2)
        return json.dumps(
            {
                "findings": [
                    {
                        "line": int(last_number),
                        "severity": "warning",
                        "message": f"check the result of {name}",
                        "replacement": last_code.strip() + "  # checked",
                    }
                ]
            }
        )
    if '{"candidates"' in prompt:
        return json.dumps(
            {
                "candidates": [
                    {"name": f"{name}_total", "reason": "says what it returns"},
                    {"name": f"compute_{name}", "reason": "a verb"},
                ]
            }
        )
    ask = re.search(r"^(Write|Update|Explain|Design) ", prompt, re.MULTILINE)
    verb = ask.group(1) if ask else ""
    if verb in ("Write", "Update"):
        # Names every parameter when there are two or more, as the docstring check requires (a
        # one-line summary is a whole docstring for one): docs/routing.md, "Verified answers".
        params = _params_of(prompt, name)
        if len(params) >= 2:
            return f"Summarise {name} for the reader, from {', '.join(params)}."
        return f"Summarise {name} for the reader."
    if verb == "Explain":
        return f"## What {name} does\n\nIt adds things up for the caller."
    if verb == "Design":
        return f"## Design of {name}\n\nSplit parsing from I/O."
    return "Fake answer."
