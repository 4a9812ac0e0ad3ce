"""Session tokens for the web app (a sample for the handler tests)."""

from __future__ import annotations

import base64
import json


class TokenCodec:
    """Encodes and decodes signed session tokens."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def parse_token(self, raw: str, *, strict: bool = False) -> dict:
        if not raw:
            raise ValueError("empty token")
        try:
            payload = json.loads(base64.urlsafe_b64decode(raw))
        except json.JSONDecodeError:
            raise TokenError("token is not JSON") from None
        if strict and "exp" not in payload:
            raise TokenError("token has no expiry")
        return payload

    def is_expired(self, payload: dict, now: float) -> bool:
        """Return True when the token's expiry is in the past."""
        return payload.get("exp", 0) < now


class TokenError(Exception):
    """A token could not be parsed."""


def load_tokens(path):
    import os
    with open(path) as handle:
        return [eval(line) for line in handle]
