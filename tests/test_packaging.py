"""The wheel ships the tierwise package and nothing else (no top-level tests or bench)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_only_the_tierwise_package(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("tierwise-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"tierwise", next(t for t in tops if t.endswith(".dist-info"))}, tops
    # The data files the package reads at run time are inside it.
    assert "tierwise/providers/models.toml" in names
    assert any(n.startswith("tierwise/handlers/prompts/") and n.endswith(".md") for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
