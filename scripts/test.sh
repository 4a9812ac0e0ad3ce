#!/usr/bin/env bash
# The README's test command and what .ci/run calls: install the dev extras into .venv-dev
# (created if missing) and run every gate: ruff, mypy, the VS Code extension's node tests and
# .vsix, pytest (which includes a real VS Code end to end), then the cache-key tests on
# Python 3.12 (scripts/test_py312.sh).
# It uses its own venv on purpose: the README's "Try it" command makes `.venv` with a plain,
# non-editable install, and running the tests must not quietly turn that into a dev install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=.venv-dev
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[dev]'
bash scripts/editors.sh  # Emacs with eglot for the eglot e2e test (apt; skipped when present)
bash scripts/redis.sh  # redis-server for tests/team (apt; the tests start and stop their own)
echo "== ruff check"; "$VENV/bin/ruff" check .
echo "== ruff format --check"; "$VENV/bin/ruff" format --check .
echo "== mypy"; "$VENV/bin/mypy"
# The VS Code extension: node tests and the .vsix (tests/test_vscode_package.py reads it), then
# code-server and Chromium for its end-to-end test (cached in ~/.cache/tierwise-e2e; set
# TIERWISE_SKIP_VSCODE_E2E=1 to skip that part).
TIERWISE_PYTHON="$PWD/$VENV/bin/python" bash scripts/vscode-client.sh
if [ "${TIERWISE_SKIP_VSCODE_E2E:-}" != 1 ]; then
  echo "== VS Code e2e setup"; bash scripts/setup-vscode-e2e.sh
fi
echo "== pytest"; "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
echo "== cache keys on Python 3.12"; bash scripts/test_py312.sh
