#!/usr/bin/env bash
# The tests against a real local model (tests/local_model): llama.cpp's OpenAI-compatible server
# with SmolLM2-135M-Instruct as tierwise's `local` tier. Installs both with scripts/local-model.sh
# (outside the repository; the first run builds llama.cpp, about 8 minutes on 2 cores, later
# runs take seconds), then runs those tests. Arguments go to pytest.
#
# Not part of scripts/test.sh (the README's test command and CI's): the first build alone would
# add about 60% to the whole suite's time on a 2-core machine, and what these tests prove is how
# tierwise treats one real server's replies, not routing or editor behaviour. scripts/test.sh
# collects them and skips them with a pointer here; this script sets TIERWISE_LOCAL_MODEL_TESTS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv-dev
echo "== local model"; bash scripts/local-model.sh
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'
echo "== pytest tests/local_model"
TIERWISE_LOCAL_MODEL_TESTS=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/local_model "$@"
