"""Risk categories: each fires on realistic code and stays quiet on a near miss."""

from __future__ import annotations

import textwrap

import pytest

from tierwise.context.extract import extract
from tierwise.routing.signals import RISK_CATEGORIES, compute_signals


def risks(code: str, path: str = "snippet.py") -> dict[str, str]:
    """category -> evidence for the first function, method or class in the code."""
    source = textwrap.dedent(code).strip("\n") + "\n"
    lines = source.split("\n")
    marker = ("def ", "function ", "func ", "fn ", "class ")
    line = next(i for i, text in enumerate(lines) if text.lstrip().startswith(marker))
    signals = compute_signals(extract(path, source, line, 0))
    return {hit.category: hit.evidence for hit in signals.risks}


FIRES = [
    (
        "auth",
        """
        import jwt

        def current_user(token, key):
            claims = jwt.decode(token, key, algorithms=["HS256"])
            return claims["sub"]
        """,
        "snippet.py",
        "calls jwt.decode",
    ),
    (
        "auth",
        """
        def change_password(user, new_password):
            user.password_hash = make_hash(new_password)
        """,
        "snippet.py",
        "handles auth data (change_password)",
    ),
    (
        "crypto",
        """
        import hashlib

        def fingerprint(data: bytes) -> str:
            return hashlib.sha256(data).hexdigest()
        """,
        "snippet.py",
        "calls hashlib.sha256",
    ),
    (
        "payments",
        """
        import stripe

        def pay(customer, cents):
            return stripe.Charge.create(customer=customer, amount=cents, currency="eur")
        """,
        "snippet.py",
        "calls stripe.Charge.create",
    ),
    (
        "payments",
        """
        from decimal import Decimal

        def total_price(items):
            return sum((Decimal(i.price) for i in items), Decimal("0"))
        """,
        "snippet.py",
        "handles money (total_price with Decimal)",
    ),
    (
        "sql",
        """
        def find(cur, name):
            cur.execute(f"SELECT id, name FROM users WHERE name = '{name}'")
            return cur.fetchone()
        """,
        "snippet.py",
        "calls cur.execute",
    ),
    (
        "sql",
        """
        def cleanup_query(days):
            return "delete from sessions where age > %d" % days
        """,
        "snippet.py",
        "builds SQL",
    ),
    (
        "sql",
        """
        from alembic import op

        def upgrade():
            op.add_column("users", "email")
        """,
        "migrations/versions/001_email.py",
        "calls alembic.op.add_column",
    ),
    (
        "deletion",
        """
        import shutil

        def wipe(cache_dir):
            shutil.rmtree(cache_dir)
        """,
        "snippet.py",
        "calls shutil.rmtree",
    ),
    (
        "deletion",
        """
        def drop_old(db):
            db.run("DELETE FROM orders WHERE created < now() - interval '1 year'")
        """,
        "snippet.py",
        "runs DELETE FROM",
    ),
    (
        "exec",
        """
        from subprocess import run

        def build(target):
            return run(["make", target], check=True)
        """,
        "snippet.py",
        "calls subprocess.run",
    ),
    (
        "exec",
        """
        def calc(expression):
            return eval(expression)
        """,
        "snippet.py",
        "calls eval",
    ),
    (
        "concurrency",
        """
        import threading

        class Counter:
            def __init__(self):
                self._lock = threading.Lock()
                self.value = 0
        """,
        "snippet.py",
        "uses threading.Lock",
    ),
    (
        "exec",
        """
        const { exec } = require("child_process");

        function shell(cmd) {
          return exec(cmd);
        }
        """,
        "snippet.js",
        "calls child_process.exec",
    ),
    (
        "concurrency",
        """
        func fanOut(jobs []Job) {
            for _, j := range jobs {
                go run(j)
            }
        }
        """,
        "snippet.go",
        "starts goroutines",
    ),
    (
        "deletion",
        """
        use std::fs;

        fn clear(dir: &str) -> std::io::Result<()> {
            fs::remove_dir_all(dir)
        }
        """,
        "snippet.rs",
        "calls std::fs::remove_dir_all",
    ),
]


@pytest.mark.parametrize(("category", "code", "path", "evidence"), FIRES)
def test_risk_fires_with_readable_evidence(
    category: str, code: str, path: str, evidence: str
) -> None:
    found = risks(code, path)
    assert found.get(category) == evidence


NEAR_MISSES = [
    (
        "auth",
        """
        def author_line(author, tokenizer):
            return f"by {author.name} ({tokenizer.count(author.bio)} tokens)"
        """,
        "snippet.py",
    ),
    (
        "crypto",
        """
        def checksum(items):
            return hash(tuple(items)) % 1024
        """,
        "snippet.py",
    ),
    (
        "payments",
        """
        def format_price(value):
            return f"{value:.2f}"
        """,
        "snippet.py",
    ),
    (
        "payments",
        """
        def render(payload, display):
            return display.show(payload)
        """,
        "snippet.py",
    ),
    (
        "sql",
        """
        def prompt():
            return "Please select an option from the list, or update the settings."
        """,
        "snippet.py",
    ),
    (
        "deletion",
        """
        def evict(cache, key):
            \"\"\"Delete stale entries from the cache (DELETE FROM memory, so to speak).\"\"\"
            cache.pop(key, None)
        """,
        "snippet.py",
    ),
    (
        "deletion",
        """
        function forget(seen, id) {
          seen.delete(id);
          return seen.size;
        }
        """,
        "snippet.js",
    ),
    (
        "exec",
        """
        import re

        def words(text, cursor):
            cursor.execute("VACUUM")
            return re.compile(r"\\w+").findall(text)
        """,
        "snippet.py",
    ),
    (
        "exec",
        """
        function firstNumber(s) {
          const m = /\\d+/.exec(s);
          return m ? Number(m[0]) : null;
        }
        """,
        "snippet.js",
    ),
    (
        "concurrency",
        """
        def unlock_account(account, block_size=4096):
            account.locked = False
            return block_size
        """,
        "snippet.py",
    ),
]


@pytest.mark.parametrize(("category", "code", "path"), NEAR_MISSES)
def test_near_miss_does_not_fire(category: str, code: str, path: str) -> None:
    assert category not in risks(code, path)


def test_plain_code_has_no_risks_and_categories_are_ordered() -> None:
    assert risks("def add(a, b):\n    return a + b\n") == {}
    everything = """
        import jwt, hashlib, shutil, subprocess, threading, pickle, html

        def chaos(t, cur, path):
            jwt.decode(t, "k")
            hashlib.md5(b"x")
            cur.execute("DROP TABLE users")
            shutil.rmtree(path)
            shutil.copyfileobj(t, path)
            pickle.loads(t)
            subprocess.run(["ls"])
            threading.Thread(target=print).start()
            html.escape(t)
            return charge_card(t)
    """
    found = risks(everything)
    assert list(found) == list(RISK_CATEGORIES)
    assert found["deletion"] == "calls shutil.rmtree"


def test_a_definition_named_like_a_risky_call_is_that_call() -> None:
    """A copy of passlib's pure-Python `consteq` in a file without its original's imports
    (the cost replay's copies across files) is still a constant-time comparison."""
    found = risks(
        """
        def consteq(left, right):
            result = 0 if len(left) == len(right) else 1
            for l, r in zip(left, right):
                result |= ord(l) ^ ord(r)
            return result == 0
        """
    )
    assert found == {"crypto": "is named consteq (a crypto call)"}
