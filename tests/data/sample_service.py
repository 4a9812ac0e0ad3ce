"""User accounts: lookup, login and housekeeping."""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass

import jwt
from sqlalchemy import text

from .models import Account, AuditLog

log = logging.getLogger(__name__)
SECRET = "change-me"


@dataclass
class Settings:
    cache_dir: str
    token_ttl: int = 3600


def normalise_email(email: str) -> str:
    return email.strip().lower()


class AccountService:
    """Loads and updates accounts."""

    def __init__(self, db, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    @staticmethod
    def fingerprint(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    async def find(self, email: str, *, active: bool = True) -> Account | None:
        """Return the account for an email address, or None."""
        key = normalise_email(email)
        rows = self.db.execute(
            text("SELECT id, email FROM accounts WHERE email = :email"), {"email": key}
        )
        for row in rows:
            if active and not row.active:
                continue
            return Account.from_row(row)
        return None

    def decode_session(self, token: str) -> dict:
        def _claims(raw: str) -> dict:
            payload = jwt.decode(raw, SECRET, algorithms=["HS256"])
            if "sub" not in payload:
                raise ValueError("token without subject")
            return payload

        return _claims(token)

    def purge_cache(self) -> None:
        shutil.rmtree(self.settings.cache_dir, ignore_errors=True)
        AuditLog.record("cache purged")
        log.info("purged %s", self.settings.cache_dir)
