"""Real third-party code for tests and benches: pinned sdists from PyPI and npm packages.

Each package is fetched on first use from the registry (the PyPI simple JSON API, the npm
registry), its digest checked, and unpacked into a cache directory that survives between runs:
`TIERWISE_TEST_CACHE`, else `~/.cache/tierwise-test-data`. Nothing fetched is ever committed.
No build step runs: an sdist is only unpacked, never installed.

    root = sdist("django")            # Path to the unpacked Django-5.1.4/
    root = npm_package("express")     # Path to the unpacked package/

Pins carry the digest the registry published, so a changed file is an error, not a new fixture.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

# name -> (version, sha256 of the sdist). Add a pin with its digest from the index:
#   curl -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/NAME/
PYPI_PINS: dict[str, tuple[str, str]] = {
    "django": ("5.1.4", "de450c09e91879fa5a307f696e57c851955c910a438a35e6b4c895e86bedc82a"),
    "flask": ("3.1.0", "5f873c5184c897c8d9d1b05df1e3d01b14910ce69607a117bd3277098a5836ac"),
    "requests": ("2.32.3", "55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760"),
}
# name -> (version, the registry's "integrity" string: sha512-BASE64).
NPM_PINS: dict[str, tuple[str, str | None]] = {
    "express": ("4.21.2", None),
    "jsonwebtoken": ("9.0.2", None),
}

PYPI_SIMPLE = "https://pypi.org/simple/{name}/"
NPM_REGISTRY = "https://registry.npmjs.org/{name}/{version}"
TIMEOUT_S = 120


class FetchError(RuntimeError):
    """A package could not be fetched or did not match its pin."""


def cache_root() -> Path:
    """Where fetched packages are unpacked."""
    configured = os.environ.get("TIERWISE_TEST_CACHE", "").strip()
    return Path(configured) if configured else Path.home() / ".cache" / "tierwise-test-data"


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock, so parallel test processes fetch each package once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _get(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data: bytes = response.read()
            return data
    except OSError as exc:
        raise FetchError(f"cannot fetch {url}: {exc} (tests need the package registries)") from exc


def _unpack(data: bytes, name: str, destination: Path) -> Path:
    """Unpack an archive into `destination` atomically; returns its single top directory."""
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=destination.parent))
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.extractall(staging)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                archive.extractall(staging, filter="data")
        entries = list(staging.iterdir())
        top = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        top.rename(destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return destination


def sdist(name: str) -> Path:
    """The unpacked, pinned sdist of a PyPI project (fetched once, then cached)."""
    name = name.lower()
    if name not in PYPI_PINS:
        raise FetchError(f"{name} has no pin in tests/realcode.py PYPI_PINS")
    version, sha256 = PYPI_PINS[name]
    destination = cache_root() / "pypi" / f"{name}-{version}"
    with _locked(destination.with_suffix(".lock")):
        if destination.is_dir():
            return destination
        index = json.loads(
            _get(PYPI_SIMPLE.format(name=name), "application/vnd.pypi.simple.v1+json")
        )
        wanted = {f"{name}-{version}.tar.gz", f"{name.replace('-', '_')}-{version}.tar.gz"}
        files = [f for f in index.get("files", []) if f["filename"].lower() in wanted]
        if not files:
            raise FetchError(f"the index has no sdist {name}-{version}.tar.gz")
        data = _get(files[0]["url"])
        if hashlib.sha256(data).hexdigest() != sha256:
            raise FetchError(f"{files[0]['filename']} does not match its pinned sha256")
        return _unpack(data, files[0]["filename"], destination)


def npm_package(name: str) -> Path:
    """The unpacked, pinned npm package (its `package/` directory)."""
    if name not in NPM_PINS:
        raise FetchError(f"{name} has no pin in tests/realcode.py NPM_PINS")
    version, integrity = NPM_PINS[name]
    safe = name.replace("/", "__")
    destination = cache_root() / "npm" / f"{safe}-{version}"
    with _locked(destination.with_suffix(".lock")):
        if destination.is_dir():
            return destination
        meta = json.loads(_get(NPM_REGISTRY.format(name=name, version=version)))
        dist = meta["dist"]
        expected = integrity or dist["integrity"]
        data = _get(dist["tarball"])
        algorithm, _, digest = expected.partition("-")
        actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
        if actual != digest:
            raise FetchError(f"{name}@{version} does not match its integrity {expected[:20]}…")
        return _unpack(data, "package.tgz", destination)


def python_files(root: Path) -> list[Path]:
    """Every .py file under a directory, sorted, skipping nothing (tests decide what to use)."""
    return sorted(p for p in root.rglob("*.py") if p.is_file())
