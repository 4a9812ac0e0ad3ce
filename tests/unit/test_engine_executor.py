"""The engine's executor is built on first use (routing alone never needs it), and only once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# In a fresh interpreter, so that the first use also imports the execution code (the slow part
# the threads would otherwise overlap in).
PROBE = """\
import json, sys, threading
from tierwise.config import Config
from tierwise.engine import Engine

engine = Engine(Config())
built_before = "tierwise.engine.execution" in sys.modules
start = threading.Barrier(8)
seen = []

def first_use():
    start.wait()
    seen.append(id(engine.executor))

threads = [threading.Thread(target=first_use) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
same_setup = engine.executor.pricing is engine.pricing and engine.executor.config is engine.config
print(json.dumps({"before": built_before, "executors": len(set(seen)), "setup": same_setup}))
"""


def test_the_executor_is_built_once_when_threads_first_ask_at_once(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TIERWISE_DATA_DIR": str(tmp_path / "data"),
        "TIERWISE_CACHE_DIR": str(tmp_path / "cache"),
    }
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        seen = json.loads(run.stdout.strip().splitlines()[-1])
        assert seen == {"before": False, "executors": 1, "setup": True}
