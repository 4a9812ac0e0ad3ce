"""The soak, longer than CI runs it: mixed traffic, 10% provider faults, footprint over time.

Run: .venv-dev/bin/python -m bench.soak [--seconds 600] [--seed 9]

The same driver as tests/protocol/test_soak.py (tests/protocol/soak.py), against a real
`tierwise serve` and the wire fake. Prints the server's footprint at each sample (RSS from
/proc, descriptors, threads, asyncio tasks) and each request kind's latency: median, p99 and
the median's ratio to a bare round trip (the `ping` kind) measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.timing import fmt
from tests.e2e.conftest import make_workspace
from tests.e2e.lsp_helpers import fake_reply, server_env
from tests.fakes.wire import FakeProvider
from tests.protocol.soak import CAPABILITIES, Soak, SoakReport
from tests.rpc import RpcServer


def p99(samples: list[float]) -> float:
    """The 99th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def tables(report: SoakReport) -> str:
    """The footprint and latency tables."""
    lines = [
        "footprint over time",
        f"{'t (s)':>7} {'RSS (MB)':>9} {'fds':>5} {'threads':>8} {'tasks':>6} {'jobs':>5}",
    ]
    for s in report.samples:
        lines.append(
            f"{s.at_s:>7.0f} {s.rss_kib / 1024:>9.1f} {s.fds:>5} {s.threads:>8} {s.tasks:>6} "
            f"{s.jobs:>5}"
        )
    base = statistics.median(report.latencies["ping"])
    lines += [
        "",
        "latency per request kind",
        f"{'kind':<12} {'n':>6} {'median':>10} {'p99':>10} {'ratio':>8}",
    ]
    for kind, samples in sorted(report.latencies.items()):
        median = statistics.median(samples)
        lines.append(
            f"{kind:<12} {len(samples):>6} {fmt(median):>10} {fmt(p99(samples)):>10} "
            f"{median / base:>7.1f}x"
        )
    answers = ", ".join(f"{code}: {n}" for code, n in sorted(report.codes.items(), key=str))
    lines += [
        "",
        f"{report.steps} steps, {report.requests} requests, {report.provider_calls} provider "
        f"calls, {report.ledger_rows} ledger rows for {report.runs_answered} answered runs",
        f"answers by code: {answers}",
        f"unanswered: {len(report.unanswered)}, unclean errors: {len(report.unclean)}",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run the soak and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    with FakeProvider() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.responder = fake_reply
        home, root = make_workspace(Path(tmp), fake)
        rpc = RpcServer(server_env(home, home / "config.toml"))
        try:
            rpc.initialize(root, CAPABILITIES)
            report = Soak(rpc, fake, root, home, seed=args.seed).run(args.seconds, samples=10)
            code = rpc.exit()
        finally:
            rpc.close()
    print(tables(report))
    print(f"exit code {code}")


if __name__ == "__main__":
    main()
