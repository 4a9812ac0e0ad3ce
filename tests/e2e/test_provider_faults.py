"""Provider faults through `tierwise serve`, the official SDKs and the wire fake: each one gives
one precise error, one ledger row with the tokens the call really used, no edit, and the next
request works."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import workspace_editor
from tests.e2e.lsp_helpers import EditorClient, user_config
from tests.fakes.wire import Behaviour, FakeProvider
from tests.fakes.wire_formats import prompt_tokens

pytestmark = pytest.mark.asyncio(loop_scope="module")

REQUEST_FAILED = -32803
TIMEOUT_S = 2
# One model per tier, so that each fault is that model's: budget speaks the Anthropic protocol,
# mid the OpenAI one. Each provider may retry once (the rule in docs/routing.md).
TIERS = f"""
[tiers.budget]
models = ["anthropic:claude-haiku-4-5"]
timeout = {TIMEOUT_S}

[tiers.mid]
models = ["openai:gpt-4.1"]
timeout = {TIMEOUT_S}

[server]
display = "none"
"""

# (id, the fault's behaviours, a phrase the error must contain, whether the server had accepted
# the request: then its input was billed and the ledger row must show it).
FAULTS: list[tuple[str, list[Behaviour], str, bool]] = [
    ("429 with retry-after", [("status", 429, 0.05)] * 2, "429, retry after 0.05s", False),
    ("500", [("status", 500)] * 2, "answered 500", False),
    ("529 overloaded", [("status", 529)] * 2, "answered 529", False),
    ("reset mid-stream", ["truncate"], "in the middle of the answer", True),
    ("no final event", ["end_early"], "cut short", True),
    ("invalid JSON", ["malformed"], "cannot parse", True),
    ("empty completion", ["empty"], "sent an empty answer", True),
    ("over-long reply", [("long", 200_000)], "ran past its", True),
    ("slow first byte", [("hang", 30)], f"within the tier timeout of {TIMEOUT_S}s", False),
    ("slow first token", [("stall", 0, 30, 0.2)], "sent no text", True),
    ("stall mid-answer", [("stall", 2, 30, 0.2)], "stalled mid-answer", True),
    ("overloaded mid-answer", [("stream_error", 2, "overloaded_error")], "mid-answer", True),
    ("cut at the token limit", [("length", 3)] * 2, "never applied", True),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def editor(
    fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EditorClient]:
    """One VS Code-like server whose providers may retry once."""
    config = user_config(fake, TIERS).replace("max_retries = 0", "max_retries = 1")
    base = tmp_path_factory.mktemp("faults")
    async with workspace_editor(fake, base, "vscode", config=config) as client:
        client.open(client.root / "shop.py")  # type: ignore[operator]
        yield client


def ledger(home: Path) -> list[dict[str, Any]]:
    """Every ledger row, oldest first, straight from the server's SQLite file."""
    path = home / "data" / "ledger.sqlite3"
    if not path.exists():
        return []  # the server opens it on its first request
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        con.row_factory = sqlite3.Row
        return [dict(row) for row in con.execute("SELECT * FROM requests ORDER BY rowid")]


def run_args(client: EditorClient, action: str, needle: str, tier: str) -> dict[str, Any]:
    """tierwise.run at `needle` in shop.py on a given tier, bypassing the cache."""
    uri = (client.root / "shop.py").as_uri()  # type: ignore[operator]
    here = client.position(uri, needle)
    return {
        "action": action,
        "uri": uri,
        "tier": tier,
        "refresh": True,
        "position": {"line": here.line, "character": here.character},
    }


@pytest.mark.parametrize("tier", ["budget", "mid"])
@pytest.mark.parametrize(("name", "script", "phrase", "billed"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_a_provider_fault_is_one_message_one_row_no_edit_and_the_server_carries_on(
    editor: EditorClient,
    fake: FakeProvider,
    tier: str,
    name: str,
    script: list[Behaviour],
    phrase: str,
    billed: bool,
) -> None:
    rows_before, applied_before = len(ledger(editor.home)), len(editor.applied)
    requests_before = fake.request_count
    fake.script(*script)

    with pytest.raises(JsonRpcException) as caught:
        await editor.command("tierwise.run", run_args(editor, "docstring", "cleaned = ", tier))

    error = caught.value
    assert error.code == REQUEST_FAILED, error
    assert phrase in error.message
    assert "--tier" not in error.message and "Traceback" not in error.message
    assert len(editor.applied) == applied_before  # nothing was applied
    rows = ledger(editor.home)[rows_before:]
    assert len(rows) == 1
    (row,) = rows
    assert row["outcome"] == "error" and row["action"] == "docstring" and row["tier"] == tier
    assert phrase in row["error"]
    sent = fake.requests[requests_before:]
    assert len(sent) == len(script)  # one retry where the fault allows it, never a hidden one
    if billed:
        # The server reported the input (Anthropic) or it was estimated from what was sent
        # (OpenAI-style streams report usage only at their end): either way, not 0 and $0.
        reported = sum(prompt_tokens(r.body) for r in sent)
        input_side = row["input_tokens"] + row["cache_read_tokens"] + row["cache_write_tokens"]
        assert input_side >= reported * 0.9
        assert row["cost_usd"] > 0
    else:
        assert (row["input_tokens"], row["output_tokens"], row["cost_usd"]) == (0, 0, 0.0)

    # The next request, on the same provider, answers normally.
    fine = await editor.command("tierwise.run", run_args(editor, "explain", "total = a", tier))
    assert fine["markdown"].strip() and fine["cache_hit"] is False
    assert ledger(editor.home)[-1]["outcome"] == "ok"
