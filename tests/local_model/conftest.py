"""Fixtures for the tests against the real local model (tests/local_model): llama.cpp's server
with SmolLM2-135M on 127.0.0.1, configured as tierwise's `local` tier in a user config file, and
the wire fakes (tests/fakes/wire.py) as the cloud tiers above it, so that an answer that fails
its check has a tier to escalate to. They run with `bash scripts/test-local-model.sh` (which
installs the model, then sets TIERWISE_LOCAL_MODEL_TESTS=1); anywhere else, scripts/test.sh
included, they are skipped (README, "Tests against a real local model", says why)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.lsp_helpers import FAKE_KEY, fake_reply, user_config
from tests.fakes.wire import FakeProvider
from tests.local_model.llama import INSTALL, LlamaServer, installed, local_tier_toml


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaServer]:
    """The real model server, started once for the whole run."""
    if os.environ.get("TIERWISE_LOCAL_MODEL_TESTS") != "1":
        pytest.skip("the real-model tests run with bash scripts/test-local-model.sh")
    model = installed()
    if model is None:
        pytest.skip(f"no local model installed: run {INSTALL} (bash scripts/test-local-model.sh)")
    with LlamaServer(model) as server:
        yield server


@pytest.fixture(scope="session")
def cloud() -> Iterator[FakeProvider]:
    """The tiers above local: the wire fake, answering each action as a good model would."""
    with FakeProvider() as server:
        server.responder = fake_reply
        yield server


def config_text(llama: LlamaServer, cloud: FakeProvider, extra: str = "") -> str:
    """The user config: the cloud providers on the fake, and the real model as `local`."""
    # A hang bound, not a speed check: a 135M model on one thread of a busy 2-core machine took
    # up to 125 s for a reply cut at its limit and asked again (docs/benchmarks.md, section 9).
    local = local_tier_toml(llama.base_url, llama.model_id, timeout=600)
    return user_config(cloud, "\n" + local + extra)


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Placeholder keys for the fakes; data and cache under the test's own directory."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(tmp_path / "cache"))
