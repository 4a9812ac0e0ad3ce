"""Every test gets its own data, cache and config locations.

Without this, a test that builds an `Engine` on the defaults reads and writes the user's real
ledger and cache: a request the user (or an earlier test) made minutes ago then changes what
the test sees (the escalation window turns plan's memory off), and tests write rows into the
user's ledger. Tests that need a particular location still set their own with monkeypatch,
which overrides these.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_tierwise_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("tierwise-home")
    monkeypatch.setenv("TIERWISE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("TIERWISE_CACHE_DIR", str(home / "cache"))
    # A path that does not exist: no user config file, the embedded defaults.
    monkeypatch.setenv("TIERWISE_CONFIG", str(home / "config.toml"))
