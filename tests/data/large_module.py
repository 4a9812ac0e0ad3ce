"""Order processing for the storefront: carts, pricing, persistence and fulfilment jobs.

This module is sample input for tierwise's routing benchmark; it is read, never executed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import stripe

from .config import Settings
from .events import publish

log = logging.getLogger(__name__)

TAX_RATES = {"DE": Decimal("0.19"), "FR": Decimal("0.20"), "GB": Decimal("0.20")}
FREE_SHIPPING_THRESHOLD = Decimal("50.00")
MAX_QUANTITY = 99


class OrderError(Exception):
    """Raised when an order cannot be placed or changed."""


@dataclass
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal

    @property
    def subtotal(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass
class Cart:
    customer_id: str
    country: str
    items: list[LineItem] = field(default_factory=list)
    coupon: str | None = None

    def add(self, sku: str, quantity: int, unit_price: Decimal) -> None:
        if quantity <= 0 or quantity > MAX_QUANTITY:
            raise OrderError(f"quantity must be between 1 and {MAX_QUANTITY}")
        for item in self.items:
            if item.sku == sku:
                item.quantity = min(item.quantity + quantity, MAX_QUANTITY)
                return
        self.items.append(LineItem(sku, quantity, unit_price))

    def remove(self, sku: str) -> None:
        self.items = [item for item in self.items if item.sku != sku]

    def is_empty(self) -> bool:
        return not self.items


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_price(value: Decimal, currency: str = "EUR") -> str:
    symbol = {"EUR": "€", "GBP": "£", "USD": "$"}.get(currency, currency + " ")
    return f"{symbol}{money(value):,}"


def slugify(text: str) -> str:
    return "-".join(text.lower().split())


def chunked(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def coupon_discount(cart: Cart, subtotal: Decimal) -> Decimal:
    """Discount for the cart's coupon code, never more than the subtotal."""
    if not cart.coupon:
        return Decimal("0")
    code = cart.coupon.upper()
    if code.startswith("PCT"):
        try:
            percent = int(code[3:])
        except ValueError:
            return Decimal("0")
        if 0 < percent <= 50:
            return money(subtotal * percent / 100)
    elif code.startswith("FLAT") and code[4:].isdigit():
        return min(Decimal(code[4:]), subtotal)
    return Decimal("0")


def price_cart(cart: Cart) -> dict[str, Decimal]:
    """Subtotal, discount, shipping, tax and total for a cart."""
    subtotal = sum((item.subtotal for item in cart.items), Decimal("0"))
    discount = coupon_discount(cart, subtotal)
    shipping = Decimal("0") if subtotal >= FREE_SHIPPING_THRESHOLD else Decimal("4.90")
    rate = TAX_RATES.get(cart.country, Decimal("0"))
    tax = money((subtotal - discount + shipping) * rate)
    total = money(subtotal - discount + shipping + tax)
    return {
        "subtotal": money(subtotal),
        "discount": discount,
        "shipping": shipping,
        "tax": tax,
        "total": total,
    }


class OrderRepository:
    """Stores orders in SQLite."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()

    def create_schema(self) -> None:
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS orders (
                id INTEGER PRIMARY KEY,
                customer_id TEXT NOT NULL,
                total_cents INTEGER NOT NULL,
                status TEXT NOT NULL,
                created_at TEXT NOT NULL
            );
            """
        )

    def insert(self, customer_id: str, total: Decimal) -> int:
        with self._lock:
            cursor = self.conn.execute(
                "INSERT INTO orders (customer_id, total_cents, status, created_at) "
                "VALUES (?, ?, 'pending', ?)",
                (customer_id, int(total * 100), datetime.now(UTC).isoformat()),
            )
            self.conn.commit()
            return int(cursor.lastrowid or 0)

    def find_by_customer(self, customer_id: str, status: str | None = None) -> list[dict]:
        query = f"SELECT id, total_cents, status FROM orders WHERE customer_id = '{customer_id}'"
        if status:
            query += f" AND status = '{status}'"
        rows = self.conn.execute(query).fetchall()
        return [{"id": r[0], "total_cents": r[1], "status": r[2]} for r in rows]

    def set_status(self, order_id: int, status: str) -> None:
        with self._lock:
            self.conn.execute("UPDATE orders SET status = ? WHERE id = ?", (status, order_id))
            self.conn.commit()

    def purge_before(self, cutoff: datetime) -> int:
        with self._lock:
            cursor = self.conn.execute(
                "DELETE FROM orders WHERE status = 'cancelled' AND created_at < ?",
                (cutoff.isoformat(),),
            )
            self.conn.commit()
            return cursor.rowcount


def charge_customer(customer_id: str, amount: Decimal, currency: str = "eur") -> str:
    """Charge the customer's default card and return the payment intent id."""
    intent = stripe.PaymentIntent.create(
        amount=int(money(amount) * 100),
        currency=currency,
        customer=customer_id,
        confirm=True,
        off_session=True,
    )
    if intent.status != "succeeded":
        raise OrderError(f"payment failed: {intent.status}")
    return intent.id


def place_order(repo: OrderRepository, cart: Cart) -> int:
    if cart.is_empty():
        raise OrderError("the cart is empty")
    prices = price_cart(cart)
    order_id = repo.insert(cart.customer_id, prices["total"])
    try:
        charge_customer(cart.customer_id, prices["total"])
    except Exception:
        repo.set_status(order_id, "payment_failed")
        raise
    repo.set_status(order_id, "paid")
    publish("order.paid", {"order_id": order_id, "total": str(prices["total"])})
    return order_id


def summarise(orders: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for order in orders:
        counts[order["status"]] += 1
    return dict(counts)


class FulfilmentWorker:
    """Ships paid orders in the background."""

    def __init__(self, repo: OrderRepository, settings: Settings) -> None:
        self.repo = repo
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            for order in self.repo.find_by_customer("*", status="paid"):
                try:
                    self.ship(order)
                except subprocess.CalledProcessError as exc:
                    log.warning("shipping order %s failed: %s", order["id"], exc)
                    if exc.returncode == 2:
                        self.repo.set_status(order["id"], "needs_attention")
            self._stop.wait(self.settings.poll_seconds)

    def ship(self, order: dict) -> None:
        label = self.settings.label_dir / f"order-{order['id']}.pdf"
        subprocess.run(
            [self.settings.label_tool, "--order", str(order["id"]), "--out", str(label)],
            check=True,
            timeout=60,
        )
        self.repo.set_status(order["id"], "shipped")


def export_orders(orders: list[dict], path: Path) -> None:
    data = [{**order, "exported_at": datetime.now(UTC).isoformat()} for order in orders]
    path.write_text(json.dumps(data, indent=2))


def stale_carts(carts: list[Cart], last_seen: dict[str, datetime], days: int = 7) -> list[Cart]:
    cutoff = datetime.now(UTC) - timedelta(days=days)
    return [c for c in carts if last_seen.get(c.customer_id, cutoff) < cutoff and not c.is_empty()]


def parse_sku(raw: str) -> tuple[str, int]:
    family, _, size = raw.partition("-")
    return family.upper(), int(size or 0)


def is_valid_country(code: str) -> bool:
    return len(code) == 2 and code.isalpha() and code.upper() in TAX_RATES


def cheapest_item(cart: Cart) -> LineItem | None:
    if not cart.items:
        return None
    return min(cart.items, key=lambda item: item.unit_price)


def merge_carts(primary: Cart, secondary: Cart) -> Cart:
    merged = Cart(primary.customer_id, primary.country, list(primary.items), primary.coupon)
    for item in secondary.items:
        merged.add(item.sku, item.quantity, item.unit_price)
    if merged.coupon is None:
        merged.coupon = secondary.coupon
    return merged


def order_report(repo: OrderRepository, customer_ids: list[str]) -> str:
    lines = ["customer,orders,paid"]
    for customer_id in sorted(customer_ids):
        orders = repo.find_by_customer(customer_id)
        counts = summarise(orders)
        lines.append(f"{customer_id},{len(orders)},{counts.get('paid', 0)}")
    return "\n".join(lines)


def rotate_logs(directory: Path, keep: int = 5) -> list[Path]:
    logs = sorted(directory.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for old in logs[keep:]:
        old.unlink()
        removed.append(old)
    return removed
