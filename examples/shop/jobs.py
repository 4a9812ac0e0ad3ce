"""Background jobs: label printing and nightly exports."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path
from queue import Empty, Queue

from .db import mark_shipped

LABEL_TOOL = "/usr/local/bin/print-label"
EXPORT_DIR = Path("/var/shop/exports")


class LabelPrinter:
    """Prints shipping labels on a worker thread."""

    def __init__(self) -> None:
        self._queue: Queue[int] = Queue()
        self._lock = threading.Lock()
        self._printed: set[int] = set()
        self._thread = threading.Thread(target=self._work, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, order_id: int) -> None:
        with self._lock:
            if order_id in self._printed:
                return
        self._queue.put(order_id)

    def _work(self) -> None:
        while True:
            try:
                order_id = self._queue.get(timeout=1.0)
            except Empty:
                continue
            result = subprocess.run(
                [LABEL_TOOL, "--order", str(order_id)], capture_output=True, timeout=30
            )
            if result.returncode == 0:
                with self._lock:
                    self._printed.add(order_id)
                mark_shipped(order_id)


def rotate_exports(keep: int = 7) -> None:
    folders = sorted(p for p in EXPORT_DIR.iterdir() if p.is_dir())
    for old in folders[:-keep]:
        shutil.rmtree(old)


def export_name(day: str) -> str:
    return f"orders-{day}.csv"
