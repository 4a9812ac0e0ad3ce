"""The fixture fetcher unpacks pinned packages and refuses a file that does not match its pin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import realcode


def test_sdist_is_unpacked_with_its_sources() -> None:
    root = realcode.sdist("requests")
    assert root.name == "requests-2.32.3"
    assert (root / "src" / "requests" / "api.py").read_text().startswith('"""')
    assert realcode.sdist("requests") == root  # cached: the same directory, no second fetch


def test_npm_package_is_unpacked() -> None:
    root = realcode.npm_package("jsonwebtoken")
    assert '"name": "jsonwebtoken"' in (root / "package.json").read_text()
    assert (root / "verify.js").is_file()


def test_a_wrong_pin_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERWISE_TEST_CACHE", str(tmp_path))
    monkeypatch.setitem(realcode.PYPI_PINS, "requests", ("2.32.3", "0" * 64))
    with pytest.raises(realcode.FetchError, match="does not match its pinned sha256"):
        realcode.sdist("requests")
    assert not (tmp_path / "pypi" / "requests-2.32.3").exists()
