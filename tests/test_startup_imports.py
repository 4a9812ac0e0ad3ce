"""What a command imports, in a fresh interpreter: the start-up gains, guarded without timing.

A cold start is mostly imports (docs/benchmarks.md), and a gain is lost by one module-level
import in the wrong place. These tests run a command in a new process and read `sys.modules`
after it: `--version` stays at argparse, `route` never loads the code that runs requests (event
loop, subprocesses, SDKs, the cache, checks, diffs), and the server's object, which answers
`initialize`, is built without the engine. The times themselves are measured in bench/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAYMENTS = ROOT / "examples" / "shop" / "payments.py"

# Run the CLI's main() and write the names of every imported module to argv[1].
PROBE = """\
import json, sys
from tierwise.cli.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as exc:  # --version and --help exit through argparse
    code = exc.code
with open(sys.argv[1], "w", encoding="utf-8") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

# Only the commands that run a request (or serve) need these.
NEVER_FOR_ROUTING = (
    "asyncio",
    "subprocess",
    "selectors",
    "difflib",
    "logging",
    "multiprocessing",
    "concurrent.futures",
    "importlib.resources",
    "zipfile",
    "anthropic",
    "openai",
    "httpx",
    "diskcache",
    # Every class on route's path is a record (tierwise/core/records.py): attrs generated and
    # compiled methods for each at import, and importing it is 100 M instructions by itself.
    "attrs",
    "attr",
    "cattrs",  # the settings tree is structured by config/loader.py
    "tierwise.cache.store",
    "tierwise.cache.keys",
    "tierwise.engine.execution",
    "tierwise.engine.verified",
    "tierwise.handlers.checks",
    "tierwise.handlers.review_static",
    "tierwise.providers.anthropic",
    "tierwise.providers.openai",
    "tierwise.server",
)
# `--version` and `--help` need argparse and nothing of the pipeline.
NEVER_FOR_VERSION = (
    *NEVER_FOR_ROUTING,
    "attrs",
    "inspect",
    "sqlite3",
    "tomllib",
    "tierwise.config",
    "tierwise.context",
    "tierwise.engine",
    "tierwise.routing",
    "tierwise.core.code",
)
# The server object that answers `initialize`: pygls and the protocol layer, not the engine
# (built once `initialized` arrives) nor anything the engine brings.
NEVER_BEFORE_INITIALIZE = (
    "anthropic",
    "openai",
    "httpx",
    "diskcache",
    "watchfiles",
    "sqlite3",
    "difflib",
    "tree_sitter",
    "tierwise.engine",
    "tierwise.config",
    "tierwise.context",
    "tierwise.routing",
    "tierwise.handlers",
    "tierwise.ledger",
    "tierwise.cache",
    "tierwise.providers",
)


def _environment(home: Path) -> dict[str, str]:
    """A clean environment: no user config file, throwaway ledger and cache."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "TIERWISE_DATA_DIR": str(home / "data"),
        "TIERWISE_CACHE_DIR": str(home / "cache"),
    }


def _run_probe(home: Path, probe: str) -> subprocess.CompletedProcess[str]:
    """Run `probe` in a fresh interpreter with the clean environment; its output captured."""
    return subprocess.run(
        [sys.executable, "-c", probe],
        cwd=home,
        env=_environment(home),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def imported_by(tmp_path: Path, *args: str) -> tuple[object, set[str]]:
    """(exit code, modules imported) of `tierwise ARGS` run in a fresh interpreter."""
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=tmp_path,
        env=_environment(tmp_path),
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    return data["code"], set(data["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names (or any of their submodules) among the imported modules."""
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_argparse_and_nothing_of_the_pipeline(
    tmp_path: Path, flag: str
) -> None:
    code, modules = imported_by(tmp_path, flag)
    assert code == 0
    assert "argparse" in modules  # the probe saw the command run
    assert loaded(modules, NEVER_FOR_VERSION) == []


@pytest.mark.parametrize(
    ("action", "line"),
    [("review", 25), ("docstring", 13), ("rename", 13), ("explain", 17), ("design", 25)],
)
def test_route_imports_no_request_machinery(tmp_path: Path, action: str, line: int) -> None:
    code, modules = imported_by(
        tmp_path, "route", action, f"{PAYMENTS}:{line}", "--json", "--workspace", str(tmp_path)
    )
    assert code == 0
    # It did route: the engine, the router and the action's handler were loaded.
    assert {"tierwise.engine.engine", "tierwise.routing.router"} <= modules
    assert f"tierwise.handlers.{action}" in modules
    assert loaded(modules, NEVER_FOR_ROUTING) == []


def test_the_server_answering_initialize_is_built_without_the_engine(tmp_path: Path) -> None:
    probe = (
        "import json, sys\n"
        "from tierwise.server import create_server\n"
        "server = create_server()\n"
        "assert server.engine is None\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    run = _run_probe(tmp_path, probe)
    modules = set(json.loads(run.stdout))
    assert {"pygls.lsp.server", "tierwise.server.features"} <= modules
    assert loaded(modules, NEVER_BEFORE_INITIALIZE) == []


def test_serve_freezes_pygls_objects_and_serves_with_the_collector_on(tmp_path: Path) -> None:
    # asyncio.run stands in for the serving loop: what matters is the state it starts in.
    probe = (
        "import asyncio, gc, json\n"
        "from tierwise.server import run_server\n"
        "seen = {}\n"
        "def serve(coro):\n"
        "    seen.update(frozen=gc.get_freeze_count(), collecting=gc.isenabled())\n"
        "    coro.close()\n"
        "    return 0\n"
        "asyncio.run = serve\n"
        "run_server(None)\n"
        "print(json.dumps(seen))\n"
    )
    run = _run_probe(tmp_path, probe)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["collecting"] is True
    # pygls and lsprotocol's objects (about 50,000) are out of the collector's full passes.
    assert seen["frozen"] > 20_000


def test_a_short_command_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    probe = (
        "import gc, json, sys\n"
        "from tierwise.cli.main import main\n"
        "import tierwise.cli.commands as commands\n"
        "route = commands.cmd_route\n"
        "seen = {}\n"
        "def spy(args):\n"
        "    seen['during'] = gc.isenabled()\n"
        "    return route(args)\n"
        "commands.cmd_route = spy\n"
        f"code = main(['route', 'review', {str(PAYMENTS)!r} + ':25', '--json'])\n"
        "seen.update(code=code, after=gc.isenabled())\n"
        "sys.stderr.write(json.dumps(seen))\n"
    )
    run = _run_probe(tmp_path, probe)
    seen = json.loads(run.stderr.strip().splitlines()[-1])
    assert seen == {"during": False, "code": 0, "after": True}


def test_route_with_user_and_workspace_files_imports_neither_attrs_nor_cattrs(
    tmp_path: Path,
) -> None:
    user = tmp_path / "user.toml"
    user.write_text('[tiers.mid]\nmodels = ["anthropic:claude-sonnet-4-6"]\n', encoding="utf-8")
    (tmp_path / ".tierwise.toml").write_text('[routing.base]\nreview = "frontier"\n')
    code, modules = imported_by(
        tmp_path,
        *("route", "review", f"{PAYMENTS}:25", "--json"),
        *("--workspace", str(tmp_path), "--config", str(user)),
    )
    assert code == 0
    assert "tierwise.config.loader" in modules  # both files were read and structured
    assert loaded(modules, ("attrs", "attr", "cattrs")) == []
