#!/usr/bin/env bash
# Install Debian packages for a test prerequisite: `bash scripts/apt-install.sh PKG...`.
# Shared by editors.sh, redis.sh and local-model.sh. Other scripts use apt at the same time, so it
# waits for the dpkg lock instead of failing, and a fresh machine with no package lists yet gets
# `apt-get update` (which has its own lock) retried before the install is tried again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
install() { "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null; }
if ! install "$@"; then
  for attempt in 1 2 3 4 5 6; do
    "${apt[@]}" update >/dev/null && break
    [ "$attempt" = 6 ] && exit 1
    sleep 10
  done
  install "$@"
fi
