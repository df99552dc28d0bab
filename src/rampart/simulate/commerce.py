"""Orders and their life: payment, fulfilment, reviews, refunds, and the chat around them.

Attack code calls the same functions with different knobs (an empty parcel is just a
fulfilment with a tiny ``weight_g``), so abusive orders are shaped exactly like real ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from rampart.simulate.catalog import DIGITAL, Coupon, Item
from rampart.simulate.clock import DAY, HOUR, MIN, SEC, fmt_ts, yymmdd
from rampart.simulate.emit import Actor, Event
from rampart.simulate.ids import IdFactory
from rampart.simulate.market import Market
from rampart.simulate.places import COUNTRIES, money
from rampart.simulate.population import User
from rampart.simulate.text import order_answer, order_question, price_text, review_text

_DECLINES = (
    ("insufficient_funds", 40),
    ("do_not_honor", 25),
    ("authentication_failed", 20),
    ("expired_card", 8),
    ("incorrect_cvc", 7),
)
_DECLINE_CODES = tuple(code for code, _ in _DECLINES)
_DECLINE_W = tuple(float(w) for _, w in _DECLINES)
_RATINGS = (1, 2, 3, 4, 5)
_RATING_W = (4, 3, 7, 19, 67)


@dataclass(slots=True)
class Line:
    item: Item
    qty: int
    price: float


@dataclass(slots=True, eq=False)
class Order:
    order_id: str
    buyer: User
    seller: User
    lines: list[Line]
    total: float
    currency: str
    t: int
    paid: bool = False
    payment: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)

    def keep(self, ev: Event | None) -> Event | None:
        if ev is not None:
            self.events.append(ev)
        return ev


def checkout(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    buyer: User,
    actor: Actor,
    t: int,
    lines: list[Line],
    *,
    coupons: list[Coupon] | None = None,
    extra_discount: float = 0.0,
    address: dict[str, str] | None = None,
    payment: dict[str, Any] | None = None,
    decline_p: float = 0.06,
    pay_delay_ms: int | None = None,
    retries: bool = True,
) -> Order:
    """order.created, then payment attempts (declines, retries, another card, or giving up)."""
    seller = lines[0].item.seller
    currency = COUNTRIES[seller.country].currency
    subtotal = sum(line.price * line.qty for line in lines)
    discount = extra_discount + sum(c.value for c in coupons or ())
    discount = money(min(discount, subtotal), currency)
    total = money(subtotal - discount, currency)
    payment = payment or rng.choice(buyer.instruments)
    order = Order(ids.order(yymmdd(t)), buyer, seller, lines, total, currency, t, payment=payment)
    props: dict[str, Any] = {
        "order_id": order.order_id,
        "seller_id": seller.uid,
        "items": [
            {
                "item_id": ln.item.item_id,
                "quantity": ln.qty,
                "unit_price": ln.price,
                "list_price": max(ln.item.list_price, ln.price),
                "category": ln.item.category,
            }
            for ln in lines
        ],
        "total": total,
        "currency": currency,
        "discount": discount,
        "coupon_ids": [c.coupon_id for c in coupons or ()],
        "shipping_address": address or buyer.address,
        "payment": payment,
    }
    order.keep(m.em.emit("order.created", t, actor, props))
    if payment["method"] == "cod":
        order.paid = True
        return order
    t += pay_delay_ms if pay_delay_ms is not None else rng.randint(4 * SEC, 50 * SEC)
    tries = 0
    while True:
        tries += 1
        ok = rng.random() >= decline_p * (0.5 if tries > 1 else 1.0)
        p: dict[str, Any] = {
            "order_id": order.order_id,
            "amount": total,
            "currency": currency,
            "success": ok,
            "payment": payment,
        }
        if not ok:
            p["decline_code"] = rng.choices(_DECLINE_CODES, _DECLINE_W)[0]
        order.keep(m.em.emit("payment.attempt", t, actor, p))
        if ok:
            order.paid = True
            order.payment = payment
            return order
        if not retries or tries >= 3 or rng.random() < 0.15:
            break
        if len(buyer.instruments) > 1 and rng.random() < 0.4:
            payment = rng.choice([i for i in buyer.instruments if i is not payment])
            if payment["method"] == "cod":
                order.paid = True
                return order
        t += rng.randint(20 * SEC, 4 * MIN)
    order.keep(
        m.em.emit_system(
            "order.cancelled",
            t + rng.randint(15, 40) * MIN,
            buyer.uid,
            {"order_id": order.order_id, "reason": "payment_failed", "by": "system"},
        )
    )
    return order


def parcel_weight(rng: random.Random, order: Order) -> int:
    if all(ln.item.cat == DIGITAL for ln in order.lines):
        return 0
    goods = sum(ln.item.weight_g * ln.qty for ln in order.lines)
    return int(goods * rng.uniform(0.95, 1.1)) + rng.randint(30, 160)


def fulfil(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    order: Order,
    *,
    ship_h: tuple[float, float] = (6, 48),
    transit_h: tuple[float, float] = (14, 80),
    weight_g: int | None = None,
    delivered: bool | None = None,
) -> tuple[Event | None, int, bool]:
    """order.fulfilled at the moment the carrier's final status is known."""
    digital = weight_g is None and all(ln.item.cat == DIGITAL for ln in order.lines)
    if digital:
        done = order.t + rng.randint(20 * SEC, 3 * MIN)
        props: dict[str, Any] = {
            "order_id": order.order_id,
            "weight_g": 0,
            "delivered": True,
            "delivered_ts": fmt_ts(done),
        }
        return (
            order.keep(m.em.emit_system("order.fulfilled", done, order.buyer.uid, props)),
            done,
            True,
        )
    ship = order.t + int(rng.uniform(*ship_h) * HOUR)
    ok = delivered if delivered is not None else rng.random() >= 0.025
    carrier, prefix, digits, suffix = rng.choice(COUNTRIES[order.seller.country].couriers)
    props = {
        "order_id": order.order_id,
        "carrier": carrier,
        "tracking_id": ids.tracking(prefix, digits, suffix),
        "weight_g": weight_g if weight_g is not None else parcel_weight(rng, order),
        "delivered": ok,
    }
    if ok:
        done = ship + int(rng.uniform(*transit_h) * HOUR)
        props["delivered_ts"] = fmt_ts(done)
        ts = done + rng.randint(1, 25) * MIN
    else:
        done = ship + int(rng.uniform(5, 8) * DAY)  # returned to sender
        ts = done
    return order.keep(m.em.emit_system("order.fulfilled", ts, order.buyer.uid, props)), done, ok


def review(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    order: Order,
    t: int,
    rating: int,
    text: str | None,
    actor: Actor | None = None,
) -> Event | None:
    actor = actor or m.actor(rng, ids, order.buyer, t)
    line = order.lines[0]
    props: dict[str, Any] = {
        "order_id": order.order_id,
        "item_id": line.item.item_id,
        "seller_id": order.seller.uid,
        "rating": rating,
    }
    if text:
        props["text"] = text
    return order.keep(m.em.emit("review.posted", t, actor, props))


def refund(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    order: Order,
    t: int,
    reason: str,
    actor: Actor | None = None,
) -> Event | None:
    actor = actor or m.actor(rng, ids, order.buyer, t)
    props = {"order_id": order.order_id, "amount": order.total, "reason": reason}
    return order.keep(m.em.emit("refund.requested", t, actor, props))


def message(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    sender: User,
    recipient: User,
    t: int,
    text: str,
    actor: Actor | None = None,
) -> Event | None:
    actor = actor or m.actor(rng, ids, sender, t)
    props = {
        "conversation_id": m.conversation(ids, sender.uid, recipient.uid),
        "recipient_id": recipient.uid,
        "text": text,
    }
    return m.em.emit("message.sent", t, actor, props)


def order_chat(m: Market, rng: random.Random, ids: IdFactory, order: Order, tracking: str) -> None:
    """A buyer chasing an order and the seller answering, digits everywhere."""
    ctx = {
        "order": order.order_id,
        "tracking": tracking,
        "price": price_text(order.total, order.currency),
        "carrier": "courier",
        "postcode": order.buyer.address.get("postcode", ""),
    }
    t = order.t + int(rng.uniform(6, 50) * HOUR)
    message(m, rng, ids, order.buyer, order.seller, t, order_question(rng, ctx))
    if rng.random() < 0.8:
        t += int(rng.expovariate(1 / 90) * MIN) + MIN
        message(m, rng, ids, order.seller, order.buyer, t, order_answer(rng, ctx))


def aftermath(m: Market, rng: random.Random, ids: IdFactory, order: Order) -> None:
    """What happens to an ordinary paid order: cancellation, delivery, reviews, refunds."""
    buyer = order.buyer
    r = rng.random()
    if r < 0.02:
        m.em.emit_system(
            "order.cancelled",
            order.t + rng.randint(5, 300) * MIN,
            buyer.uid,
            {
                "order_id": order.order_id,
                "reason": rng.choice(("changed_mind", "found_cheaper", "wrong_address")),
                "by": "buyer",
            },
        )
        return
    if r < 0.03:
        m.em.emit_system(
            "order.cancelled",
            order.t + rng.randint(2, 30) * HOUR,
            buyer.uid,
            {"order_id": order.order_id, "reason": "out_of_stock", "by": "seller"},
        )
        return
    ev, done, ok = fulfil(m, rng, ids, order)
    if rng.random() < 0.06:
        tracking = str(ev["props"].get("tracking_id", order.order_id)) if ev else order.order_id
        order_chat(m, rng, ids, order, tracking)
    if not ok:
        if rng.random() < 0.6:
            refund(m, rng, ids, order, done + int(rng.uniform(2, 30) * HOUR), "not_received")
        return
    x = rng.random()
    if x < 0.012:
        refund(m, rng, ids, order, done + int(rng.uniform(1, 72) * HOUR), "damaged")
    elif x < 0.022:
        refund(m, rng, ids, order, done + int(rng.uniform(1, 96) * HOUR), "not_as_described")
    elif x < 0.027:
        refund(m, rng, ids, order, done + int(rng.uniform(1, 48) * HOUR), "changed_mind")
    if rng.random() < 0.32:
        rating = rng.choices(_RATINGS, _RATING_W)[0]
        text = review_text(rng, rating, buyer.country) if rng.random() < 0.8 else None
        review(
            m, rng, ids, order, done + int(rng.expovariate(1 / 40) * HOUR) + 20 * MIN, rating, text
        )
