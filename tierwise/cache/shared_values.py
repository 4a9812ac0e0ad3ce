"""L2 values and L2 health: the signed JSON envelope every shared answer is stored in, and the
one warning per outage.

An answer is stored as `{"body": "<the answer as JSON>", "mac": "<hex>"}`; the MAC is an
HMAC-SHA256 under the team secret over a context string, the key and the body, so a value
cannot be planted for a key, or copied from one key (or namespace) to another, without the
secret. Anything else (a pickle, other JSON, a wrong MAC, more than the size cap) is refused,
counted, and never decoded further: JSON is the only format ever parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

# Seconds L2 is left alone after a failure before the next operation tries it again.
RETRY_AFTER_S = 2.0
# A server that fails again within this long of the last warning is the same trouble to the
# user (a flapping link, a server answering some commands during a pause): no second warning.
QUIET_S = 60.0
_MAC_CONTEXT = b"tierwise-l2-v1"


class Signer:
    """Encodes answers into signed envelopes and checks them on the way back."""

    def __init__(self, secret: bytes, max_entry_bytes: int, counts: Counter[str]) -> None:
        self.secret = secret
        self.max_entry_bytes = max_entry_bytes
        self.counts = counts  # refusals are counted here (the shared cache's counters)

    def _mac(self, key: str, body: bytes) -> str:
        message = b"\x00".join((_MAC_CONTEXT, key.encode("utf-8"), body))
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def encode(self, key: str, value: Mapping[str, Any]) -> bytes | None:
        """The stored form of an answer, or None when it is over the size cap."""
        body = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        envelope = {"body": body, "mac": self._mac(key, body.encode("utf-8"))}
        data = json.dumps(envelope, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        return data if len(data) <= self.max_entry_bytes else None

    def decode(self, key: str, raw: object) -> dict[str, Any] | None:
        """The answer stored under `key`, or None (counted) for anything we did not sign."""
        if not isinstance(raw, bytes):
            return None
        if len(raw) > self.max_entry_bytes:
            self.counts["too_large"] += 1
            return None
        try:
            envelope = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            self.counts["invalid"] += 1  # a pickle, or other bytes: never decoded further
            return None
        if not (
            isinstance(envelope, dict)
            and isinstance(envelope.get("body"), str)
            and isinstance(envelope.get("mac"), str)
        ):
            self.counts["invalid"] += 1
            return None
        body = envelope["body"].encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(envelope["mac"], self._mac(key, body)):
            self.counts["mac_failures"] += 1
            return None
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            self.counts["invalid"] += 1
            return None
        if not isinstance(value, dict):
            self.counts["invalid"] += 1
            return None
        return value


def safe_url(url: str) -> str:
    """The URL as it may be printed: user and password removed."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@attrs.define
class Health:
    """Whether L2 answers, with one warning per outage (not one per request, and not one per
    flap of a server that fails again soon after it answered)."""

    url: str
    clock: Callable[[], float] = time.monotonic
    down_since: float | None = None
    retry_at: float = 0.0
    outages: int = 0
    last_error: str = ""
    warnings: list[str] = attrs.field(factory=list)
    warned_at: float | None = None

    @property
    def down(self) -> bool:
        """Whether the last operation failed."""
        return self.down_since is not None

    def usable(self) -> bool:
        """Up, or down long enough that the next operation may try again."""
        return self.down_since is None or self.clock() >= self.retry_at

    def failed(self, what: str, exc: BaseException) -> None:
        """An operation failed: the first failure of an outage leaves one warning."""
        now = self.clock()
        self.last_error = _describe(exc)
        self.retry_at = now + RETRY_AFTER_S
        if self.down_since is None:
            self.down_since = now
            self.outages += 1
            if self.warned_at is not None and now - self.warned_at < QUIET_S:
                return
            self.warned_at = now
            self.warnings.append(
                f"the shared cache at {safe_url(self.url)} did not answer ({what}: "
                f"{self.last_error}): going on with the local cache and the models; "
                f"trying it again every {RETRY_AFTER_S:.0f} s"
            )

    def ok(self) -> None:
        """An operation succeeded: an outage, if any, is over."""
        self.down_since = None

    def take_warnings(self) -> list[str]:
        """Warnings not yet shown, each handed out once."""
        out, self.warnings = self.warnings, []
        return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer within the deadline"
    text = str(exc).strip() or type(exc).__name__
    return text[:200]
