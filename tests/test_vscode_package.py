"""The .vsix that scripts/vscode-client.sh builds with `npx @vscode/vsce package`: only the
bundle, the manifest, README and LICENSE; no node_modules, sources, tests or source maps."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[1] / "vscode-client"
EXPECTED = {
    "[Content_Types].xml",
    "extension.vsixmanifest",
    "extension/package.json",
    "extension/readme.md",
    "extension/LICENSE.txt",
    "extension/dist/extension.js",
}
MAX_BYTES = 400_000  # today ~120 KB: the bundle with vscode-languageclient, compressed


@pytest.fixture(scope="module")
def vsix() -> Path:
    found = sorted(CLIENT.glob("tierwise-*.vsix"))
    if not found:
        pytest.fail("no .vsix in vscode-client/: run bash scripts/vscode-client.sh")
    return found[-1]


def test_vsix_holds_only_the_bundle_and_its_metadata(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as z:
        names = set(z.namelist())
    assert names == EXPECTED, (
        f"unexpected: {sorted(names - EXPECTED)}, missing: {sorted(EXPECTED - names)}"
    )
    assert not [n for n in names if "node_modules" in n or n.endswith((".map", ".ts"))]
    assert vsix.stat().st_size < MAX_BYTES


def test_vsix_is_this_tree_and_its_bundle_needs_nothing_installed(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as z:
        manifest = json.loads(z.read("extension/package.json"))
        bundle = z.read("extension/dist/extension.js").decode()
    source = json.loads((CLIENT / "package.json").read_text(encoding="utf-8"))
    assert manifest["version"] == source["version"]
    assert manifest["contributes"] == source["contributes"]
    assert manifest["main"] == "./dist/extension.js"
    assert "sourceMappingURL" not in bundle
    # Everything but the host's `vscode` and Node's own modules is bundled in.
    required = set(re.findall(r"""require\(["']([^"']+)["']\)""", bundle))
    node_builtins = {"child_process", "crypto", "fs", "net", "os", "path", "readline", "util"}
    outside = {
        r for r in required if r != "vscode" and r.removeprefix("node:") not in node_builtins
    }
    assert not outside, f"the bundle requires modules that are not in the .vsix: {outside}"
    assert "vscode" in required and "child_process" in required  # the pattern finds requires
