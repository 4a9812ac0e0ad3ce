"""plan's file list: `resolved_sources` gives what resolving each path of `iter_sources` gives,
in the same order, on a real sdist and on a tree of links, skipped folders and odd names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.realcode import sdist
from tierwise.cli.sources import iter_sources, resolved_sources
from tierwise.core.errors import UsageError


def _reference(root: Path) -> list[Path]:
    return [path.resolve() for path in iter_sources(root)]


@pytest.mark.parametrize("name", ["django", "flask"])
def test_a_real_sdist_lists_as_resolving_each_path_does(name: str) -> None:
    root = sdist(name)
    found = resolved_sources(root)
    assert len(found) > (2_000 if name == "django" else 20)
    assert found == _reference(root)


def test_links_skipped_folders_and_odd_names(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "pkg").mkdir(parents=True)
    (elsewhere / "real.py").write_text("def f():\n    pass\n", encoding="utf-8")
    (elsewhere / "pkg" / "inside.py").write_text("x = 1\n", encoding="utf-8")
    root = tmp_path / "tree"
    for folder in ("a/b", "a/c", "B", "node_modules/x", ".hidden", "build", "z"):
        (root / folder).mkdir(parents=True)
    names = ["m.py", "..py", ".py", "a.", "x.PY", "y.js", "z.ts.bak", "w.rs", "v.tsx", "u.txt"]
    for folder in ("", "a", "a/b", "a/c", "B", "node_modules/x", ".hidden", "build", "z"):
        for name in names:
            (root / folder / name).write_text("x = 1\n", encoding="utf-8")
    (root / "a" / "linked.py").symlink_to(elsewhere / "real.py")  # a file that is a link
    (root / "a" / "broken.py").symlink_to(tmp_path / "missing.py")  # a link to nothing
    (root / "a" / "folder_link").symlink_to(elsewhere / "pkg")  # listed by walk, never entered
    (root / "z" / "self").symlink_to(root)  # a loop, never entered either
    found = resolved_sources(root)
    assert found == _reference(root)
    assert elsewhere / "real.py" in found  # the link is resolved to its target
    assert not any("inside.py" in str(p) or "node_modules" in str(p) for p in found)
    assert [p.name for p in found[:4]] == ["..py", "m.py", "v.tsx", "w.rs"]
    # Through a linked root and a relative one, the same resolved list.
    (tmp_path / "root_link").symlink_to(root)
    assert resolved_sources(tmp_path / "root_link") == found
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert resolved_sources(Path("tree")) == found
    finally:
        os.chdir(cwd)


def test_a_file_or_a_missing_path(tmp_path: Path) -> None:
    one = tmp_path / "one.py"
    one.write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "link.py").symlink_to(one)
    assert resolved_sources(tmp_path / "link.py") == [one.resolve()]
    with pytest.raises(UsageError, match="no such file or directory"):
        resolved_sources(tmp_path / "missing")
