"""Keys from the environment never appear anywhere tierwise writes or says: logs at debug level,
the cache, the ledger, markdown documents, `doctor`, error messages, the client's messages.

The endpoint here is hostile: it echoes the key it received into its answers and its errors.
The keys have no known format, so only the environment scrubbing can catch them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import CLIENTS, fake_reply, start, stop
from tests.fakes.wire import FakeProvider

ANTHROPIC_KEY = "tw-anthropic-Q7m2Zp9Lx4Vt8Rk1Ws6Yb3Nc"
OPENAI_KEY = "tw-openai-H5d8Jf2Kq9Lz3Xc7Vb1Nm4Pr"
KEYS = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "OPENAI_API_KEY": OPENAI_KEY}
# A secret in the user's code (not an environment key; redaction rules find it).
CODE_SECRET = "AKIAQ3EGT5KZ7WXD4MRN"
SETTINGS = f'def region(client):\n    client.login("{CODE_SECRET}")\n    return client.region\n'


def echoing(body: dict[str, Any]) -> str:
    """fake_reply, with the keys appended wherever free text allows it."""
    reply = fake_reply(body)
    if reply.startswith("{"):
        data = json.loads(reply)
        for item in data.get("findings", []) + data.get("candidates", []):
            if "message" in item:
                item["message"] += f" (seen with {ANTHROPIC_KEY})"
            if "reason" in item:
                item["reason"] += f" {OPENAI_KEY}"
        return json.dumps(data)
    return f"{reply} Authorised by {ANTHROPIC_KEY} and {OPENAI_KEY}."


def every_file(root: Path) -> list[Path]:
    """Every regular file under root."""
    return [p for p in root.rglob("*") if p.is_file()]


def leaks(text: str | bytes) -> list[str]:
    """The keys that occur in a text or in raw bytes."""
    blob = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return [name for name, key in {**KEYS, "code secret": CODE_SECRET}.items() if key in blob]


async def test_no_key_reaches_logs_cache_ledger_documents_doctor_or_messages(
    tmp_path: Path,
) -> None:
    with FakeProvider() as fake:
        fake.responder = echoing
        home, root = make_workspace(tmp_path, fake)
        # A local model sees code unredacted (nothing leaves the machine), and the Anthropic SDK
        # logs each request body at debug level: only the log filter keeps the code's secret out.
        local = (
            f'\n[providers.local]\nkind = "anthropic"\nbase_url = "{fake.anthropic_base_url}"\n'
            'local = true\n\n[tiers.local]\nmodels = ["local:fake-model"]\n'
        )
        with (home / "config.toml").open("a", encoding="utf-8") as config:
            config.write(local)
        log = home / "server.log"
        client = await start(
            home,
            root,
            CLIENTS["vscode"],
            serve_args=("--log-level", "debug", "--log-file", str(log)),
            env=KEYS,
        )
        errors: list[str] = []
        results: list[Any] = []
        try:
            (root / "settings.py").write_text(SETTINGS, encoding="utf-8")
            settings = client.open(root / "settings.py")
            results.append(
                await client.command(
                    "tierwise.run",
                    {
                        "action": "explain",
                        "uri": settings,
                        "tier": "local",
                        "position": {"line": 2, "character": 4},
                    },
                )
            )
            uri = client.open(root / "shop.py")

            def at(needle: str) -> dict[str, int]:
                here = client.position(uri, needle)
                return {"line": here.line, "character": here.character}

            for action, needle in [
                ("explain", "total = a + b"),
                ("docstring", "cleaned = name.strip()"),
                ("review", "qty = int(parts[1])"),
                ("rename", "heavy = ["),
                ("design", "light = ["),
            ]:
                results.append(
                    await client.command(
                        "tierwise.run", {"action": action, "uri": uri, "position": at(needle)}
                    )
                )
            for fault in [
                ("status", 400, None, f"bad header x-api-key: {ANTHROPIC_KEY}"),
                ("status", 401),
            ]:
                fake.script(fault, fault)
                with pytest.raises(JsonRpcException) as caught:
                    await client.command(
                        "tierwise.run",
                        {
                            "action": "explain",
                            "uri": uri,
                            "position": at("total = a"),
                            "refresh": True,
                        },
                    )
                errors.append(caught.value.message)
            results.append(await client.command("tierwise.stats"))
        finally:
            await stop(client)

        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TIERWISE_CONFIG": str(home / "config.toml"),
            "TIERWISE_DATA_DIR": str(home / "data"),
            "TIERWISE_CACHE_DIR": str(home / "cache"),
            **KEYS,
        }
        doctor = subprocess.run(
            [sys.executable, "-m", "tierwise", "doctor", "--json"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert fake.request_count >= 7  # every action reached the endpoint with the real keys
    assert any(ANTHROPIC_KEY in r.headers.get("authorization", "") for r in fake.requests)
    assert doctor.returncode == 0, doctor.stderr
    assert "ANTHROPIC_API_KEY" in doctor.stdout  # doctor names the variable...
    found: dict[str, list[str]] = {}
    for path in every_file(home):  # the log file, the cache, the ledger, the documents
        if path.name == "config.toml":
            continue
        if hits := leaks(path.read_bytes()):
            found[str(path.relative_to(home))] = hits
    for where, text in [
        ("doctor output", doctor.stdout + doctor.stderr),  # ...never its value
        ("error messages", "\n".join(errors)),
        ("command results", json.dumps(results)),
        ("showMessage", "\n".join(m.message for m in client.messages)),
        ("logMessage", "\n".join(m.message for m in client.log_messages)),
    ]:
        if hits := leaks(text):
            found[where] = hits
    assert found == {}
    assert log.stat().st_size > 10_000  # debug logging really ran (message bodies and all)
    assert (home / "data" / "docs").is_dir() and any((home / "data" / "docs").iterdir())
    assert any("[key]" in str(r) for r in results)  # the echoed keys were there, scrubbed
    assert any("bad header x-api-key: [key]" in e for e in errors)
