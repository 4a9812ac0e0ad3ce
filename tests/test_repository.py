"""What the repository holds: source, docs and small fixtures, never build outputs, wheels,
model weights or node_modules (a profiler's wheel was once committed by accident)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Larger than any fixture or lock file tracked on purpose (the biggest is ~140 KB).
MAX_BYTES = 512 * 1024
FORBIDDEN_SUFFIXES = (".whl", ".gguf", ".vsix", ".pyc", ".so", ".tar.gz", ".zip")


def _tracked() -> list[str]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    )
    return [name for name in listed.stdout.decode("utf-8").split("\0") if name]


def test_no_build_output_weights_or_dependencies_are_tracked() -> None:
    tracked = _tracked()
    assert tracked
    bad = [
        name
        for name in tracked
        if name.endswith(FORBIDDEN_SUFFIXES) or "node_modules/" in name or "/dist/" in name
    ]
    assert not bad, bad


def test_no_tracked_file_is_large() -> None:
    sizes = {name: (ROOT / name).stat().st_size for name in _tracked() if (ROOT / name).is_file()}
    large = {name: size for name, size in sizes.items() if size > MAX_BYTES}
    assert not large, large
