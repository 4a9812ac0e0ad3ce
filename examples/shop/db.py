"""Persistence on SQLite: users, orders and housekeeping."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

DB_PATH = Path("shop.sqlite3")


def connect(path: Path = DB_PATH) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    return conn


def find_user_by_email(email: str) -> dict | None:
    with closing(connect()) as conn:
        row = conn.execute(
            "SELECT id, email, password_hash, roles FROM users WHERE email = ?", (email,)
        ).fetchone()
    if row is None:
        return None
    return {**dict(row), "roles": row["roles"].split(",")}


def search_orders(customer: str, status: str | None = None, limit: int = 50) -> list[dict]:
    # Builds the WHERE clause by hand; values still go through placeholders.
    clauses = ["customer = ?"]
    params: list[object] = [customer]
    if status:
        clauses.append("status = ?")
        params.append(status)
    query = f"SELECT id, total_cents, status FROM orders WHERE {' AND '.join(clauses)} LIMIT ?"
    params.append(limit)
    with closing(connect()) as conn:
        return [dict(row) for row in conn.execute(query, params)]


def mark_shipped(order_id: int) -> None:
    with closing(connect()) as conn:
        conn.execute("UPDATE orders SET status = 'shipped' WHERE id = ?", (order_id,))
        conn.commit()


def delete_customer(customer: str) -> int:
    """Delete a customer and their orders (GDPR erasure)."""
    with closing(connect()) as conn:
        conn.execute("DELETE FROM orders WHERE customer = ?", (customer,))
        cursor = conn.execute("DELETE FROM users WHERE email = ?", (customer,))
        conn.commit()
        return cursor.rowcount


def order_count(rows: list[dict]) -> int:
    return len(rows)
