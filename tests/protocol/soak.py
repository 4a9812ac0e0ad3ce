"""A soak: mixed editor traffic against one `tierwise serve`, with provider faults injected.

Shared by tests/protocol/test_soak.py (a few minutes in CI) and bench/soak.py (longer, with a
table). Each step is what an editor does all day: list code actions as the cursor moves,
preview routes, run actions (some cached, some not, some cancelled), edit the document, read
stats, and now and then send something broken. One provider call in ten gets a fault from the
wire fake (5xx, 429, a reset or a stall mid-stream, invalid JSON, a slow first token).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import attrs

from tests.fakes.wire import Behaviour, FakeProvider
from tests.rpc import RpcServer

FAULTS: list[Behaviour] = [
    ("status", 500),
    ("status", 529),
    ("status", 429, 0.05),
    "truncate",
    "end_early",
    "malformed",
    ("hang", 0.5),
    ("slow", 8, 0.02),
]
FAULT_RATE = 0.10
# An editor with progress, documents, edits and configuration pulls.
CAPABILITIES = {
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
    "workspace": {"applyEdit": True, "configuration": True},
}
ACTIONS = ["docstring", "rename", "explain", "review", "design"]
TIERS = ["budget", "mid", "frontier"]
# What a cleanly failing run may answer: InvalidParams (e.g. rename outside a definition),
# RequestCancelled, RequestFailed (a provider fault that the chain could not absorb).
CLEAN_ERRORS = {-32602, -32800, -32803}


def fault_script(count: int, rng: random.Random) -> list[Behaviour]:
    """`count` provider behaviours, one in ten a fault."""
    return [rng.choice(FAULTS) if rng.random() < FAULT_RATE else "ok" for _ in range(count)]


@attrs.define
class Sample:
    """The server's footprint at one moment."""

    at_s: float
    rss_kib: int
    fds: int
    threads: int
    tasks: int
    jobs: int
    in_flight: int


@attrs.define
class SoakReport:
    """What a soak did and what it found."""

    steps: int = 0
    requests: int = 0
    unanswered: list[str] = attrs.Factory(list)
    unclean: list[Any] = attrs.Factory(list)  # errors outside CLEAN_ERRORS (e.g. -32603)
    codes: Counter[Any] = attrs.Factory(Counter)
    latencies: dict[str, list[float]] = attrs.Factory(dict)
    samples: list[Sample] = attrs.Factory(list)
    runs_answered: int = 0
    provider_calls: int = 0
    ledger_rows: int = 0

    def summary(self) -> str:
        """One line for the end of a test run."""
        start, end = self.start, self.end
        return (
            f"soak: {self.steps} steps, {self.requests} requests, {self.provider_calls} provider "
            f"calls in {end.at_s:.0f} s; RSS {start.rss_kib / 1024:.1f} MB after warm-up -> "
            f"{end.rss_kib / 1024:.1f} MB at the end; fds {start.fds} -> {end.fds}, threads "
            f"{start.threads} -> {end.threads}, tasks {start.tasks} -> {end.tasks}"
        )

    @property
    def start(self) -> Sample:
        """The footprint after the warm-up (caches, pools and imports settled)."""
        return self.samples[1] if len(self.samples) > 1 else self.samples[0]

    @property
    def end(self) -> Sample:
        """The footprint at the end, once every request was answered."""
        return self.samples[-1]


def sample(rpc: RpcServer, started: float) -> Sample:
    """The server's footprint: /proc for memory, descriptors and threads, stats for tasks."""
    health = rpc.request("workspace/executeCommand", {"command": "tierwise.stats"})["result"]
    server = health["server"]
    return Sample(
        round(time.monotonic() - started, 1),
        rpc.rss_kib(),
        rpc.open_fds(),
        rpc.threads(),
        server["tasks"],
        server["jobs"],
        server["requests_in_flight"],
    )


class Soak:
    """Drives one soak; `run` returns the report."""

    def __init__(
        self, rpc: RpcServer, fake: FakeProvider, root: Path, home: Path, seed: int
    ) -> None:
        self.rpc = rpc
        self.fake = fake
        self.home = home
        self.rng = random.Random(seed)
        self.report = SoakReport()
        self.files = {
            name: (root / name).read_text(encoding="utf-8")
            for name in ("shop.py", "helpers.py", "main.py")
        }
        self.uris = {name: (root / name).as_uri() for name in self.files}
        self.versions = dict.fromkeys(self.files, 1)
        for name, text in self.files.items():
            rpc.open(self.uris[name], text)

    # -- one step -------------------------------------------------------------------------------

    def _position(self, name: str) -> dict[str, int]:
        lines = self.files[name].split("\n")
        line = self.rng.randrange(len(lines))
        return {"line": line, "character": self.rng.randrange(len(lines[line]) + 1)}

    def _ask(self, kind: str, method: str, params: Any) -> dict[str, Any] | None:
        self.report.requests += 1
        started = time.perf_counter()
        try:
            reply = self.rpc.request(method, params)
        except AssertionError as exc:  # ServerSilent
            self.report.unanswered.append(f"{kind}: {exc}")
            return None
        self.report.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        error = reply.get("error")
        self.report.codes[error["code"] if error else "ok"] += 1
        expected = {-32601} if kind == "ping" else CLEAN_ERRORS  # ping: a method nobody knows
        if error and error["code"] not in expected:
            self.report.unclean.append((kind, params, error))
        return reply

    def _run_args(self, name: str) -> dict[str, Any]:
        return {
            "action": self.rng.choice(ACTIONS),
            "uri": self.uris[name],
            "position": self._position(name),
            "tier": self.rng.choice(TIERS),
            "refresh": self.rng.random() < 0.5,
        }

    def step(self) -> None:
        """One editor-like step, chosen at random."""
        self.report.steps += 1
        name = self.rng.choice(list(self.files))
        uri = self.uris[name]
        roll = self.rng.random()
        if roll < 0.25:
            here = self._position(name)
            self._ask(
                "codeAction",
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": uri},
                    "range": {"start": here, "end": here},
                    "context": {"diagnostics": []},
                },
            )
        elif roll < 0.40:
            args = self._run_args(name)
            del args["refresh"]
            self._ask(
                "route",
                "workspace/executeCommand",
                {"command": "tierwise.route", "arguments": [args]},
            )
        elif roll < 0.70:
            reply = self._ask(
                "run",
                "workspace/executeCommand",
                {"command": "tierwise.run", "arguments": [self._run_args(name)]},
            )
            if reply is not None and "result" in reply:
                self.report.runs_answered += 1
        elif roll < 0.75:
            self._cancelled_run(name)
        elif roll < 0.85:
            self._edit(name)
        elif roll < 0.90:
            self._ask("stats", "workspace/executeCommand", {"command": "tierwise.stats"})
        elif roll < 0.95:
            self._ask("broken", "workspace/executeCommand", self.rng.choice(BROKEN))
        else:
            self._ask("ping", "tierwise/ping", {})

    def _cancelled_run(self, name: str) -> None:
        ident = self.rpc.next_id()
        args = {**self._run_args(name), "refresh": True}
        self.rpc.send(
            {
                "jsonrpc": "2.0",
                "id": ident,
                "method": "workspace/executeCommand",
                "params": {"command": "tierwise.run", "arguments": [args]},
            }
        )
        time.sleep(self.rng.choice([0.0, 0.01, 0.05]))
        self.rpc.notify("$/cancelRequest", {"id": ident})
        self.report.requests += 1
        try:
            reply = self.rpc.response(ident)
        except AssertionError as exc:
            self.report.unanswered.append(f"cancelled run: {exc}")
            return
        error = reply.get("error")
        self.report.codes[error["code"] if error else "ok"] += 1
        if error and error["code"] not in CLEAN_ERRORS:
            self.report.unclean.append(("cancelled run", args, error))
        if "result" in reply:
            self.report.runs_answered += 1

    def _edit(self, name: str) -> None:
        """Add or remove a comment line at the top (the document's version moves on)."""
        text = self.files[name]
        marker = "# soak edit\n"
        self.files[name] = text[len(marker) :] if text.startswith(marker) else marker + text
        self.versions[name] += 1
        self.rpc.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": self.uris[name], "version": self.versions[name]},
                "contentChanges": [{"text": self.files[name]}],
            },
        )

    # -- the whole soak ---------------------------------------------------------------------------

    def run(self, seconds: float, samples: int = 6) -> SoakReport:
        """Step for `seconds`, sampling the footprint along the way; then settle and sample."""
        started = time.monotonic()
        self.fake.script(*fault_script(20_000, self.rng))
        calls_before = self.fake.request_count
        self.report.samples.append(sample(self.rpc, started))
        every = seconds / samples
        next_sample = started + every
        while time.monotonic() - started < seconds:
            self.step()
            if time.monotonic() >= next_sample:
                self.report.samples.append(sample(self.rpc, started))
                next_sample += every
        self.rpc.ping()
        time.sleep(1.0)  # let cancelled streams and deferred cache writes finish
        self.report.samples.append(sample(self.rpc, started))
        self.report.provider_calls = self.fake.request_count - calls_before
        self.report.ledger_rows = ledger_rows(self.home)
        return self.report


BROKEN: list[dict[str, Any]] = [
    {"command": "tierwise.run", "arguments": [{"action": "summarise", "uri": "file:///x.py"}]},
    {"command": "tierwise.run", "arguments": ["review"]},
    {"command": "tierwise.nope"},
    {"command": "tierwise.setTier", "arguments": [{"tier": "ultra"}]},
    {
        "command": "tierwise.run",
        "arguments": [
            {
                "action": "review",
                "uri": "file:///nowhere.py",
                "position": {"line": 0, "character": 0},
            }
        ],
    },
]


def ledger_rows(home: Path) -> int:
    """Rows in the server's ledger."""
    path = home / "data" / "ledger.sqlite3"
    if not path.exists():
        return 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as con:
        return int(con.execute("SELECT COUNT(*) FROM requests").fetchone()[0])
