#!/usr/bin/env bash
# The cache-key tests again on Python 3.12 (called by scripts/test.sh).
# Why: the key normalises Python with `tokenize` (or a scanner that must read as it does), and 3.12 (PEP 701) tokenizes f-strings into
# parts (and turns `{{` into `{`), so rules that hold on 3.11 must be shown to hold on 3.12 too;
# the project claims requires-python >= 3.11.
# The interpreter: $PYTHON312, else python3.12 on PATH, else pyenv's 3.12.1. A missing one is an
# error, never a silent skip; TIERWISE_SKIP_PY312=1 skips on purpose, with a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
is_312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }
PY312=""
for candidate in "${PYTHON312:-}" "$(command -v python3.12 || true)" \
  /root/.pyenv/versions/3.12.1/bin/python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3.12"; do
  if [ -n "$candidate" ] && is_312 "$candidate"; then PY312=$candidate; break; fi
done
if [ -z "$PY312" ]; then
  if [ "${TIERWISE_SKIP_PY312:-}" = "1" ]; then
    echo "!! WARNING: cache-key tests NOT run on Python 3.12 (TIERWISE_SKIP_PY312=1)" >&2
    exit 0
  fi
  echo "ERROR: no Python 3.12 found for the cache-key tests: install one (e.g. pyenv install" \
    "3.12.1), set PYTHON312=/path/to/python3.12, or set TIERWISE_SKIP_PY312=1 to skip" >&2
  exit 1
fi
VENV=.venv-dev-py312
if [ ! -x "$VENV/bin/python" ]; then
  "$PY312" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e . pytest pytest-asyncio pytest-lsp
echo "== pytest on $("$VENV/bin/python" --version): cache keys"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/unit/test_cache_keys.py tests/unit/test_cache_keys_formatters.py tests/unit/test_engine_keys.py \
  tests/unit/test_python_scan.py
