"""Login, password hashing and session tokens."""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import UTC, datetime, timedelta

import jwt

from .db import find_user_by_email

SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "dev-only")
TOKEN_TTL = timedelta(hours=12)


class AuthError(Exception):
    """Raised when credentials or a token are not valid."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """Hash a password with PBKDF2; the salt is stored in front of the digest."""
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)
    return salt.hex() + ":" + digest.hex()


def verify_password(password: str, stored: str) -> bool:
    salt_hex, _, digest_hex = stored.partition(":")
    candidate = hash_password(password, bytes.fromhex(salt_hex)).partition(":")[2]
    return hmac.compare_digest(candidate, digest_hex)


def issue_token(user_id: int, roles: list[str]) -> str:
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "roles": roles, "iat": now, "exp": now + TOKEN_TTL}
    return jwt.encode(claims, SECRET_KEY, algorithm="HS256")


def decode_token(token: str) -> dict:
    try:
        claims = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("session expired, please log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError("invalid session token") from exc
    if "sub" not in claims:
        raise AuthError("token has no subject")
    return claims


def login(email: str, password: str) -> str:
    user = find_user_by_email(email.strip().lower())
    if user is None or not verify_password(password, user["password_hash"]):
        raise AuthError("wrong email or password")
    return issue_token(user["id"], user["roles"])


def require_role(claims: dict, role: str) -> None:
    if role not in claims.get("roles", []):
        raise AuthError(f"this action needs the {role!r} role")


def author_display_name(first: str, last: str) -> str:
    return f"{first} {last[:1]}."
