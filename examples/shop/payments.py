"""Card payments through Stripe, with amounts kept as Decimal."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import stripe

CURRENCY = "eur"
VAT = Decimal("0.19")


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def order_total(prices: list[Decimal], discount: Decimal = Decimal("0")) -> Decimal:
    subtotal = sum(prices, Decimal("0"))
    if discount > subtotal:
        discount = subtotal
    net = subtotal - discount
    return (net * (1 + VAT)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def charge_card(customer_id: str, amount: Decimal, idempotency_key: str) -> str:
    intent = stripe.PaymentIntent.create(
        amount=to_cents(amount),
        currency=CURRENCY,
        customer=customer_id,
        confirm=True,
        idempotency_key=idempotency_key,
    )
    if intent.status != "succeeded":
        raise RuntimeError(f"payment {intent.id} is {intent.status}")
    return intent.id


def refund(payment_id: str, amount: Decimal | None = None) -> str:
    params = {"payment_intent": payment_id}
    if amount is not None:
        params["amount"] = to_cents(amount)
    return stripe.Refund.create(**params).id


def format_price(value: float) -> str:
    return f"{value:.2f}"
