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
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then rm -f "$policy"; fi; }
trap cleanup EXIT
bash "$(dirname "$0")/apt-install.sh" redis-server
echo "scripts/redis.sh: installed $(redis-server --version | head -1)"
