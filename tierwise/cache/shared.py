"""L2: a team's shared answers on Redis or Valkey, through redis-py's asyncio client.

Nothing here ever raises into a request. Every operation has a deadline (cache.shared.timeout_ms,
about 50 ms); a server that is down, slow or answers garbage makes that operation a miss, the
request goes on with L1 and the provider, and `Health` keeps one warning per outage. After a
failure L2 is left alone for RETRY_AFTER_S, so an outage costs a request at most one deadline,
and the first operation after that tells whether the server is back.

Values are JSON only: an envelope `{"body": "<the answer as JSON>", "mac": "<hex>"}` whose MAC is
an HMAC-SHA256, under the team secret, over the key and the body, so an entry cannot be planted
for a key (or copied to another) by anyone without the secret. A value that is not that envelope
(a pickle, other JSON), whose MAC fails or that is over the size cap is refused and counted, and
never decoded further. Every key written has a TTL. Clearing scans our own prefix and UNLINKs
what it finds: never FLUSHDB, so whatever else lives in that database is left alone.

Keys come from tierwise.cache.keys (`tierwise:v{N}:{team}:{action}:{sha256}`); this module only
adds `{prefix}lock:{sha256}` (the stampede lock, SET NX PX) and `{prefix}spend:{day}` (the team's
spend counters, a hash of numbers). Redis Cluster is not supported: one lookup reads several keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from tierwise.cache.keys import key_prefix
from tierwise.cache.shared_values import Health, Signer

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")

# Deadline of the operations a user asks for (clear, stats, doctor), not on a request's path.
MAINTENANCE_TIMEOUT_S = 5.0
# The first operation of a client also opens its connection (TCP, maybe TLS, the handshake):
# its deadline is at least this, once per client (one per CLI run, one per editor session), so
# a CLI run against a server a few milliseconds away is not a miss every time.
CONNECT_TIMEOUT_S = 0.25
SCAN_COUNT = 500
# Compare-and-delete: only the holder's token releases a lock (an expired lock may already be
# someone else's). A server that refuses scripts just lets the lock expire.
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\
 return 0"


class _Failed:
    """An operation that did not complete (down, slow, refused): the caller treats it as a miss."""


FAILED = _Failed()


@attrs.frozen
class Lookup:
    """What one L2 lookup found: an answer (its key and value), and whether we hold the lock."""

    hit: tuple[str, dict[str, Any]] | None = None
    locked: bool = False
    failed: bool = False


class SharedCache:
    """The team's answers and spend counters on one Redis or Valkey server."""

    def __init__(
        self,
        url: str,
        namespace: str,
        secret: bytes,
        *,
        ttl_s: int,
        timeout_s: float,
        max_entry_bytes: int,
        lock_ms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.namespace = namespace
        self.prefix = key_prefix(namespace)
        self.ttl_s = max(1, int(ttl_s))
        self.timeout_s = timeout_s
        self.max_entry_bytes = max_entry_bytes
        self.lock_ms = max(1, int(lock_ms))
        self.health = Health(url, clock)
        # Refusals and traffic since this process started (the engine persists the ones a
        # user should see in L1's counters).
        self.counts: Counter[str] = Counter()
        self._signer = Signer(secret, max_entry_bytes, self.counts)
        self._redis: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._module: Any = None
        self._tokens: dict[str, str] = {}  # lock key -> our token, while we hold it
        self._opening = False  # the next operation opens the client's connection

    # -- plumbing --------------------------------------------------------------------------------

    async def _client(self) -> Redis:
        """A client for the running event loop (a client is bound to the loop that made it)."""
        loop = asyncio.get_running_loop()
        if self._redis is not None and self._loop is loop:
            return self._redis
        if self._module is None:
            # redis-py takes ~0.1 s to import: never on the event loop, never inside a deadline.
            self._module = await asyncio.to_thread(_import_redis)
        asyncio_redis, retry, backoff = self._module
        self._redis = asyncio_redis.Redis.from_url(
            self.url,
            # Each operation's own deadline (asyncio.timeout in _run) is the real bound; the
            # socket's is only a backstop, long enough for `cache clear --shared`'s scan.
            socket_timeout=MAINTENANCE_TIMEOUT_S,
            socket_connect_timeout=MAINTENANCE_TIMEOUT_S,
            retry=retry(backoff(), 0),  # no retries: a failure is a miss, at once
            health_check_interval=0,
            decode_responses=False,
        )
        self._loop = loop
        self._opening = True
        return self._redis

    async def _run(
        self,
        what: str,
        op: Callable[[Redis], Awaitable[T]],
        *,
        timeout_s: float | None = None,
        maintenance: bool = False,
    ) -> T | _Failed:
        """Run one operation under its deadline; FAILED (never an exception) when it fails."""
        if not maintenance and not self.health.usable():
            return FAILED
        try:
            client = await self._client()
            deadline = timeout_s or self.timeout_s
            if self._opening:
                self._opening = False
                deadline = max(deadline, CONNECT_TIMEOUT_S)
            async with asyncio.timeout(deadline):
                result = await op(client)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # redis errors, OSError, TimeoutError, a bad reply
            self.counts["errors"] += 1
            self.health.failed(what, exc)
            return FAILED
        self.health.ok()
        return result

    async def aclose(self) -> None:
        """Close the client of the running loop (a client of a finished loop is dropped)."""
        client, self._redis = self._redis, None
        if client is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):  # a broken connection must not fail a run
                await client.aclose()

    # -- values ----------------------------------------------------------------------------------

    def encode(self, key: str, value: Mapping[str, Any]) -> bytes | None:
        """The stored form of an answer, or None when it is over the size cap."""
        return self._signer.encode(key, value)

    def decode(self, key: str, raw: object) -> dict[str, Any] | None:
        """The answer stored under `key`, or None (counted) for anything we did not sign."""
        return self._signer.decode(key, raw)

    def _first(
        self, keys: Sequence[str], raws: Sequence[object]
    ) -> tuple[str, dict[str, Any]] | None:
        for key, raw in zip(keys, raws, strict=True):
            if raw is None:
                continue
            value = self.decode(key, raw)
            if value is not None:
                return key, value
        return None

    def _check(self, keys: Sequence[str]) -> None:
        for key in keys:
            if not key.startswith(self.prefix):
                raise ValueError(f"{key!r} is outside this namespace ({self.prefix}*)")

    # -- answers ---------------------------------------------------------------------------------

    def lock_key(self, key: str) -> str:
        """The stampede lock of an answer's key."""
        self._check([key])
        return f"{self.prefix}lock:{key.rsplit(':', 1)[-1]}"

    async def lookup(self, keys: Sequence[str], *, lock: str | None = None) -> Lookup:
        """The first valid answer among `keys` (one MGET); on a miss, try to take `lock`."""
        self._check(keys)
        raws = await self._run("lookup", lambda r: r.mget(list(keys)))
        if isinstance(raws, _Failed):
            return Lookup(failed=True)
        hit = self._first(keys, raws)
        if hit is not None:
            self.counts["hits"] += 1
            return Lookup(hit=hit)
        self.counts["misses"] += 1
        if lock is None:
            return Lookup()
        return await self._take(lock)

    async def _take(self, lock: str) -> Lookup:
        """SET NX PX: the lock is ours when nobody holds it."""
        token = secrets.token_hex(16)
        taken = await self._run("lock", lambda r: r.set(lock, token, nx=True, px=self.lock_ms))
        if isinstance(taken, _Failed):
            return Lookup(failed=True)
        if taken:
            self._tokens[lock] = token
        return Lookup(locked=bool(taken))

    async def poll(self, keys: Sequence[str], lock: str) -> Lookup:
        """While waiting for a teammate: their answer, or the lock if they let it go."""
        self._check(keys)

        async def both(r: Redis) -> tuple[list[object], object]:
            async with r.pipeline(transaction=False) as pipe:
                pipe.mget(list(keys))
                pipe.exists(lock)
                raws, exists = await pipe.execute()
            return raws, exists

        found = await self._run("wait", both)
        if isinstance(found, _Failed):
            return Lookup(failed=True)
        raws, exists = found
        hit = self._first(keys, raws)
        if hit is not None:
            self.counts["hits"] += 1
            return Lookup(hit=hit)
        if exists:
            return Lookup()
        # The holder gave up (failed, cancelled, or its lock expired): take over, or wait on.
        return await self._take(lock)

    async def put(self, key: str, value: Mapping[str, Any], *, release: str | None = None) -> bool:
        """Store an answer (with its TTL), then release our lock; whether it was stored."""
        self._check([key])
        data = self.encode(key, value)
        if data is None:
            self.counts["not_shared_too_large"] += 1
            stored = False
        else:
            done = await self._run("store", lambda r: r.set(key, data, ex=self.ttl_s))
            stored = not isinstance(done, _Failed)
            if stored:
                self.counts["writes"] += 1
        if release is not None:
            await self.release(release)
        return stored

    async def release(self, lock: str) -> None:
        """Let go of a lock we hold (only if it is still ours)."""
        token = self._tokens.pop(lock, None)
        if token is None:
            return

        async def op(r: Redis) -> object:
            try:
                return await r.eval(_RELEASE, 1, lock, token)
            except Exception as exc:
                if type(exc).__name__ == "ResponseError":
                    return 0  # scripts refused (an ACL): the lock expires by itself
                raise

        await self._run("unlock", op)

    # -- team spend ------------------------------------------------------------------------------

    def spend_key(self, day: str) -> str:
        """The hash of one UTC day's spend counters."""
        return f"{self.prefix}spend:{day}"

    async def add_spend(self, day: str, amounts: Mapping[str, float]) -> dict[str, float] | None:
        """Add to a day's counters (and renew their TTL); the new totals, or None on failure."""
        key = self.spend_key(day)
        fields = list(amounts)

        async def op(r: Redis) -> list[object]:
            async with r.pipeline(transaction=True) as pipe:
                for field in fields:
                    pipe.hincrbyfloat(key, field, float(amounts[field]))
                pipe.expire(key, self.ttl_s)
                results: list[object] = await pipe.execute()
            return results

        done = await self._run("spend", op)
        if isinstance(done, _Failed):
            return None
        return {field: _number(value) for field, value in zip(fields, done, strict=False)}

    async def spend(self, day: str, *, maintenance: bool = False) -> dict[str, float] | None:
        """A day's counters (empty when nobody spent), or None when L2 did not answer."""
        key = self.spend_key(day)
        found = await self._run(
            "spend",
            lambda r: r.hgetall(key),
            maintenance=maintenance,
            timeout_s=MAINTENANCE_TIMEOUT_S if maintenance else None,
        )
        if isinstance(found, _Failed):
            return None
        assert isinstance(found, dict)
        return {_text(k): _number(v) for k, v in found.items()}

    # -- maintenance -----------------------------------------------------------------------------

    async def _scan(self, r: Redis) -> list[bytes]:
        found: list[bytes] = []
        async for key in r.scan_iter(match=self.prefix + "*", count=SCAN_COUNT):
            found.append(key)
        return found

    async def keys(self) -> list[str] | None:
        """Every key under our prefix (SCAN, never KEYS), or None when L2 did not answer."""
        found = await self._run(
            "scan", self._scan, timeout_s=MAINTENANCE_TIMEOUT_S * 6, maintenance=True
        )
        return None if isinstance(found, _Failed) else [_text(k) for k in found]

    async def clear(self) -> int | None:
        """UNLINK every key under our prefix (answers, locks, spend); the number removed, or None
        when L2 did not answer. Keys outside the prefix are never touched."""

        async def op(r: Redis) -> int:
            removed = 0
            batch: list[bytes] = []
            async for key in r.scan_iter(match=self.prefix + "*", count=SCAN_COUNT):
                if not _text(key).startswith(self.prefix):
                    continue  # a server that matched loosely: never touch a foreign key
                batch.append(key)
                if len(batch) >= SCAN_COUNT:
                    removed += int(await r.unlink(*batch))
                    batch = []
            if batch:
                removed += int(await r.unlink(*batch))
            return removed

        done = await self._run("clear", op, timeout_s=MAINTENANCE_TIMEOUT_S * 6, maintenance=True)
        return None if isinstance(done, _Failed) else done

    async def ping(self) -> float | str:
        """Round-trip seconds of a PING, or what went wrong (for doctor)."""
        started = time.perf_counter()
        done = await self._run(
            "ping", lambda r: r.ping(), timeout_s=MAINTENANCE_TIMEOUT_S, maintenance=True
        )
        if isinstance(done, _Failed):
            return self.health.last_error
        return time.perf_counter() - started


def _import_redis() -> tuple[Any, Any, Any]:
    import redis.asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.asyncio, Retry, NoBackoff


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _number(value: object) -> float:
    try:
        return float(_text(value))
    except ValueError:
        return 0.0
