#!/usr/bin/env bash
# redis-server for the shared-cache tests (tests/team/): Debian's redis-server package (7.0 on
# Debian 12), installed with apt when it is not on PATH. The tests start their own server on a
# random free port with `--save '' --appendonly no` and stop it at the end of the run
# (tests/team/redis_server.py); this script never starts one. The package's own service is kept
# from starting during the install (a policy-rc.d that says no), so nothing listens on 6379
# afterwards. Other scripts use apt at the same time, so it waits for the dpkg lock.
set -euo pipefail
if command -v redis-server >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "scripts/redis.sh: no redis-server on PATH and no root apt here: install one" \
    "(apt-get install redis-server, or a Valkey/Redis 6.2+ build) or set TIERWISE_REDIS_SERVER" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
install() { "${apt[@]}" install -y --no-install-recommends redis-server >/dev/null; }
if ! install; then
  # A fresh machine has no package lists yet; `update` has its own lock, so retry it.
  for attempt in 1 2 3 4 5 6; do
    "${apt[@]}" update >/dev/null && break
    [ "$attempt" = 6 ] && exit 1
    sleep 10
  done
  install
fi
echo "scripts/redis.sh: installed $(redis-server --version | head -1)"
