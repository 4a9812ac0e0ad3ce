"""Fixtures for the protocol tests: a workspace, and `tierwise serve` driven by the raw client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import fake_reply, server_env
from tests.fakes.wire import FakeProvider
from tests.rpc import RpcServer


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    """One fake Anthropic/OpenAI server per module, answering each action plausibly."""
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


@pytest.fixture(scope="module")
def workspace(fake: FakeProvider, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(home, project root) with shop.py, helpers.py and main.py; providers point at the fake."""
    return make_workspace(tmp_path_factory.mktemp("ws"), fake)


def spawn(home: Path, *args: str) -> RpcServer:
    """A fresh `tierwise serve` (not initialized), logging to home/server.log."""
    return RpcServer(
        server_env(home, home / "config.toml"),
        args=("--log-file", str(home / "server.log"), *args),
    )


@pytest.fixture(scope="module")
def server(workspace: tuple[Path, Path]) -> Iterator[RpcServer]:
    """One initialized server per module, with shop.py open."""
    home, root = workspace
    rpc = spawn(home)
    rpc.initialize(root)
    rpc.open((root / "shop.py").as_uri(), (root / "shop.py").read_text(encoding="utf-8"))
    yield rpc
    rpc.close()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many fuzz cases ran, per kind (the figure docs/security.md quotes)."""
    from tests.protocol.fuzzing import CASES, LATENCIES, SUMMARY

    if CASES:
        parts = ", ".join(f"{kind} {n}" for kind, n in sorted(CASES.items()))
        terminalreporter.write_line(f"fuzz cases: {sum(CASES.values())} ({parts})")
    for kind, worst in sorted(LATENCIES.items()):
        terminalreporter.write_line(f"worst request latency, {kind}: {worst:.2f} s")
    for line in SUMMARY:
        terminalreporter.write_line(line)
