"""Language-server overhead: a cache-hit `tierwise.run` and code-action listings, on a small and
a 2,038-line file, against the bare round trip measured on the same server in the same run.

Run: .venv-dev/bin/python -m bench.lsp [--repeat N] [--window S]

`--window S` turns escalation on repeat on, with a window of S seconds (the default config's is
900; the table's runs have it off, so that asking again stays a cache hit): the hit then also
reads the target's earlier asks, which grow by one row a hit. The first asks climb to the
frontier tier (each one a repeat), whose answer every later ask is served from the cache.
The server's CPU per request (user + system, from /proc, over the timed loop) is printed too:
steadier than wall time on a busy machine.

Every figure comes from the same raw stdio client (bench/rpc.py), as lean as an editor's. The
bare round trip is a request the server has no handler for, answered by pygls alone. "new text"
listings follow an incremental didChange that types one line into the target, so each listing
is for a document version the server has not seen.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench import realfiles
from bench.cputime import process_cpu
from bench.rpc import RawClient
from bench.serve import code_action_params, insert_line, open_document, run_args, server
from bench.timing import over, sample_async, table
from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider


async def measure_file(
    client: RawClient,
    fake: FakeProvider,
    file: realfiles.RealFile,
    repeat: int,
    cpu: list[str],
    escalating: bool = False,
) -> list[tuple[str, list[float]]]:
    """The rows for one file on an initialized server; `cpu` gets the server's CPU lines."""
    uri = open_document(client, file.path, file.text)
    line = file.line
    first = await client.request("workspace/executeCommand", run_args(uri, line))
    assert isinstance(first, dict) and first.get("cache_hit") is False, first
    for _ in range(5 if escalating else 0):  # each repeat one tier up, to the frontier's hit
        if first.get("cache_hit"):
            break
        first = await client.request("workspace/executeCommand", run_args(uri, line))
    sent = fake.request_count

    async def bare() -> None:
        reply = await client.request("tierwise/noSuchMethod", {})
        assert isinstance(reply, dict) and reply.get("code") == -32601, reply

    async def cached_run() -> None:
        reply = await client.request("workspace/executeCommand", run_args(uri, line))
        assert reply["cache_hit"] is True, reply

    async def listing() -> None:
        reply = await client.request("textDocument/codeAction", code_action_params(uri, line))
        assert reply, "no code actions listed"

    version = [1]
    offset = [0]

    async def listing_new_text() -> None:
        version[0] += 1
        insert_line(client, uri, line, f"{file.body_indent}typed_{version[0]} = 1", version[0])
        offset[0] += 1
        reply = await client.request(
            "textDocument/codeAction", code_action_params(uri, line + offset[0])
        )
        assert reply, "no code actions listed"

    pid = client.process.pid
    before = process_cpu(pid)
    bare_rows = await sample_async(bare, repeat)
    between = process_cpu(pid)
    hit_rows = await sample_async(cached_run, repeat)
    after = process_cpu(pid)
    bare_cpu, hit_cpu = (between - before) / (repeat + 3), (after - between) / (repeat + 3)
    cpu.append(
        f"  server CPU a request ({file.label}): bare round trip {bare_cpu * 1e6:.0f} µs, "
        f"cache hit {hit_cpu * 1e6:.0f} µs (+ {(hit_cpu - bare_cpu) * 1e6:.0f} µs)"
    )
    rows = [
        (f"bare round trip ({file.label})", bare_rows),
        (f"tierwise.run review, cache hit ({file.label})", hit_rows),
        (f"codeAction, text unchanged ({file.label})", await sample_async(listing, repeat)),
        (
            f"codeAction, new text (didChange + list, {file.label})",
            await sample_async(listing_new_text, max(20, repeat // 3)),
        ),
    ]
    assert fake.request_count == sent, "a cache hit reached the provider"
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return rows


async def measure(args: argparse.Namespace, fake: FakeProvider) -> str:
    """Both files on one server; one table each."""
    out = []
    for file in (realfiles.small(), realfiles.large()):
        cpu: list[str] = []
        async with server(fake, file.path.parent, window_s=args.window) as client:
            started = time.perf_counter()
            rows = await measure_file(client, fake, file, args.repeat, cpu, args.window > 0)
            elapsed = time.perf_counter() - started
        base = rows[0][0]
        notes = "\n".join([*(over(rows, name, base) for name, _ in rows[1:]), *cpu])
        out.append(
            table(
                f"LSP round trips, {file.path.name} ({file.label}), {elapsed:.0f} s"
                + (f", escalation window {args.window:g} s" if args.window > 0 else ""),
                rows,
                base,
                extra=notes,
            )
        )
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Print the language-server benchmark tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument(
        "--window",
        type=float,
        default=0.0,
        help="escalation on repeat on, with this window in seconds (default: off)",
    )
    args = parser.parse_args(argv)
    with FakeProvider() as fake:
        fake.responder = fake_reply
        print(asyncio.run(measure(args, fake)))


if __name__ == "__main__":
    main()
