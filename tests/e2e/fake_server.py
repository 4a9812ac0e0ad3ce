"""The wire fake with the e2e tests' plausible replies, for test clients in other languages.

    python -m tests.e2e.fake_server [--slow-first N]

Prints `listening <base_url>` once, then one JSON line per request the fake received
(`{"model": ...}`), so a test in another process (the VS Code
extension's node tests) can check which model got each request. `--slow-first N` streams
the first answer as N slow chunks (0.05 s apart), for cancellation tests.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from tests.e2e.lsp_helpers import fake_reply
from tests.fakes.wire import FakeProvider


def main(argv: list[str] | None = None) -> None:
    """Serve until stdin closes (the test process ended) or the process is killed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--slow-first", type=int, default=0)
    args = parser.parse_args(argv)
    lock = threading.Lock()

    def reply(body: dict[str, Any]) -> str:
        with lock:
            print(json.dumps({"model": body.get("model")}), flush=True)
        return fake_reply(body)

    with FakeProvider(args.port) as fake:
        fake.responder = reply
        if args.slow_first:
            fake.script(("slow", args.slow_first, 0.05))
        print(f"listening {fake.openai_base_url}", flush=True)
        sys.stdin.read()  # returns when the parent closes our stdin or dies


if __name__ == "__main__":
    main()
