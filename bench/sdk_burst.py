"""The floor for a burst of streamed requests: the official Anthropic SDK alone, no tierwise.

Run by bench/concurrency.py as a child process (like the server, it gets a process and an
interpreter of its own): it builds one `AsyncAnthropic` client, makes one call to warm it (SDK
imported, connection pool started), prints "ready", waits for a line on stdin (the benchmark
scripts the fake's latency meanwhile), then streams one request per function given, all at
once, reading every event as tierwise does, and prints the burst's wall and CPU seconds as
JSON. Each request carries its function's source, so it is about the size of tierwise's prompt.

    python -m bench.sdk_burst BASE_URL FILE LINE [LINE ...]
"""

from __future__ import annotations

import ast
import asyncio
import json
import sys
import time
from pathlib import Path

MODEL = "claude-haiku-4-5"


def prompts(path: Path, lines: list[int]) -> list[str]:
    """For each 0-based line, a request naming the innermost function around it, with its code."""
    text = path.read_text(encoding="utf-8")
    source = text.splitlines()
    functions = [
        node
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    found = []
    for line in lines:
        around = [f for f in functions if f.lineno - 1 <= line <= (f.end_lineno or f.lineno) - 1]
        inner = min(around, key=lambda f: (f.end_lineno or f.lineno) - f.lineno)
        code = "\n".join(source[inner.lineno - 1 : inner.end_lineno])
        found.append(f"Explain what `{inner.name}` does.\n\n```python\n{code}\n```")
    return found


async def burst(base_url: str, asks: list[str]) -> tuple[float, float]:
    """Warm the client, say ready, wait for the go line, then time all the streams at once."""
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="sk-ant-bench", base_url=base_url, max_retries=0)

    async def one(prompt: str) -> str:
        text: list[str] = []
        events = await client.messages.create(
            model=MODEL,
            max_tokens=1024,
            messages=[{"role": "user", "content": prompt}],
            stream=True,
        )
        async with events:
            async for event in events:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text.append(event.delta.text)
        return "".join(text)

    await one(asks[0])
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(prompt) for prompt in asks))
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    """Print the burst's wall and CPU seconds (JSON) after the go line."""
    base_url, file, *lines = sys.argv[1:]
    wall, cpu = asyncio.run(burst(base_url, prompts(Path(file), [int(n) for n in lines])))
    print(json.dumps({"wall_s": wall, "cpu_s": cpu}), flush=True)


if __name__ == "__main__":
    main()
