#!/usr/bin/env bash
# The VS Code extension's gates (called by scripts/test.sh): install its pinned npm packages
# (only when package-lock.json changed), typecheck, bundle, run the node tests (src/logic, and
# src/logic against the real server over stdio), and package the .vsix with vsce.
set -euo pipefail
cd "$(dirname "$0")/../vscode-client"
PYTHON=${TIERWISE_PYTHON:-$(cd .. && pwd)/.venv-dev/bin/python}
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.tierwise-lock 2>/dev/null)" != "$lock_hash" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.tierwise-lock
fi
echo "== vscode-client: tsc"; npm run --silent typecheck
echo "== vscode-client: node tests"; TIERWISE_PYTHON="$PYTHON" npm test --silent
echo "== vscode-client: vsce package"
rm -f ./*.vsix
npx @vscode/vsce package --no-dependencies --allow-missing-repository 2>&1 | grep -v '^ INFO\|^   \|^├\|^└\|^│' || true
ls ./*.vsix >/dev/null
