"""Large and hostile files: time, peak RSS, and how the server answers meanwhile.

Run: .venv-dev/bin/python -m bench.hostile [--quick] [--only big1.py,many.c] [--repeat N]

Generated inputs (they are hostile by construction, so nothing is fetched): a 5 MB and a 1 MB
Python module of small functions, a 100 KB C file of 50,000 nested braces (one a
line), a 0.87 MB C file
of 8,700 functions, and Python nested 100 blocks deep. For each: `tierwise route` on the
command line (wall time, CPU time and the child's peak RSS), then on one server: didOpen, a
codeAction and a `tierwise.route` at the last line, with bare round trips sent every 10 ms
meanwhile; the slowest of those is the stall a user would feel. The server's CPU column is
the CPU time the server and its child processes (the parse child) used from didOpen to the
answer: wall time moves 2-3x with other work on the cores, CPU time much less.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.serve import code_action_params, open_document, server
from bench.timing import fmt
from tests.fakes.wire import FakeProvider


def python_module(target_bytes: int) -> str:
    """Small functions until the module reaches `target_bytes`."""
    parts: list[str] = ['"""Generated."""\n', "import os\n\n"]
    size, n = 0, 0
    while size < target_bytes:
        block = (
            f"def handler_{n}(request, value={n}):\n"
            f'    """Handle case {n}."""\n'
            f"    if value > {n % 7}:\n"
            f"        return os.path.join(str(request), 'x{n}')\n"
            f"    return None\n\n\n"
        )
        parts.append(block)
        size += len(block)
        n += 1
    return "".join(parts)


def nested_braces(depth: int) -> str:
    """A C function whose body opens `depth` nested blocks, one `{` a line (two bytes a level)."""
    return "int f(void)\n" + "{\n" * depth


def c_functions(count: int) -> str:
    """An ordinary C file of `count` functions (about 87 bytes each)."""
    return "#include <stdio.h>\n\n" + "".join(
        f"static int compute_{i}(int a, int b) {{\n    if (a > b) {{ return a - {i}; }}\n"
        f"    return b + {i};\n}}\n\n"
        for i in range(count)
    )


def deep_python(depth: int) -> str:
    """A function nested `depth` if-blocks deep."""
    lines = ["def deep(x):"]
    for level in range(depth):
        lines.append("    " * (level + 1) + f"if x > {level}:")
    lines.append("    " * (depth + 1) + "return x")
    return "\n".join(lines) + "\n"


CASES: list[tuple[str, str, Any]] = [
    ("5 MB Python, 40k functions", "big5.py", lambda: python_module(5_000_000)),
    ("1 MB Python, 8k functions", "big1.py", lambda: python_module(950_000)),
    ("100 KB C, 50,000 nested braces", "nested.c", lambda: nested_braces(50_000)),
    ("0.87 MB C, 8,700 functions", "many.c", lambda: c_functions(8_700)),
    ("Python nested 100 blocks deep", "deep.py", lambda: deep_python(100)),
]


def target_line(text: str) -> int:
    """The 0-based line the requests target: inside the first function (where the hostile
    structure is), except for the long modules, whose last function makes the parser read all."""
    count = text.count("\n")
    return 1 if count < 10 or text.startswith("int f") else count - 3


def cli_route(path: Path, line: int, env: dict[str, str]) -> tuple[float, float, float, int, str]:
    """(wall seconds, CPU seconds, peak RSS MB, exit code, last stderr line) of `tierwise
    route`. CPU time (user + system, from wait4) moves far less than wall time when other
    work shares the cores."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tierwise", "route", "review", f"{path}:{line}", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stderr is not None
    err = process.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return elapsed, cpu, usage.ru_maxrss / 1024, code, (err.strip().splitlines() or [""])[-1][:90]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process and its live descendants have used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [
            int(c)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for c in (task / "children").read_text().split()
        ]
    except OSError:  # it ended meanwhile
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu(child) for child in children)


async def server_case(fake: FakeProvider, path: Path, text: str) -> tuple[float, float, str, float]:
    """(seconds to answer codeAction + route, slowest bare round trip meanwhile, outcome,
    CPU seconds of the server and its children meanwhile)."""
    async with server(fake, path.parent) as client:
        last = target_line(text)
        worst = 0.0
        cpu = process_cpu(client.process.pid)
        started = time.perf_counter()
        uri = open_document(client, path, text)
        _, actions = client.start_request("textDocument/codeAction", code_action_params(uri, last))
        _, route = client.start_request(
            "workspace/executeCommand",
            {
                "command": "tierwise.route",
                "arguments": [
                    {"action": "review", "uri": uri, "position": {"line": last, "character": 0}}
                ],
            },
        )
        done = asyncio.gather(actions, route)
        while not done.done():
            sent = time.perf_counter()
            await client.request("tierwise/noSuchMethod", {})
            worst = max(worst, time.perf_counter() - sent)
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = process_cpu(client.process.pid) - cpu
        listed, routed = done.result()
    if isinstance(routed, dict) and "code" in routed:
        outcome = f"route: error {routed['code']}: {str(routed.get('message'))[:70]}"
    else:
        outcome = f"route: {routed.get('tier')}; {len(listed or [])} code actions"
    return elapsed, worst, outcome, cpu


async def measure(
    quick: bool, fake: FakeProvider, tmp: Path, only: set[str] | None = None, repeat: int = 1
) -> str:
    """Every case (or those named in `only`) on the CLI and on a server, `repeat` times each:
    the medians, and the slowest ping of all runs."""
    env = {
        **os.environ,
        "TIERWISE_DATA_DIR": str(tmp / "data"),
        "TIERWISE_CACHE_DIR": str(tmp / "cache"),
        "TIERWISE_CONFIG": str(tmp / "none.toml"),
    }
    lines = [
        f"{'file':<34} {'CLI route':>10} {'CLI CPU':>9} {'peak RSS':>9} {'exit':>5}"
        f"  {'server answer':>13} {'server CPU':>10} {'worst ping':>11}  outcome"
    ]
    cases = CASES[1:] if quick else CASES
    for label, name, make in [c for c in cases if only is None or c[1] in only]:
        text = make()
        path = tmp / name
        path.write_text(text, encoding="utf-8")
        runs = [cli_route(path, target_line(text) + 1, env) for _ in range(repeat)]
        served = [await server_case(fake, path, text) for _ in range(repeat)]
        seconds = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        rss = max(r[2] for r in runs)
        code, err = runs[-1][3], runs[-1][4]
        answer = statistics.median(s[0] for s in served)
        server_cpu = statistics.median(s[3] for s in served)
        worst = max(s[1] for s in served)
        pings = (
            ""
            if repeat == 1
            else f" (per run, answer / CPU / worst ping: "
            f"{', '.join(f'{fmt(s[0])} / {fmt(s[3])} / {fmt(s[1])}' for s in served)})"
        )
        lines.append(
            f"{label:<34} {fmt(seconds):>10} {fmt(cpu):>9} {rss:>7.0f}MB {code:>5}"
            f"  {fmt(answer):>13} {fmt(server_cpu):>10} {fmt(worst):>11}  {served[-1][2]}{pings}"
        )
        if code:
            lines.append(f"{'':<34} CLI: {err}")
    runs_text = "one run each" if repeat == 1 else f"medians of {repeat} runs, the slowest ping"
    return f"large and hostile files ({runs_text})\n" + "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Print the hostile-file table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the 5 MB file")
    parser.add_argument(
        "--only", help="comma-separated file names of the cases to run (big1.py,many.c,...)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each case")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    with FakeProvider() as fake, tempfile.TemporaryDirectory() as tmp:
        print(asyncio.run(measure(args.quick, fake, Path(tmp), only, max(1, args.repeat))))


if __name__ == "__main__":
    main()
