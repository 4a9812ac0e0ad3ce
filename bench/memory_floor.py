"""Memory floors: the peak RSS of importing what the server is made of, each in a fresh process.

Run: .venv-dev/bin/python -m bench.memory_floor [--spawns N]

The server's RSS after its first provider call (bench/startup.py) cannot be lower than an
interpreter holding pygls, lsprotocol and the provider SDK that call used, whatever tierwise
itself does: this prints those floors (median of N fresh interpreters each), so the issue's
70 MB target can be compared with what the official SDKs cost on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

IMPORTS = {
    "python -c pass (the interpreter)": "",
    "pygls + lsprotocol (a bare server's code)": "import pygls.server, lsprotocol.types",
    "anthropic (the official SDK)": "import anthropic",
    "openai (the official SDK)": "import openai",
    "pygls + lsprotocol + anthropic": "import pygls.server, lsprotocol.types, anthropic",
    "pygls + lsprotocol + openai": "import pygls.server, lsprotocol.types, openai",
}
PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"


def peak_mb(statement: str) -> float:
    """Peak RSS (MB) of a fresh interpreter that runs `statement` and nothing else."""
    code = f"{statement}\n{PEAK}" if statement else PEAK
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> None:
    """Print the floors table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spawns", type=int, default=5)
    args = parser.parse_args(argv)
    print("peak RSS of a fresh interpreter importing only this (median of spawns)")
    print(f"{'imports':<48} {'n':>3} {'median':>9} {'min':>9} {'max':>9}")
    for name, statement in IMPORTS.items():
        samples = [peak_mb(statement) for _ in range(args.spawns)]
        print(
            f"{name:<48} {len(samples):>3} {statistics.median(samples):>7.1f}MB"
            f" {min(samples):>7.1f}MB {max(samples):>7.1f}MB"
        )


if __name__ == "__main__":
    main()
